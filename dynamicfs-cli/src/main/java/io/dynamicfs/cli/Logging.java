package io.dynamicfs.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.slf4j.LoggerFactory;

/**
 * The daemon's logs: a rolling file under DATA/logs (10 MiB × 5 by size) and, in an attached foreground
 * mount, stderr.
 *
 * <p>JSON lines come from logstash-logback-encoder, one object per event: {@code timestamp}, {@code level},
 * {@code logger}, {@code thread}, {@code message}, {@code stack_trace} when there is one, and every SLF4J 2
 * key-value pair ({@code log.atInfo().addKeyValue("ino", ino)}) as a top-level field of its own type.
 * The stable keys the engine uses are listed in docs/operations.md ({@code op}, {@code path}, {@code ino},
 * {@code bytes}, {@code latency_ms}, {@code device}, {@code node}, {@code error}…). Text lines are the
 * classic pattern followed by the same pairs as {@code key="value"}.
 */
public final class Logging {
  static final String FILE_APPENDER = "FILE";
  static final String STDERR_APPENDER = "STDERR";
  static final String TEXT_PATTERN = "%d{ISO8601} %-5level [%thread] %logger{36} - %msg %kvp%n";

  /** How lines are written. */
  enum Format { JSON, TEXT }

  private Logging() {}

  /**
   * A daemon's logging (a mount's, a node's): {@code logDir}/dynamicfs.log in the chosen format; when it is
   * attached ({@code readyFile} null) stderr gets every line too, and when it is a background child its
   * stdout and stderr go to {@code logDir}/console.out ({@link DaemonConsole}).
   */
  static void configureDaemon(Path logDir, OperationsOptions ops, Path readyFile) {
    configure(logDir.resolve("dynamicfs.log"), ops.fileFormat(), ops.logLevel,
        readyFile == null ? ops.stderrFormat() : null);
    DaemonConsole.captureInBackground(readyFile, logDir);
  }

  /**
   * Sends the root logger at {@code level} to {@code file} in {@code fileFormat}; when {@code stderrFormat}
   * is non-null, stderr gets every event at that level too (instead of warnings only).
   */
  public static void configure(Path file, Format fileFormat, Level level, Format stderrFormat) {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(rollingFile(ctx, file, fileFormat));
    if (stderrFormat != null) {
      root.detachAppender(STDERR_APPENDER);
      ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
      console.setTarget("System.err");
      root.addAppender(start(ctx, console, STDERR_APPENDER, encoder(ctx, stderrFormat)));
    }
    root.setLevel(level);
  }

  static RollingFileAppender<ILoggingEvent> rollingFile(LoggerContext ctx, Path file, Format format) {
    RollingFileAppender<ILoggingEvent> app = new RollingFileAppender<>();
    app.setContext(ctx);
    app.setFile(file.toString());
    FixedWindowRollingPolicy roll = new FixedWindowRollingPolicy();
    roll.setContext(ctx);
    roll.setParent(app);
    roll.setFileNamePattern(file + ".%i");
    roll.setMinIndex(1);
    roll.setMaxIndex(5);
    roll.start();
    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(ctx);
    trigger.setMaxFileSize(FileSize.valueOf("10MB"));
    // Check the size by time, not by logback's default adaptive gate, which can go 65536 events between
    // checks and so let a busy log grow far past the limit.
    trigger.setCheckIncrement(ch.qos.logback.core.util.Duration.buildByMilliseconds(250));
    trigger.start();
    app.setRollingPolicy(roll);
    app.setTriggeringPolicy(trigger);
    return start(ctx, app, FILE_APPENDER, encoder(ctx, format));
  }

  private static <A extends OutputStreamAppender<ILoggingEvent>> A start(LoggerContext ctx, A app, String name,
      Encoder<ILoggingEvent> encoder) {
    app.setContext(ctx);
    app.setName(name);
    app.setEncoder(encoder);
    app.start();
    return app;
  }

  static Encoder<ILoggingEvent> encoder(LoggerContext ctx, Format format) {
    if (format == Format.TEXT) {
      PatternLayoutEncoder enc = new PatternLayoutEncoder();
      enc.setContext(ctx);
      enc.setPattern(TEXT_PATTERN);
      enc.start();
      return enc;
    }
    LogstashEncoder enc = new LogstashEncoder();
    enc.setContext(ctx);
    LogstashFieldNames names = new LogstashFieldNames();
    names.setTimestamp("timestamp");
    names.setVersion("[ignore]");
    names.setLevelValue("[ignore]");
    names.setLogger("logger");
    names.setThread("thread");
    enc.setFieldNames(names);
    enc.setIncludeContext(false);
    enc.setTimeZone("UTC");
    enc.start();
    return enc;
  }
}
