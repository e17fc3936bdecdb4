package io.dynamicfs.policy.mount;

import io.dynamicfs.core.engine.AccessObserver;
import io.dynamicfs.policy.model.Predictor;
import io.dynamicfs.policy.model.PredictorFile;
import io.dynamicfs.policy.track.AccessLog;
import io.dynamicfs.policy.track.AccessTracker;
import io.dynamicfs.policy.track.TrackerFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy engine's tracker on a mount: the engine's {@link AccessObserver}, feeding an
 * {@link AccessTracker} (one table per file, one per block extent) and its {@link AccessLog}, persisted in
 * a directory of the mount (DATA/policy on a single node).
 *
 * <p><b>The read path.</b> {@link #read} and {@link #write} run on FUSE workers, after the engine served the
 * bytes (from a cache, the store, a block being written...). They only put the access into an
 * {@link AccessRing}: a compare-and-set and five array stores, no lock and no allocation. A full ring drops
 * the access and counts it ({@link Status#dropped}); statistics never slow a read down.
 *
 * <p><b>The tracker's thread</b> ({@code dfs-policy-tracker}) drains the ring every {@value #DRAIN_MILLIS}
 * ms into the tracker: one file access per read or write, one extent access per block it touched (extent
 * keys from {@link #extentKey}), each extent access appended to the ring log. It saves the tables every
 * {@code saveInterval} ({@link TrackerFile}: written aside, forced, renamed). {@link #close} drains, saves
 * and closes the log; the next {@link #open} of the same directory loads the tables.
 *
 * <p><b>Sequential</b> accesses: an access is sequential when it starts within {@value #SEQ_SLACK} bytes
 * of where the previous access to the same file ended and goes beyond it (so the kernel's read-ahead,
 * which sends a stream's requests slightly out of order, still counts, and a re-read does not). The last
 * end per file is kept in a small direct-mapped table (two files that share a slot disturb each other's
 * figure, nothing else).
 *
 * <p><b>Locking</b>: {@code lock} guards the tracker, the log and the sequential table; the tracker's
 * thread holds it while draining and saving, {@link #query} while reading the tables. Producers never
 * take it.
 *
 * <p>Times are the engine's clock in milliseconds since the epoch (the tracker's half-lives are in ms).
 */
public final class MountTracker implements AccessObserver, AutoCloseable {
  static final int DRAIN_MILLIS = 50;
  static final int SEQ_SLACK = 128 << 10;
  /** Bits of an extent key that hold the block index; the inode number takes the other 40. */
  static final int BLOCK_BITS = 24;
  private static final long BLOCK_MASK = (1L << BLOCK_BITS) - 1;
  private static final int SEQ_SLOTS = 4096;
  private static final Logger LOG = LoggerFactory.getLogger(MountTracker.class);
  static final String TRACKER_FILE = "tracker";
  static final String LOG_FILE = "access.log";
  static final String MODEL_FILE = "model";

  /**
   * @param fileCapacity   files tracked at most
   * @param extentCapacity block extents tracked at most
   * @param logRecords     accesses the ring log keeps (24 bytes each on disk)
   * @param ringCapacity   accesses queued between the read path and the tracker's thread (a power of two)
   * @param saveInterval   how often the tables are saved while mounted
   * @param horizon        what the hotness model predicts for: a read within this time (also the length of
   *                       a training window, {@link MountTraining})
   */
  public record Settings(int fileCapacity, int extentCapacity, int logRecords, int ringCapacity,
      Duration saveInterval, Duration horizon) {
    public Settings {
      if (fileCapacity < 8 || extentCapacity < 8) {
        throw new IllegalArgumentException("the tracker needs room for at least 8 files and 8 extents");
      }
      if (logRecords < 1) {
        throw new IllegalArgumentException("the access log needs room for at least one record: " + logRecords);
      }
      if (saveInterval.isNegative() || saveInterval.isZero()) {
        throw new IllegalArgumentException("the save interval must be positive: " + saveInterval);
      }
      if (horizon.toMillis() < 1000) {
        throw new IllegalArgumentException("the horizon must be at least a second: " + horizon);
      }
    }

    /**
     * 100,000 files and 250,000 extents (about 16 and 32 MiB of tables), a log of a million accesses
     * (23 MiB), a ring of 65,536, saved every minute; predictions for the next hour.
     */
    public static Settings defaults() {
      return new Settings(100_000, 250_000, 1 << 20, 1 << 16, Duration.ofMinutes(1), Duration.ofHours(1));
    }

    public Settings withCapacities(int files, int extents) {
      return new Settings(files, extents, logRecords, ringCapacity, saveInterval, horizon);
    }

    public Settings withSaveInterval(Duration d) {
      return new Settings(fileCapacity, extentCapacity, logRecords, ringCapacity, d, horizon);
    }

    public Settings withLogRecords(int n) {
      return new Settings(fileCapacity, extentCapacity, n, ringCapacity, saveInterval, horizon);
    }

    public Settings withHorizon(Duration h) {
      return new Settings(fileCapacity, extentCapacity, logRecords, ringCapacity, saveInterval, h);
    }
  }

  /** What {@code policy status} shows of the tracker. */
  public record Status(String directory, int files, int fileCapacity, int extents, int extentCapacity,
      long fileEvictions, long extentEvictions, long recordedSinceMount, long dropped, long logRecords,
      int logCapacity, long logAppended, String lastSaved, String loadProblem) {}

  private final Path dir;
  private final int blockSize;
  private final Settings settings;
  private final AccessRing ring;
  private final LongSupplier wallMillis;
  private final ReentrantLock lock = new ReentrantLock();
  // @GuardedBy("lock")
  private final AccessTracker tracker;
  // @GuardedBy("lock")
  private final AccessLog log;
  // @GuardedBy("lock")
  private final long[] seqIno = new long[SEQ_SLOTS];
  // @GuardedBy("lock")
  private final long[] seqEnd = new long[SEQ_SLOTS];
  // @GuardedBy("lock")
  private final MountTraining training;
  /** The decider last written to (or read from) the model file: an unchanged one is not written again. */
  // @GuardedBy("lock")
  private Predictor savedPredictor;
  private final AccessRing.Sink sink = this::apply;
  private final String loadProblem;
  private final Thread thread;
  private volatile boolean closed;
  private volatile long lastSavedMillis;
  private long nextSave;

  private MountTracker(Path dir, int blockSize, Settings settings, AccessTracker tracker, AccessLog log,
      String loadProblem, LongSupplier wallMillis, Predictor initial) {
    this.dir = dir;
    this.blockSize = blockSize;
    this.settings = settings;
    this.tracker = tracker;
    this.log = log;
    this.loadProblem = loadProblem;
    this.wallMillis = wallMillis;
    this.ring = new AccessRing(settings.ringCapacity());
    this.training = new MountTraining(tracker, settings.horizon().toMillis(), wallMillis.getAsLong(),
        wallMillis.getAsLong(), initial);
    this.savedPredictor = initial;
    tracker.logTo(log);
    java.util.Arrays.fill(seqIno, -1);
    nextSave = wallMillis.getAsLong() + settings.saveInterval().toMillis();
    thread = new Thread(this::run, "dfs-policy-tracker");
    thread.setDaemon(true);
  }

  /**
   * Opens the tracker kept in {@code dir} (created if missing) for a filesystem of {@code blockSize}: loads
   * the saved tables and opens the ring log, then starts the tracker's thread. An unusable tables file or
   * log is logged, moved aside ({@code .bad}) and started afresh: statistics never refuse a mount. Fails
   * only when the directory cannot be made or a fresh log cannot be created.
   */
  public static MountTracker open(Path dir, int blockSize, Settings settings) throws IOException {
    return open(dir, blockSize, settings, System::currentTimeMillis);
  }

  static MountTracker open(Path dir, int blockSize, Settings settings, LongSupplier wallMillis) throws IOException {
    Files.createDirectories(dir);
    AccessTracker.Config config = AccessTracker.Config.defaults(settings.fileCapacity(), settings.extentCapacity());
    Path tables = dir.resolve(TRACKER_FILE);
    TrackerFile.Loaded loaded = TrackerFile.load(tables, config);
    if (!loaded.ok()) {
      moveAside(tables);
    }
    AccessLog log = openLog(dir.resolve(LOG_FILE), settings.logRecords());
    Path modelFile = dir.resolve(MODEL_FILE);
    PredictorFile.Loaded model = PredictorFile.load(modelFile, settings.horizon().toMillis());
    if (model.problem() != null) {
      LOG.atWarn().setMessage("saved policy model not used; the access-count heuristic decides until training "
          + "puts one live").addKeyValue("event", "policy.model.load_failed").addKeyValue("path", modelFile.toString())
          .addKeyValue("reason", model.problem()).log();
      moveAside(modelFile);
    }
    String problem = loaded.problem() == null ? model.problem() == null ? null : modelFile + ": " + model.problem()
        : loaded.problem();
    MountTracker t = new MountTracker(dir, blockSize, settings, loaded.tracker(), log, problem, wallMillis,
        model.predictor());
    t.thread.start();
    LOG.atDebug().setMessage("access tracker started").addKeyValue("event", "policy.tracker.started")
        .addKeyValue("dir", dir.toString()).addKeyValue("files", loaded.tracker().files().size())
        .addKeyValue("extents", loaded.tracker().extents().size()).addKeyValue("log_records", log.size()).log();
    return t;
  }

  private static AccessLog openLog(Path path, int records) throws IOException {
    try {
      return AccessLog.open(path, records);
    } catch (IOException | RuntimeException e) {
      LOG.atWarn().setMessage("access log unusable, starting a new one")
          .addKeyValue("event", "policy.tracker.log_reset").addKeyValue("path", path.toString())
          .addKeyValue("reason", String.valueOf(e.getMessage())).log();
      moveAside(path);
      return AccessLog.open(path, records);
    }
  }

  private static void moveAside(Path p) {
    try {
      if (Files.exists(p)) {
        Files.move(p, p.resolveSibling(p.getFileName() + ".bad"), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      LOG.atWarn().setMessage("could not move an unusable policy file aside").addKeyValue("path", p.toString())
          .addKeyValue("reason", String.valueOf(e.getMessage())).log();
    }
  }

  /** The key of block {@code index} of inode {@code ino} in the extent table (and the ring log). */
  public static long extentKey(long ino, long index) {
    return (ino << BLOCK_BITS) | (index & BLOCK_MASK);
  }

  /** The inode of an extent key. */
  public static long inodeOf(long extentKey) {
    return extentKey >>> BLOCK_BITS;
  }

  // ---- the read path ---------------------------------------------------------------------------

  @Override
  public void read(long ino, long offset, int length, long nanos) {
    ring.offer(ino, offset, length, false, nanos);
  }

  @Override
  public void write(long ino, long offset, int length, long nanos) {
    ring.offer(ino, offset, length, true, nanos);
  }

  // ---- the tracker's thread --------------------------------------------------------------------

  private void run() {
    while (!closed) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS));
      lock.lock();
      try {
        if (closed) {
          return;
        }
        ring.poll(sink);
        training.tick(wallMillis.getAsLong());
        if (wallMillis.getAsLong() >= nextSave) {
          saveLocked();
        }
      } catch (RuntimeException e) {
        LOG.atError().setMessage("access tracker failed; accesses are no longer recorded")
            .addKeyValue("event", "policy.tracker.failed").addKeyValue("error", String.valueOf(e)).log();
        return;
      } finally {
        lock.unlock();
      }
    }
  }

  // @GuardedBy("lock")
  private void apply(long ino, long offset, int length, boolean write, long nanos) {
    long time = nanos / 1_000_000;
    int slot = (int) ((ino * 0x9E3779B97F4A7C15L) >>> 52); // 12 bits: SEQ_SLOTS
    long end = offset + length;
    boolean seq = seqIno[slot] == ino && offset >= seqEnd[slot] - SEQ_SLACK && offset <= seqEnd[slot] + SEQ_SLACK
        && end > seqEnd[slot];
    if (seqIno[slot] == ino) {
      seqEnd[slot] = Math.max(seqEnd[slot], end);
    } else {
      seqIno[slot] = ino;
      seqEnd[slot] = end;
    }
    tracker.recordFile(time, ino, length, write, seq);
    long first = offset / blockSize;
    long last = (end - 1) / blockSize;
    for (long b = first; b <= last; b++) {
      long from = Math.max(offset, b * blockSize);
      long to = Math.min(end, (b + 1) * blockSize);
      long key = extentKey(ino, b);
      tracker.recordExtent(time, key, (int) (to - from), write, b == first ? seq : true);
      training.accessed(time, ino, key, (int) (to - from), write);
    }
  }

  // @GuardedBy("lock")
  private void saveLocked() {
    nextSave = wallMillis.getAsLong() + settings.saveInterval().toMillis();
    long started = System.nanoTime();
    try {
      TrackerFile.save(tracker, dir.resolve(TRACKER_FILE));
      Predictor p = training.predictor();
      if (p != Predictor.INITIAL && p != savedPredictor) {
        PredictorFile.save(p, training.horizonMillis(), dir.resolve(MODEL_FILE));
        savedPredictor = p;
      }
      log.force();
      lastSavedMillis = wallMillis.getAsLong();
      LOG.atDebug().setMessage("access statistics saved").addKeyValue("event", "policy.tracker.saved")
          .addKeyValue("files", tracker.files().size()).addKeyValue("extents", tracker.extents().size())
          .addKeyValue("millis", (System.nanoTime() - started) / 1_000_000).log();
    } catch (IOException | RuntimeException e) {
      LOG.atWarn().setMessage("saving the access statistics failed").addKeyValue("event", "policy.tracker.save_failed")
          .addKeyValue("dir", dir.toString()).addKeyValue("error", String.valueOf(e.getMessage())).log();
    }
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** Everything queued so far is in the tables when this returns. */
  public void flush() {
    lock.lock();
    try {
      ring.poll(sink);
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code q} on the tables, up to date with every access queued before the call. */
  public <T> T query(Function<AccessTracker, T> q) {
    lock.lock();
    try {
      ring.poll(sink);
      return q.apply(tracker);
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code q} over the ring log's accesses, oldest first, up to date with every access queued before the call. */
  public <T> T replayLog(Function<io.dynamicfs.policy.trace.TraceReader, T> q) {
    lock.lock();
    try {
      ring.poll(sink);
      return q.apply(log.replay());
    } finally {
      lock.unlock();
    }
  }

  /** Saves the tables now (also done periodically and at close). */
  public void save() {
    lock.lock();
    try {
      ring.poll(sink);
      saveLocked();
    } finally {
      lock.unlock();
    }
  }

  public int blockSize() {
    return blockSize;
  }

  /** Who predicts on this mount now: the model the training put live, or a heuristic. */
  public Predictor predictor() {
    return training.predictor();
  }

  /** What the hotness model predicts for (a read within it). */
  public Duration horizon() {
    return settings.horizon();
  }

  /** The training's figures, up to date with every access queued before the call. */
  public MountTraining.Status training() {
    lock.lock();
    try {
      ring.poll(sink);
      training.tick(wallMillis.getAsLong());
      return training.status();
    } finally {
      lock.unlock();
    }
  }

  public Path directory() {
    return dir;
  }

  public Status status() {
    lock.lock();
    try {
      ring.poll(sink);
      long saved = lastSavedMillis;
      return new Status(dir.toString(), tracker.files().size(), tracker.files().capacity(), tracker.extents().size(),
          tracker.extents().capacity(), tracker.files().evictions(), tracker.extents().evictions(), tracker.recorded(),
          ring.dropped(), log.size(), log.capacity(), log.appended(),
          saved == 0 ? null : java.time.Instant.ofEpochMilli(saved).toString(), loadProblem);
    } finally {
      lock.unlock();
    }
  }

  /** Stops the tracker's thread, records what is queued, saves the tables and closes the log. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      ring.poll(sink);
      saveLocked();
      tracker.logTo(null);
      log.close();
    } finally {
      lock.unlock();
    }
    LOG.atDebug().setMessage("access tracker stopped").addKeyValue("event", "policy.tracker.stopped")
        .addKeyValue("files", tracker.files().size()).addKeyValue("extents", tracker.extents().size())
        .addKeyValue("dropped", ring.dropped()).log();
  }
}
