package io.dynamicfs.policy.trace;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Turns a trace argument into trace sources: a file of {@code ../shared/traces} (format chosen by name, see
 * its README) or {@code synthetic:NAME} ({@code policy} = the whole synthetic set).
 */
public final class Traces {
  /** Bytes per key for traces that carry no size: every key is one block of this size. */
  public static final int TRACE_BLOCK = 4096;
  /** Seed of the synthetic set, fixed so that a table can be reproduced. */
  public static final long SYNTHETIC_SEED = 42;

  private Traces() {}

  /** Resolves {@code FILE} or {@code synthetic:NAME}; an unknown name or format fails with one clear line. */
  public static List<TraceSource> resolve(String arg) throws IOException {
    if (arg.startsWith("synthetic:")) {
      String name = arg.substring("synthetic:".length());
      List<TraceSource> out = new ArrayList<>();
      for (SyntheticTrace.Kind k : SyntheticTrace.Kind.values()) {
        if (name.equals("policy") || name.equals(k.id())) {
          out.add(synthetic(SyntheticTrace.Spec.standard(k, SYNTHETIC_SEED)));
        }
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException("unknown synthetic trace '" + name + "' (policy, zipf-shift, "
            + "scan-hot, loop, periodic)");
      }
      return out;
    }
    return List.of(file(Path.of(arg)));
  }

  /** A synthetic workload as a source. */
  public static TraceSource synthetic(SyntheticTrace.Spec spec) {
    return new TraceSource() {
      @Override
      public String name() {
        return "synthetic:" + spec.kind().id();
      }

      @Override
      public TraceReader open() {
        return new SyntheticTrace(spec);
      }
    };
  }

  /** A trace file; its format is checked now (name and readability), its content while reading. */
  public static TraceSource file(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new NoSuchFileException(path.toString(), null, "no such trace file");
    }
    if (!Files.isReadable(path)) {
      throw new IOException(path + ": trace file is not readable");
    }
    String file = path.getFileName().toString();
    String lower = file.toLowerCase(Locale.ROOT);
    Format format = Format.of(lower);
    if (format == null) {
      throw new IllegalArgumentException(path + ": unknown trace format (expected lirs-*.trace[.gz], "
          + "cache2k-*.trace[.xz], cloudphysics-*.trace[.xz], a .keys/.keys.gz text file of one key per line, or "
          + "a mount's .dfstrace[.gz] from 'dynamicfs policy record')");
    }
    String name = file.replaceFirst("\\.(gz|xz)$", "").replaceFirst("\\.(dfs)?trace$", "");
    return new TraceSource() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public TraceReader open() throws IOException {
        InputStream in = decompress(lower, Files.newInputStream(path));
        return switch (format) {
          case TEXT -> new TextKeyTrace(name, in, TRACE_BLOCK);
          case BE32 -> new BinaryKeyTrace(name, in, BinaryKeyTrace.Layout.BIG_ENDIAN_SIGNED, TRACE_BLOCK);
          case LE32U -> new BinaryKeyTrace(name, in, BinaryKeyTrace.Layout.LITTLE_ENDIAN_UNSIGNED, TRACE_BLOCK);
          case RECORDED -> recorded(name, in);
        };
      }
    };
  }

  private static TraceReader recorded(String name, InputStream in) throws IOException {
    try {
      return new RecordedTrace(name, in);
    } catch (IOException e) {
      in.close();
      throw e;
    }
  }

  private static InputStream decompress(String lower, InputStream raw) throws IOException {
    try {
      if (lower.endsWith(".xz")) {
        return new XZInputStream(raw);
      }
      if (lower.endsWith(".gz")) {
        return new GZIPInputStream(raw, 1 << 16);
      }
      return raw;
    } catch (IOException e) {
      raw.close();
      throw new IOException("not a valid " + (lower.endsWith(".xz") ? "xz" : "gzip") + " file: " + e.getMessage(), e);
    }
  }

  private enum Format {
    TEXT, BE32, LE32U, RECORDED;

    static Format of(String lower) {
      String base = lower.replaceFirst("\\.(gz|xz)$", "");
      if (base.startsWith("lirs-") || base.endsWith(".keys")) {
        return TEXT;
      }
      if (base.startsWith("cache2k-")) {
        return BE32;
      }
      if (base.startsWith("cloudphysics-")) {
        return LE32U;
      }
      if (base.endsWith(".dfstrace")) {
        return RECORDED;
      }
      return null;
    }
  }
}
