package io.dynamicfs.core.api;

/**
 * The attribute changes of one setattr call; null means "unchanged". {@code mode} holds permission
 * bits only (07777). A uid or gid of -1 is treated as unchanged, as chown(2) does.
 */
public record SetAttr(Integer mode, Integer uid, Integer gid, Long size, TimeSpec atime, TimeSpec mtime) {
  public static SetAttr chmod(int mode) {
    return new SetAttr(mode, null, null, null, null, null);
  }

  public static SetAttr chown(int uid, int gid) {
    return new SetAttr(null, uid == -1 ? null : uid, gid == -1 ? null : gid, null, null, null);
  }

  public static SetAttr truncate(long size) {
    return new SetAttr(null, null, null, size, null, null);
  }

  public static SetAttr times(TimeSpec atime, TimeSpec mtime) {
    return new SetAttr(null, null, null, null, atime, mtime);
  }
}
