package io.dynamicfs.core.storage;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How a tier keeps a block: {@code replicate-N} full copies, or Reed–Solomon {@code rs-K-M} shards. */
public sealed interface Redundancy {
  Pattern REPLICATE = Pattern.compile("replicate-(\\d{1,2})");
  Pattern RS = Pattern.compile("rs-(\\d{1,3})-(\\d{1,3})");

  /** The fewest devices the tier needs: one per copy or shard. */
  int minDevices();

  /** How many devices may be lost with every block still readable. */
  int tolerance();

  /** N full copies on N distinct devices. */
  record Replicate(int copies) implements Redundancy {
    public Replicate {
      if (copies < 1 || copies > 16) {
        throw new IllegalArgumentException("replicate-" + copies + ": copies must be between 1 and 16");
      }
    }

    @Override
    public int minDevices() {
      return copies;
    }

    @Override
    public int tolerance() {
      return copies - 1;
    }

    @Override
    public String toString() {
      return "replicate-" + copies;
    }
  }

  /** K data and M parity shards on K+M distinct devices; any K rebuild the block. */
  record ReedSolomon(int data, int parity) implements Redundancy {
    public ReedSolomon {
      if (data < 1 || parity < 1 || data + parity > 256) {
        throw new IllegalArgumentException("rs-" + data + "-" + parity
            + ": needs at least 1 data and 1 parity shard and at most 256 in all");
      }
    }

    @Override
    public int minDevices() {
      return data + parity;
    }

    @Override
    public int tolerance() {
      return parity;
    }

    @Override
    public String toString() {
      return "rs-" + data + "-" + parity;
    }
  }

  /** Parses {@code replicate-N} or {@code rs-K-M}. */
  static Redundancy parse(String s) {
    String t = s == null ? "" : s.trim();
    Matcher m = REPLICATE.matcher(t);
    if (m.matches()) {
      return new Replicate(Integer.parseInt(m.group(1)));
    }
    m = RS.matcher(t);
    if (m.matches()) {
      return new ReedSolomon(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }
    throw new IllegalArgumentException("redundancy '" + t + "' is not replicate-N or rs-K-M (e.g. replicate-2, rs-4-2)");
  }
}
