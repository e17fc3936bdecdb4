package io.dynamicfs.policy.track;

/**
 * The policy engine's view of access: one {@link AccessTable} per file and one per block extent, fed by
 * every read and write the engine serves (cache hits included), optionally appended to an
 * {@link AccessLog} for training and replay.
 *
 * <p>An access continues the previous one (counts as sequential) when it touches the extent right after
 * the previous access's extent; for the file table, when that is also in the same file. {@link #record}
 * is O(1) and allocation-free. Not thread-safe: the caller serialises (one recording thread or a lock).
 */
public final class AccessTracker {
  /** Capacities and half-lives (ticks of the clock the caller records with). */
  public record Config(int fileCapacity, int extentCapacity, double[] halfLives) {
    public Config {
      halfLives = halfLives.clone();
    }

    /** Half-lives of a minute, an hour and a day on a millisecond clock. */
    public static Config defaults(int fileCapacity, int extentCapacity) {
      return new Config(fileCapacity, extentCapacity, new double[] {60_000, 3_600_000, 86_400_000});
    }

    @Override
    public double[] halfLives() {
      return halfLives.clone();
    }
  }

  private final Config config;
  private final AccessTable files;
  private final AccessTable extents;
  private AccessLog log;
  private long lastFile = Long.MIN_VALUE;
  private long lastExtent = Long.MIN_VALUE;
  private long recorded;

  public AccessTracker(Config config) {
    this.config = config;
    this.files = new AccessTable(config.fileCapacity(), config.halfLives());
    this.extents = new AccessTable(config.extentCapacity(), config.halfLives());
  }

  /** Appends every recorded access to {@code log} from now on ({@code null}: stop). */
  public void logTo(AccessLog log) {
    this.log = log;
  }

  /**
   * Records one access to a file alone, with the caller's judgement of whether it continued the previous
   * access of that file (a mount knows offsets; see {@link #recordExtent}).
   */
  public void recordFile(long time, long file, int length, boolean write, boolean seq) {
    files.record(file, time, length, write, seq);
    lastFile = file;
    recorded++;
  }

  /**
   * Records one access to an extent alone (appended to the log, if any): with {@link #recordFile}, how a
   * mount records a read that covers several extents of one file as one file access and one access per
   * extent.
   */
  public void recordExtent(long time, long extent, int length, boolean write, boolean seq) {
    extents.record(extent, time, length, write, seq);
    lastExtent = extent;
    if (log != null) {
      log.append(time, extent, length, write);
    }
  }

  /** Records one access of {@code length} bytes to {@code extent} of {@code file} at {@code time}. */
  public void record(long time, long file, long extent, int length, boolean write) {
    boolean seq = extent == lastExtent + 1;
    extents.record(extent, time, length, write, seq);
    files.record(file, time, length, write, seq && file == lastFile);
    lastFile = file;
    lastExtent = extent;
    recorded++;
    if (log != null) {
      log.append(time, extent, length, write);
    }
  }

  public AccessTable files() {
    return files;
  }

  public AccessTable extents() {
    return extents;
  }

  public Config config() {
    return config;
  }

  /** The log accesses are appended to, or null. */
  public AccessLog log() {
    return log;
  }

  /** Accesses recorded since this tracker was created or loaded (file accesses, for a mount). */
  public long recorded() {
    return recorded;
  }
}
