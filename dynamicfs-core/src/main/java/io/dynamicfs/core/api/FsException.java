package io.dynamicfs.core.api;

import java.io.IOException;

/** The one error type of the engine: an {@link Errno} and a message for the log. */
public class FsException extends IOException {
  private static final long serialVersionUID = 1L;
  private final Errno errno;
  private final String detail;

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

  public Errno errno() {
    return errno;
  }

  /** The message without the errno in front: what a command prints for a person. */
  public String detail() {
    return detail;
  }

  public static FsException of(Errno errno, String format, Object... args) {
    return new FsException(errno, String.format(format, args));
  }
}
