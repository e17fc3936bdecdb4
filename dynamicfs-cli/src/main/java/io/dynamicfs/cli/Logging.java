package io.dynamicfs.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** Adds the daemon's rolling log file (10 MiB × 5) under DATA/logs. */
final class Logging {
  private Logging() {}

  static void toFile(Path file, boolean keepConsoleInfo) {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    RollingFileAppender<ILoggingEvent> app = new RollingFileAppender<>();
    app.setContext(ctx);
    app.setName("FILE");
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
    trigger.start();
    PatternLayoutEncoder enc = new PatternLayoutEncoder();
    enc.setContext(ctx);
    enc.setPattern("%d{ISO8601} %-5level [%thread] %logger{36} - %msg%n");
    enc.start();
    app.setRollingPolicy(roll);
    app.setTriggeringPolicy(trigger);
    app.setEncoder(enc);
    app.start();
    ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(app);
    root.setLevel(Level.INFO);
  }
}
