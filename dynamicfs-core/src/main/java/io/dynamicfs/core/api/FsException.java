package io.dynamicfs.core.api;

import java.io.IOException;

/** The one error type of the engine: an {@link Errno} and a message for the log. */
public class FsException extends IOException {
  private static final long serialVersionUID = 1L;
  private final Errno errno;

  public FsException(Errno errno, String message) {
    super(errno + ": " + message);
    this.errno = errno;
  }

  public FsException(Errno errno, String message, Throwable cause) {
    super(errno + ": " + message, cause);
    this.errno = errno;
  }

  public Errno errno() {
    return errno;
  }

  public static FsException of(Errno errno, String format, Object... args) {
    return new FsException(errno, String.format(format, args));
  }
}
