package io.dynamicfs.core.api;

/** Who asks: the uid, gid and pid of the process behind a request. */
public record Caller(int uid, int gid, int pid) {
  public static final Caller ROOT = new Caller(0, 0, 0);

  public boolean isRoot() {
    return uid == 0;
  }
}
