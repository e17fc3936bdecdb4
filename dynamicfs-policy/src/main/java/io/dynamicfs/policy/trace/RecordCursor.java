package io.dynamicfs.policy.trace;

/**
 * A {@link TraceReader} whose accesses each carry their own time, key, size and write flag (a mount's
 * recorded accesses, from its ring log or a {@code .dfstrace} file): {@link #next} fills the fields, the
 * getters read them.
 */
public abstract class RecordCursor implements TraceReader {
  private final String name;
  protected long time;
  protected long key;
  protected int bytes;
  protected boolean write;

  protected RecordCursor(String name) {
    this.name = name;
  }

  @Override
  public final long time() {
    return time;
  }

  @Override
  public final long key() {
    return key;
  }

  @Override
  public final int bytes() {
    return bytes;
  }

  @Override
  public final boolean write() {
    return write;
  }

  @Override
  public final String name() {
    return name;
  }
}
