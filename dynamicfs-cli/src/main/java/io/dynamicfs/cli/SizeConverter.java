package io.dynamicfs.cli;

import java.util.Locale;
import picocli.CommandLine;

/** Parses sizes like 512M, 1G, 64K or plain bytes. */
public final class SizeConverter implements CommandLine.ITypeConverter<Long> {
  @Override
  public Long convert(String value) {
    return parse(value);
  }

  public static long parse(String value) {
    String v = value.trim().toUpperCase(Locale.ROOT);
    if (v.endsWith("B")) {
      v = v.substring(0, v.length() - 1);
    }
    if (v.endsWith("I")) {
      v = v.substring(0, v.length() - 1);
    }
    long mult = 1;
    if (!v.isEmpty()) {
      switch (v.charAt(v.length() - 1)) {
        case 'K' -> mult = 1L << 10;
        case 'M' -> mult = 1L << 20;
        case 'G' -> mult = 1L << 30;
        case 'T' -> mult = 1L << 40;
        default -> mult = 1;
      }
      if (mult != 1) {
        v = v.substring(0, v.length() - 1);
      }
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a size (e.g. 512M, 1G, 65536)");
    }
  }
}
