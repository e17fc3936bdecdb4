package io.dynamicfs.cli;

import ch.qos.logback.classic.Level;
import io.dynamicfs.cli.admin.AdminAddress;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The mount's operations options: logs and the admin address (metrics and the admin API). */
final class OperationsOptions {
  @Option(names = "--log-format", paramLabel = "FORMAT",
      description = "Log line format: json or text. Default: json in DATA/logs/dynamicfs.log, text on stderr "
          + "when attached (--foreground from a terminal or an init system).")
  Logging.Format logFormat;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info", converter = LevelConverter.class,
      description = "trace, debug, info, warn or error (default ${DEFAULT-VALUE}).")
  Level logLevel;

  @Option(names = "--admin-address", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
      converter = AdminAddressConverter.class,
      description = "Where /metrics and the admin API listen (default ${DEFAULT-VALUE}: loopback, a free port "
          + "chosen at mount and written to DATA/run/admin.json, so several mounts never collide). Give a fixed "
          + "port for Prometheus, e.g. 127.0.0.1:9567. Admin requests are accepted only from this machine and "
          + "with the token in DATA/run/admin.token, whatever the address.")
  AdminAddress adminAddress;

  Logging.Format fileFormat() {
    return logFormat == null ? Logging.Format.JSON : logFormat;
  }

  Logging.Format stderrFormat() {
    return logFormat == null ? Logging.Format.TEXT : logFormat;
  }

  /** The same options for a background child. */
  List<String> childArguments() {
    List<String> a = new java.util.ArrayList<>(List.of("--log-level", logLevel.toString().toLowerCase(Locale.ROOT),
        "--admin-address", adminAddress.toString()));
    if (logFormat != null) {
      a.add("--log-format");
      a.add(logFormat.name().toLowerCase(Locale.ROOT));
    }
    return a;
  }

  static final class LevelConverter implements CommandLine.ITypeConverter<Level> {
    @Override
    public Level convert(String value) {
      Level l = Level.toLevel(value, null);
      if (l == null || l == Level.ALL || l == Level.OFF) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a log level (trace, debug, info, warn, error)");
      }
      return l;
    }
  }

  static final class AdminAddressConverter implements CommandLine.ITypeConverter<AdminAddress> {
    @Override
    public AdminAddress convert(String value) {
      try {
        return AdminAddress.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
