package io.dynamicfs.cli.admin;

/** An admin request that failed with an HTTP status and a one-line reason. */
public final class AdminException extends Exception {
  private static final long serialVersionUID = 1L;
  private final int status;

  public AdminException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The HTTP status (0 when the daemon could not be reached at all). */
  public int status() {
    return status;
  }
}
