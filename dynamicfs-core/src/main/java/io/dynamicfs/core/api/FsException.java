package io.dynamicfs.core.api;

import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;

/** The one error type of the engine: an {@link Errno} and a message for the log. */
public class FsException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * Errors that are the answer to a question more than a failure (a lookup of a name that is not there, a
   * getxattr of an attribute a file lacks, an exclusive create of a name that exists). The kernel asks such
   * questions at every create and write, so {@link #of} makes them without a stack trace and formats their
   * message only when someone reads it.
   */
  private static final Set<Errno> ANSWERS = EnumSet.of(Errno.ENOENT, Errno.ENODATA, Errno.EEXIST);

  private final Errno errno;
  private transient String format;
  private transient Object[] args;
  private String detail;

  public FsException(Errno errno, String message) {
    super(errno + ": " + message);
    this.errno = errno;
    this.detail = message;
  }

  public FsException(Errno errno, String message, Throwable cause) {
    super(errno + ": " + message, cause);
    this.errno = errno;
    this.detail = message;
  }

  private FsException(Errno errno, String format, Object[] args) {
    super((String) null);
    this.errno = errno;
    this.format = format;
    this.args = args;
  }

  public Errno errno() {
    return errno;
  }

  /** The message without the errno in front: what a command prints for a person. */
  public String detail() {
    String d = detail;
    if (d == null) {
      d = format == null ? "" : String.format(format, args);
      detail = d;
    }
    return d;
  }

  @Override
  public String getMessage() {
    return format == null ? super.getMessage() : errno + ": " + detail();
  }

  public static FsException of(Errno errno, String format, Object... args) {
    return ANSWERS.contains(errno) ? new Answer(errno, format, args)
        : new FsException(errno, String.format(format, args));
  }

  /** An {@link #ANSWERS} error: no stack trace, message formatted when read. */
  private static final class Answer extends FsException {
    private static final long serialVersionUID = 1L;

    Answer(Errno errno, String format, Object[] args) {
      super(errno, format, args);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
