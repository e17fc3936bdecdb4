package io.dynamicfs.cli;

import ch.qos.logback.classic.LoggerContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import jnr.ffi.LibraryLoader;
import org.slf4j.LoggerFactory;

/**
 * A background daemon's stdout and stderr, sent to {@code LOGDIR/console.out} once it knows its log
 * directory. Before this the {@link Daemonizer}'s child wrote them to a temporary file its parent deleted
 * once the child was up: what the JVM itself prints on the way out (a {@code -XX:+ExitOnOutOfMemoryError}
 * exit's "Terminating due to java.lang.OutOfMemoryError", a crash's summary) was lost, and a node that died
 * of it left no trace in its logs (found in session 21 only by running nodes attached), while anything
 * printed there kept filling a file no one could see or remove.
 *
 * <p>The descriptors themselves are replaced ({@code dup2} on 1 and 2), so the JVM's native writes land
 * there too, not only {@link System#err}. Log events do not: a background daemon logs to its rolling file
 * alone (the console appender is detached), so the console file holds only what bypasses logging and stays
 * small; it is still moved to {@code console.out.1} at a start when it has grown past {@link #ROTATE_AT}.
 */
final class DaemonConsole {
  static final String FILE = "console.out";
  static final long ROTATE_AT = 1 << 20;
  private static final int O_WRONLY = 01;
  private static final int O_CREAT = 0100;
  private static final int O_APPEND = 02000;
  private static final int O_CLOEXEC = 02000000;

  /** The libc calls used, bound with jnr-ffi (on the class path for the FUSE binding). */
  public interface LibC {
    int open(String path, int flags, int mode);

    int dup2(int from, int to);

    int close(int fd);
  }

  private DaemonConsole() {}

  /**
   * {@link #capture} for a background child (one started with a ready file); a failure is logged as a
   * warning and the daemon goes on with the output it was given.
   */
  static void captureInBackground(Path readyFile, Path logDir) {
    if (readyFile == null) {
      return;
    }
    try {
      capture(logDir);
    } catch (IOException e) {
      LoggerFactory.getLogger(DaemonConsole.class).atWarn().addKeyValue("error", e.getMessage())
          .log("the daemon's stdout and stderr stay where its parent sent them");
    }
  }

  /**
   * Points this process's stdout and stderr at {@code logDir}/{@value #FILE} (appending, after a line
   * naming this start) and stops logging to the console. Throws when the file cannot be opened or the
   * descriptors replaced; {@link #captureInBackground} logs it.
   */
  static Path capture(Path logDir) throws IOException {
    Path file = logDir.resolve(FILE);
    if (Files.exists(file) && Files.size(file) > ROTATE_AT) {
      Files.move(file, logDir.resolve(FILE + ".1"), StandardCopyOption.REPLACE_EXISTING);
    }
    Files.writeString(file, Instant.now() + " pid " + ProcessHandle.current().pid() + " started; stdout and stderr"
        + " of this daemon follow (its log is dynamicfs.log)\n", StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    System.out.flush();
    System.err.flush();
    LibC c;
    try {
      c = LibraryLoader.create(LibC.class).failImmediately().load("c");
    } catch (LinkageError | RuntimeException e) {
      throw new IOException("cannot bind libc to redirect the daemon's output: " + e.getMessage(), e);
    }
    int fd = c.open(file.toString(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      throw new IOException("cannot open " + file + " for the daemon's output");
    }
    try {
      if (c.dup2(fd, 1) < 0 || c.dup2(fd, 2) < 0) {
        throw new IOException("cannot point the daemon's stdout and stderr at " + file);
      }
    } finally {
      c.close(fd);
    }
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(Logging.STDERR_APPENDER);
    return file;
  }
}
