package io.dynamicfs.core.block;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blocks in append-only segment files on one device directory ({@code seg-00000001.dfs}, …).
 *
 * <p>A record is a {@link RecordHeader} and the body, written with one positional write under the
 * append lock, so a crash can only tear the tail of a segment. New records are framed ({@link Frames}: a
 * frame table and independently compressed 64 KiB frames, each with its CRC32C), so {@link #readRange}
 * reads, checks and decompresses only the frames a small read touches; records of the first format (one
 * compressed payload per block) are still read, whole. The index (id → location) lives in
 * memory and is rebuilt at open by walking record headers; liveness per segment is tracked for
 * compaction. Opening truncates a torn tail (a record cut short by a crash) and refuses a segment whose
 * structure is damaged elsewhere, naming the file and offset, so nothing is silently skipped.
 *
 * <p>Locking: {@code appendLock} guards the active segment and the set of unsynced segments;
 * {@code syncLock} serialises fsyncs so concurrent callers share one (group commit). Reads take no lock.
 */
public final class SegmentStore implements BlockStore {
  /** Bytes of the header in front of every stored record (then the body, {@code storedLength} bytes). */
  public static final int RECORD_HEADER_BYTES = RecordHeader.SIZE;

  /**
   * Bytes of the record this store writes for a block of {@code rawLength} bytes that does not compress
   * (header, frame table, the raw frames): where records fall in a segment of such blocks.
   */
  public static long incompressibleRecordBytes(int rawLength) {
    return RecordHeader.SIZE + (long) Frames.tableLength(rawLength, Frames.SHIFT) + rawLength;
  }

  /** Records of this many bytes or fewer are read whole by {@link #readRange}: one read instead of two. */
  private static final int SMALL_RECORD = 16 << 10;

  private static final Logger log = LoggerFactory.getLogger(SegmentStore.class);
  private static final Pattern NAME = Pattern.compile("seg-(\\d{8})\\.dfs");

  private final Path dir;
  private final Codec codec;
  private final long maxSegmentBytes;
  private final Map<BlockId, Location> index = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<Integer, Segment> segments = new ConcurrentSkipListMap<>();
  private final Object appendLock = new Object();
  private final Object syncLock = new Object();
  private final Object compactLock = new Object();
  private final AtomicLong rawBytes = new AtomicLong();
  private final AtomicLong storedBytes = new AtomicLong();

  // @GuardedBy("appendLock")
  private Segment active;
  /** Appends go to the disk with {@code O_DIRECT} where the filesystem allows it (see {@link #appendDirectly}). */
  private volatile boolean directAppends;
  /** What a direct append writes from: the record between its block-aligned edges. */
  // @GuardedBy("appendLock")
  private ByteBuffer staging;
  // @GuardedBy("appendLock")
  private final List<Segment> unsynced = new ArrayList<>();

  /**
   * The first failed fsync, for good: after one, Linux may drop the dirty pages and report the next fsync
   * clean, so retrying would claim durability for lost data. Every later sync and put fails.
   */
  private volatile IOException syncFailure;
  /** How segments are made durable; tests inject a failing one (a real fsync cannot be made to fail here). */
  private volatile ChannelSync channelSync = (path, ch) -> ch.force(false);

  /** The fsync of one segment file ({@code path}, open as {@code channel}). */
  @FunctionalInterface
  interface ChannelSync {
    void force(Path path, java.nio.channels.FileChannel channel) throws IOException;
  }

  private final boolean readOnlyCheck;
  private final boolean salvage;
  private final List<String> damage = new ArrayList<>();

  private SegmentStore(Path dir, Codec codec, long maxSegmentBytes, boolean readOnlyCheck, boolean salvage) {
    this.readOnlyCheck = readOnlyCheck;
    this.salvage = salvage;
    this.dir = dir;
    this.codec = codec;
    this.maxSegmentBytes = maxSegmentBytes;
  }

  /** Opens (creating the directory if needed) and indexes every segment. */
  public static SegmentStore open(Path dir, Codec codec, long maxSegmentBytes) throws IOException {
    return open(dir, codec, maxSegmentBytes, false);
  }

  /**
   * Opens for use, like {@link #open(Path, Codec, long)}; with {@code salvage} a damaged record header does not
   * refuse the open: the scan skips to the next valid record, the damage is logged and listed in
   * {@link #damage()}, and the damaged segment is never appended to. A store whose blocks have copies
   * elsewhere (a device of a redundant tier) opens this way, so the lost records can be rebuilt.
   */
  public static SegmentStore open(Path dir, Codec codec, long maxSegmentBytes, boolean salvage) throws IOException {
    Files.createDirectories(dir);
    SegmentStore s = new SegmentStore(dir, codec, maxSegmentBytes, false, salvage);
    try {
      s.scanAll();
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /**
   * From now on appends bypass the page cache: each record is written with {@code O_DIRECT} from an aligned
   * buffer, together with the bytes of its first disk block that are already on disk and zeros after it to the
   * next block boundary (the next append writes that block again with the same bytes before its own). Writing a
   * megabyte through the page cache cost 1.9 ms of system time here against 0.16 ms direct, and on a cluster
   * node that copy had been a quarter of the CPU of a sequential write. Meant for a store whose reads are not
   * served by the page cache anyway (a cluster node's blocks: mounts cache what they read); a filesystem that
   * refuses {@code O_DIRECT} (tmpfs) keeps buffered appends. Call before the first put. Returns this store.
   *
   * <p>Why a rewritten block loses nothing: its bytes before the new record are the ones already there, so a
   * write torn by a crash leaves each sector old or new and both hold them. The zeros after the last record
   * are not a torn tail: {@link #scan} drops them quietly.
   */
  public SegmentStore appendDirectly() {
    directAppends = true;
    return this;
  }

  /**
   * Opens for checking only: nothing is written or truncated, and damage is recorded in
   * {@link #damage()} instead of refusing to open (records after a damaged header are not indexed).
   */
  public static SegmentStore openForCheck(Path dir, Codec codec) throws IOException {
    SegmentStore s = new SegmentStore(dir, codec, Long.MAX_VALUE, true, true);
    try {
      s.scanAll();
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** Structural damage found while opening for a check or with salvage. */
  public List<String> damage() {
    return List.copyOf(damage);
  }

  public Path directory() {
    return dir;
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    Location existing = index.get(id);
    if (existing != null) {
      return existing.describe(id);
    }
    return putFramed(id, Frames.encode(codec, data, 0, length));
  }

  /**
   * Stores a block already cut into frames ({@link Frames#encode}), as {@link #put} does after encoding;
   * idempotent. Redundant tiers encode once and store the same body on several devices, or store
   * erasure-coded shards encoded with {@link Codec#NONE}.
   */
  public StoredBlock putFramed(BlockId id, Frames.Encoded body) throws IOException {
    requireNoSyncFailure();
    Location existing = index.get(id);
    if (existing != null) {
      return existing.describe(id);
    }
    RecordHeader h = RecordHeader.framed(id, body);
    Segment seg;
    long pos;
    synchronized (appendLock) {
      pos = append(h, body.buffers());
      seg = active;
    }
    Location loc = new Location(seg, pos, h.codec(), h.rawLength(), h.storedLength(), true);
    if (index.putIfAbsent(id, loc) == null) {
      seg.liveBytes.addAndGet(h.recordLength());
      rawBytes.addAndGet(h.rawLength());
      storedBytes.addAndGet(h.storedLength());
    }
    return loc.describe(id);
  }

  /**
   * Appends one record (the header, then {@code body}: {@code h.storedLength()} bytes) to the active segment;
   * returns its offset there.
   */
  // @GuardedBy("appendLock")
  private long append(RecordHeader h, ByteBuffer... body) throws IOException {
    byte[] head = new byte[RecordHeader.SIZE];
    h.writeTo(head);
    ByteBuffer[] bufs = new ByteBuffer[body.length + 1];
    bufs[0] = ByteBuffer.wrap(head);
    System.arraycopy(body, 0, bufs, 1, body.length);
    if (active == null || active.size + h.recordLength() > maxSegmentBytes) {
      roll();
    }
    Segment seg = active;
    long pos = seg.size;
    FileChannel direct = directAppends ? seg.directWriteChannel() : null;
    try {
      if (direct != null) {
        writeDirect(seg, direct, pos, h.recordLength(), bufs);
      } else {
        seg.channel.position(pos);
        long want = h.recordLength();
        long done = 0;
        while (done < want) {
          done += seg.channel.write(bufs);
        }
      }
    } catch (IOException e) {
      // Undo a partial append so the segment stays a clean sequence of records.
      try {
        seg.channel.truncate(pos);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw translate(e, "append to " + seg.path);
    }
    seg.size = pos + h.recordLength();
    if (!unsynced.contains(seg)) {
      unsynced.add(seg);
    }
    return pos;
  }

  /** A sequential read uses {@code O_DIRECT} where the device's filesystem allows it ({@link #readRecord}). */
  /**
   * Writes {@code length} bytes ({@code parts}) at {@code pos} of the segment with {@code O_DIRECT}: the span
   * from the disk block holding {@code pos} to the end of the block holding the record's last byte, made of
   * the segment's bytes before {@code pos} in that first block ({@link Segment#tail}), the record, and zeros.
   */
  // @GuardedBy("appendLock")
  private void writeDirect(Segment seg, FileChannel ch, long pos, long length, ByteBuffer[] parts)
      throws IOException {
    long align = ReadBuffer.ALIGN;
    long start = pos & -align;
    int lead = (int) (pos - start);
    long end = pos + length;
    int span = (int) (((end + align - 1) & -align) - start);
    if (staging == null || staging.capacity() < span) {
      staging = ReadBuffer.allocate(Math.max(span, 2 << 20));
    }
    ByteBuffer b = staging.clear().limit(span);
    b.put(seg.tail(lead, start));
    for (ByteBuffer part : parts) {
      b.put(part.duplicate());
    }
    while (b.hasRemaining()) {
      b.put((byte) 0);
    }
    b.flip();
    long at = start;
    while (b.hasRemaining()) {
      at += ch.write(b, at);
    }
    int keep = (int) (end & (align - 1));
    seg.keepTail(b, (int) (end - start) - keep, keep);
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Location loc = index.get(id);
      if (loc == null) {
        throw FsException.of(Errno.EIO, "block %s is not in store %s", id, dir);
      }
      try {
        return read(id, loc, sequential);
      } catch (java.nio.channels.ClosedChannelException e) {
        if (attempt > 0) {
          throw e; // compaction moved it once; a second closed segment is a real failure
        }
      }
    }
  }

  private byte[] read(BlockId id, Location loc, boolean direct) throws IOException {
    ByteBuffer record = readRecord(loc.segment, loc.offset, RecordHeader.SIZE + loc.storedLength, direct);
    try {
      RecordHeader h = checkHeader(id, loc, record);
      ByteBuffer body = record.slice(RecordHeader.SIZE, loc.storedLength);
      return h.isFramed() ? Frames.decode(body, h.rawLength(), h.bodyCrc()) : decodeVersion1(h, body);
    } catch (FsException e) {
      throw corrupt("read", id, loc, e);
    }
  }

  /** The whole-block payload of a first-format record, after its checksum. */
  private static byte[] decodeVersion1(RecordHeader h, ByteBuffer payload) throws FsException {
    if (RecordHeader.crc(payload) != h.bodyCrc()) {
      throw new FsException(Errno.EIO, "payload checksum mismatch");
    }
    return h.codec().decompress(payload, h.rawLength());
  }

  /** Parses the header at the start of {@code record} and checks that it is the live record {@code loc} says. */
  private static RecordHeader checkHeader(BlockId id, Location loc, ByteBuffer record) throws FsException {
    byte[] head = new byte[RecordHeader.SIZE];
    record.get(0, head);
    RecordHeader h = RecordHeader.parse(head, 0);
    if (!h.id().equals(id) || h.storedLength() != loc.storedLength || h.rawLength() != loc.rawLength
        || h.isTombstone() || h.isFramed() != loc.framed) {
      throw new FsException(Errno.EIO, "record header names another block");
    }
    return h;
  }

  /** Logs a corrupt record and returns the EIO to throw, naming the segment and offset. */
  private FsException corrupt(String op, BlockId id, Location loc, FsException e) {
    log.atError().addKeyValue("op", op).addKeyValue("block", id.toHex())
        .addKeyValue("device", dir.toString()).addKeyValue("segment", loc.segment.path.toString())
        .addKeyValue("offset", loc.offset).addKeyValue("error", e.getMessage()).log("corrupt record");
    return FsException.of(Errno.EIO, "block %s in %s at offset %d is corrupt (%s)",
        id, loc.segment.path.getFileName(), loc.offset, e.getMessage());
  }

  /**
   * Serves a range of a framed record from the frames that cover it: the header and frame table (one read),
   * then those frames (a second read; a small record is read whole at once), each frame's CRC32C checked
   * before it is decompressed. A bad checksum is EIO like any corrupt record, and nothing of the range is
   * returned. A first-format record has no frames: -1, and the caller reads the block whole. The frames a
   * range does not touch are not read, hence not checked: scrub checks every frame and the block's hash.
   */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
    if (offset < 0) {
      throw FsException.of(Errno.EINVAL, "range read at negative offset %d", offset);
    }
    for (int attempt = 0; ; attempt++) {
      Location loc = index.get(id);
      if (loc == null) {
        throw FsException.of(Errno.EIO, "block %s is not in store %s", id, dir);
      }
      if (!loc.framed) {
        return -1;
      }
      int n = Math.max(0, Math.min(length, loc.rawLength - offset));
      if (n == 0) {
        return 0;
      }
      try {
        return readFramedRange(id, loc, offset, dst, dstOffset, n);
      } catch (java.nio.channels.ClosedChannelException e) {
        if (attempt > 0) {
          throw e; // compaction moved it once; a second closed segment is a real failure
        }
      }
    }
  }

  private int readFramedRange(BlockId id, Location loc, int offset, byte[] dst, int dstOffset, int n)
      throws IOException {
    int recordLength = RecordHeader.SIZE + loc.storedLength;
    try {
      if (recordLength <= SMALL_RECORD) {
        ByteBuffer record = readRecord(loc.segment, loc.offset, recordLength, false);
        RecordHeader h = checkHeader(id, loc, record);
        ByteBuffer body = record.slice(RecordHeader.SIZE, loc.storedLength);
        Frames.Table t = Frames.Table.parse(body, loc.rawLength, loc.storedLength).requireCrc(h.bodyCrc());
        int first = t.frameOf(offset);
        int last = t.frameOf(offset + n - 1);
        t.decodeRange(body.slice(t.start(first), t.end(last) - t.start(first)), first, last, offset, dst,
            dstOffset, n);
        return n;
      }
      // Header and table, guessing the usual frame size; a record with smaller frames has a longer table,
      // which is read again.
      int want = RecordHeader.SIZE + Math.min(loc.storedLength, Frames.tableLength(loc.rawLength, Frames.SHIFT));
      byte[] head = new byte[want];
      readRecord(loc.segment, loc.offset, want, false).get(0, head);
      RecordHeader h = checkHeader(id, loc, ByteBuffer.wrap(head));
      int tableLength = Frames.Table.lengthFrom(head, RecordHeader.SIZE, want - RecordHeader.SIZE, loc.rawLength);
      if (tableLength > want - RecordHeader.SIZE && tableLength <= loc.storedLength) {
        want = RecordHeader.SIZE + tableLength;
        head = new byte[want];
        readRecord(loc.segment, loc.offset, want, false).get(0, head);
        h = checkHeader(id, loc, ByteBuffer.wrap(head));
      }
      Frames.Table t = Frames.Table.parse(head, RecordHeader.SIZE, want - RecordHeader.SIZE, loc.rawLength,
          loc.storedLength).requireCrc(h.bodyCrc());
      int first = t.frameOf(offset);
      int last = t.frameOf(offset + n - 1);
      ByteBuffer frames = readRecord(loc.segment, loc.offset + RecordHeader.SIZE + t.start(first),
          t.end(last) - t.start(first), false);
      t.decodeRange(frames, first, last, offset, dst, dstOffset, n);
      return n;
    } catch (FsException e) {
      throw corrupt("read_range", id, loc, e);
    }
  }

  /**
   * Bytes {@code [pos, pos + len)} of a segment, as a slice of this thread's {@link ReadBuffer}. With
   * {@code useDirect}, read with {@code O_DIRECT} (the aligned span around them) where the device's
   * filesystem allows it: a streamed block goes to the caches above and is not read again, so copying it
   * through the page cache as well costs CPU (on a 2-core VM, reading 2 GiB through the page cache cost
   * 1.5-2 s of system time, with O_DIRECT 0.25 s) and evicts what the page cache holds for random readers.
   */
  private ByteBuffer readRecord(Segment seg, long pos, int len, boolean useDirect) throws IOException {
    FileChannel direct = useDirect ? seg.directChannel() : null;
    if (direct == null) {
      ByteBuffer b = ReadBuffer.get(len).limit(len);
      readFully(seg.channel, b, pos);
      return b.flip();
    }
    long start = pos & -(long) ReadBuffer.ALIGN;
    int lead = (int) (pos - start);
    int span = (lead + len + ReadBuffer.ALIGN - 1) / ReadBuffer.ALIGN * ReadBuffer.ALIGN;
    ByteBuffer b = ReadBuffer.get(span).limit(span);
    long p = start;
    while (b.position() < lead + len) {
      int n = direct.read(b, p);
      if (n <= 0) { // the last record ends short of an aligned boundary: a short read, then end of file
        throw FsException.of(Errno.EIO, "unexpected end of segment at offset %d", p);
      }
      p += n;
    }
    return b.slice(lead, len);
  }

  @Override
  public StoredBlock stat(BlockId id) {
    Location loc = index.get(id);
    return loc == null ? null : loc.describe(id);
  }

  /**
   * Forgets a block and appends a tombstone, so a later scan does not bring it back. The tombstone
   * needs no fsync: if a crash loses it, the block returns as an unreferenced record and the next
   * mount deletes it again.
   */
  @Override
  public void delete(BlockId id) throws IOException {
    Location loc;
    synchronized (appendLock) {
      loc = index.remove(id);
      if (loc != null && !readOnlyCheck) {
        append(RecordHeader.tombstone(id));
      }
    }
    if (loc != null) {
      loc.segment.liveBytes.addAndGet(-(RecordHeader.SIZE + (long) loc.storedLength));
      rawBytes.addAndGet(-loc.rawLength);
      storedBytes.addAndGet(-loc.storedLength);
    }
  }

  @Override
  public void forEach(Consumer<StoredBlock> action) {
    index.forEach((id, loc) -> action.accept(loc.describe(id)));
  }

  @Override
  public void forEachId(Consumer<BlockId> action) {
    index.keySet().forEach(action);
  }

  /**
   * Makes every record put so far durable. A failed fsync fails this store for good (see
   * {@link #syncFailure}); the device above takes it out of service.
   */
  @Override
  public void sync() throws IOException {
    synchronized (syncLock) {
      requireNoSyncFailure();
      List<Segment> toSync;
      synchronized (appendLock) {
        if (unsynced.isEmpty()) {
          return;
        }
        toSync = new ArrayList<>(unsynced);
        unsynced.clear();
      }
      for (Segment s : toSync) {
        try {
          channelSync.force(s.path, s.channel);
        } catch (IOException e) {
          IOException failure = translate(e, "fsync " + s.path);
          syncFailure = failure;
          throw failure;
        }
      }
    }
  }

  private void requireNoSyncFailure() throws FsException {
    IOException f = syncFailure;
    if (f != null) {
      throw new FsException(Errno.EIO, "an earlier fsync in " + dir + " failed (" + f.getMessage()
          + "); its data may be lost, so this store takes no more writes", f);
    }
  }

  /** True once an fsync failed: nothing written here since the last good sync is known durable. */
  public boolean syncFailed() {
    return syncFailure != null;
  }

  void injectChannelSyncForTest(ChannelSync sync) {
    this.channelSync = sync;
  }

  /**
   * Reclaims dead space: every sealed segment whose live fraction is below {@code threshold} has its
   * live records copied (verified, byte for byte) to the active segment, the copies are synced, and
   * only then is the old file deleted. A crash in between leaves two valid copies of some blocks
   * (content-addressed, so either serves), never none. Returns the bytes of segment files deleted.
   */
  public long compact(double threshold) throws IOException {
    return compact(threshold, (done, total) -> {});
  }

  /**
   * As {@link #compact(double)}, telling {@code progress} (segments done, segments to do) after each one.
   * One compaction runs at a time (the background one and an operator's {@code gc} take turns).
   */
  public long compact(double threshold, CompactionProgress progress) throws IOException {
    if (readOnlyCheck) {
      return 0;
    }
    synchronized (compactLock) {
      List<Segment> todo = new ArrayList<>();
      for (Segment seg : segments.values()) {
        Segment act;
        synchronized (appendLock) {
          act = active;
        }
        if (seg != act && seg.size > 0 && (double) seg.liveBytes.get() / seg.size < threshold) {
          todo.add(seg);
        }
      }
      long freed = 0;
      for (int i = 0; i < todo.size(); i++) {
        freed += compact(todo.get(i));
        progress.segmentDone(i + 1, todo.size());
      }
      return freed;
    }
  }

  /** Told after each segment a compaction has finished. */
  @FunctionalInterface
  public interface CompactionProgress {
    void segmentDone(int done, int total);
  }

  /** One segment file: its size, the bytes of live records in it, and whether appends go to it now. */
  public record SegmentUsage(Path path, long fileBytes, long liveBytes, boolean active) {
    public long deadBytes() {
      return Math.max(0, fileBytes - liveBytes);
    }
  }

  /** Size and live bytes of every segment file, oldest first. */
  public List<SegmentUsage> usage() {
    Segment act;
    synchronized (appendLock) {
      act = active;
    }
    List<SegmentUsage> out = new ArrayList<>();
    for (Segment s : segments.values()) {
      out.add(new SegmentUsage(s.path, s.size, s.liveBytes.get(), s == act));
    }
    return out;
  }

  private long compact(Segment seg) throws IOException {
    long moved = 0;
    for (Map.Entry<BlockId, Location> e : new ArrayList<>(index.entrySet())) {
      Location old = e.getValue();
      if (old.segment != seg) {
        continue;
      }
      byte[] record = new byte[RecordHeader.SIZE + old.storedLength];
      readFully(seg.channel, ByteBuffer.wrap(record), old.offset);
      RecordHeader h = RecordHeader.parse(record, 0);
      ByteBuffer body = ByteBuffer.wrap(record, RecordHeader.SIZE, old.storedLength);
      if (!h.id().equals(e.getKey()) || !bodyVerifies(h, body)) {
        // Never copy a bad record: leave the segment (and the problem) for fsck and reads to report.
        log.atError().addKeyValue("op", "compact").addKeyValue("segment", seg.path.toString())
            .addKeyValue("block", e.getKey().toHex()).addKeyValue("offset", old.offset)
            .log("compaction skipped a corrupt segment");
        return 0;
      }
      // copied as it is: a first-format record stays one (it is read the same way wherever it lies)
      Segment to;
      long pos;
      synchronized (appendLock) {
        pos = append(h, body);
        to = active;
      }
      Location now = new Location(to, pos, h.codec(), h.rawLength(), h.storedLength(), h.isFramed());
      if (index.replace(e.getKey(), old, now)) {
        to.liveBytes.addAndGet(h.recordLength());
        seg.liveBytes.addAndGet(-h.recordLength());
        moved += h.recordLength();
      }
    }
    sync();
    segments.remove(seg.number, seg);
    long size = seg.size;
    seg.close();
    Files.deleteIfExists(seg.path);
    log.atInfo().addKeyValue("op", "compact").addKeyValue("segment", seg.path.toString())
        .addKeyValue("bytes", size).addKeyValue("moved_bytes", moved).log("segment compacted");
    return size;
  }

  @Override
  public StoreStats stats() {
    long files = 0;
    for (Segment s : segments.values()) {
      files += s.size;
    }
    return new StoreStats(index.size(), rawBytes.get(), storedBytes.get(), files);
  }

  /** The live fraction of each segment file, for compaction and reports. */
  public Map<Path, Double> liveFractions() {
    Map<Path, Double> out = new java.util.LinkedHashMap<>();
    for (Segment s : segments.values()) {
      out.put(s.path, s.size == 0 ? 1.0 : (double) s.liveBytes.get() / s.size);
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    try {
      if (!readOnlyCheck) {
        sync();
      }
    } catch (IOException e) {
      first = e;
    }
    for (Segment s : segments.values()) {
      try {
        s.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    segments.clear();
    if (first != null) {
      throw first;
    }
  }

  // @GuardedBy("appendLock")
  private void roll() throws IOException {
    int next = segments.isEmpty() ? 1 : segments.lastKey() + 1;
    Path p = dir.resolve(String.format("seg-%08d.dfs", next));
    FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    syncDirectory(); // the new file's name must be durable before any commit relies on its records
    Segment seg = new Segment(next, p, ch, 0);
    segments.put(next, seg);
    if (active != null && !unsynced.contains(active)) {
      unsynced.add(active);
    }
    if (directAppends && active != null && active.size % ReadBuffer.ALIGN != 0
        && active.directWriteChannel() != null) {
      active.channel.truncate(active.size); // the padding of its last direct append, made durable with it
    }
    active = seg;
    log.atDebug().addKeyValue("segment", p.toString()).log("segment opened");
  }

  private void syncDirectory() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      throw translate(e, "fsync of directory " + dir);
    }
  }

  private void scanAll() throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (NAME.matcher(p.getFileName().toString()).matches()) {
          files.add(p);
        }
      }
    }
    files.sort(null);
    for (Path p : files) {
      Matcher m = NAME.matcher(p.getFileName().toString());
      m.matches();
      int n = Integer.parseInt(m.group(1));
      FileChannel ch = readOnlyCheck ? FileChannel.open(p, StandardOpenOption.READ)
          : FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
      Segment seg = new Segment(n, p, ch, ch.size());
      segments.put(n, seg);
      scan(seg);
    }
    if (!segments.isEmpty() && !readOnlyCheck) {
      Segment last = segments.lastEntry().getValue();
      if (last.size < maxSegmentBytes && !last.damaged) {
        active = last;
      }
    }
    log.atInfo().addKeyValue("device", dir.toString()).addKeyValue("segments", segments.size())
        .addKeyValue("blocks", index.size()).addKeyValue("bytes", storedBytes.get()).log("block store opened");
  }

  private void scan(Segment seg) throws IOException {
    long pos = 0;
    long end = seg.size;
    long zeros = zeroTailStart(seg.channel, end);
    Scanned last = null;
    byte[] head = new byte[RecordHeader.SIZE];
    while (pos < end) {
      if (end - pos < RecordHeader.SIZE) {
        endTornTail(seg, pos, last, zeros, "partial header");
        return;
      }
      readFully(seg.channel, ByteBuffer.wrap(head), pos);
      RecordHeader h;
      try {
        h = RecordHeader.parse(head, 0);
      } catch (FsException e) {
        if (pos + RecordHeader.SIZE > zeros) {
          // the header runs into the zeros a crash leaves where the size reached the disk and the pages did not
          endTornTail(seg, pos, last, zeros, "zero-filled tail");
          return;
        }
        String what = String.format("segment %s is damaged at offset %d (%s)", seg.path, pos, e.getMessage());
        if (salvage) {
          long next = nextValidRecord(seg, pos + 1, end);
          damage.add(what + (next < 0 ? "; nothing after it is readable" : "; resumed at offset " + next));
          seg.damaged = true;
          if (!readOnlyCheck) {
            log.error("damaged segment salvaged path={} offset={} resumed_at={} problem=\"{}\"", seg.path, pos, next,
                e.getMessage());
          }
          if (next < 0) {
            return;
          }
          pos = next;
          continue;
        }
        throw FsException.of(Errno.EIO, "%s; run 'dynamicfs fsck' to list the affected files", what);
      }
      if (pos + h.recordLength() > end) {
        endTornTail(seg, pos, last, zeros, "record cut short");
        return;
      }
      if (h.isTombstone()) {
        last = null;
        Location dead = index.remove(h.id());
        if (dead != null) {
          dead.segment.liveBytes.addAndGet(-(RecordHeader.SIZE + (long) dead.storedLength));
          rawBytes.addAndGet(-dead.rawLength);
          storedBytes.addAndGet(-dead.storedLength);
        }
        pos += h.recordLength();
        continue;
      }
      Location loc = new Location(seg, pos, h.codec(), h.rawLength(), h.storedLength(), h.isFramed());
      Location old = index.put(h.id(), loc);
      if (old != null) {
        old.segment.liveBytes.addAndGet(-(RecordHeader.SIZE + (long) old.storedLength));
        rawBytes.addAndGet(-old.rawLength);
        storedBytes.addAndGet(-old.storedLength);
      }
      seg.liveBytes.addAndGet(h.recordLength());
      rawBytes.addAndGet(h.rawLength());
      storedBytes.addAndGet(h.storedLength());
      last = new Scanned(h, loc, old);
      pos += h.recordLength();
    }
    endTornTail(seg, end, last, zeros, "record ends in zeros"); // cuts only a torn last record
  }

  /** A record the scan indexed, and the location it replaced in the index (to undo it if it proves torn). */
  private record Scanned(RecordHeader header, Location at, Location replaced) {
    boolean reachesInto(long zeros) {
      return at.offset + header.recordLength() > zeros;
    }
  }

  /**
   * Ends a segment's scan at a torn tail starting at {@code pos}. A crash that left zeros where the size
   * reached the disk and the pages did not may also have torn the record before {@code pos}: one whose
   * header is intact but whose body runs into the zeros. Such a record is verified and, when its body is
   * wrong, dropped from the index and cut off with the tail; left indexed, a later put of the same block
   * would find it and store nothing (a dedup hit on bytes that are not there).
   */
  private void endTornTail(Segment seg, long pos, Scanned last, long zeros, String why) throws IOException {
    long cut = pos;
    String reason = why;
    if (last != null && last.reachesInto(zeros) && !verifies(seg, last)) {
      BlockId id = last.header.id();
      Location torn = last.at;
      if (index.remove(id, torn)) {
        seg.liveBytes.addAndGet(-last.header.recordLength());
        rawBytes.addAndGet(-torn.rawLength);
        storedBytes.addAndGet(-torn.storedLength);
        Location back = last.replaced;
        if (back != null) {
          index.put(id, back);
          back.segment.liveBytes.addAndGet(RecordHeader.SIZE + (long) back.storedLength);
          rawBytes.addAndGet(back.rawLength);
          storedBytes.addAndGet(back.storedLength);
        }
      }
      cut = torn.offset;
      reason = why + "; the record before it is torn";
    }
    if (cut == pos && zeros <= pos && seg.size % ReadBuffer.ALIGN == 0 && seg.size - pos < ReadBuffer.ALIGN) {
      dropPadding(seg, pos);
    } else if (cut < seg.size) {
      truncateTornTail(seg, cut, reason);
    }
  }

  /**
   * Cuts the zeros a direct append leaves after the last record, up to the next disk block ({@link
   * #appendDirectly}): they are no damage, and a store that appends through the page cache, or a check, must
   * not take them for a torn tail. A crash that tore a tail into zeros ending on a block boundary is cut the
   * same way, only with less said about it: the records before are intact either way.
   */
  private void dropPadding(Segment seg, long pos) throws IOException {
    if (!readOnlyCheck) {
      seg.channel.truncate(pos);
      seg.channel.force(true);
      log.atDebug().addKeyValue("segment", seg.path.toString()).addKeyValue("offset", pos)
          .addKeyValue("bytes", seg.size - pos).log("padding after the last record removed");
    }
    seg.size = pos;
  }

  private static boolean verifies(Segment seg, Scanned r) throws IOException {
    byte[] body = new byte[r.header.storedLength()];
    readFully(seg.channel, ByteBuffer.wrap(body), r.at.offset + RecordHeader.SIZE);
    return bodyVerifies(r.header, ByteBuffer.wrap(body));
  }

  /**
   * The offset of the first record at or after {@code from} whose header and payload checksums are both
   * right, or -1. Only used after damage, so a byte-by-byte search is fine.
   */
  private static long nextValidRecord(Segment seg, long from, long end) throws IOException {
    byte[] head = new byte[RecordHeader.SIZE];
    ByteBuffer window = ByteBuffer.allocate(1 << 16);
    long base = from;
    while (base + RecordHeader.SIZE <= end) {
      window.clear();
      int n = seg.channel.read(window, base);
      if (n <= 0) {
        return -1;
      }
      byte[] w = window.array();
      for (int i = 0; i + 4 <= n; i++) {
        if (w[i] != 'D' || w[i + 1] != 'F' || w[i + 2] != 'S' || w[i + 3] != 'R') {
          continue;
        }
        long pos = base + i;
        if (pos + RecordHeader.SIZE > end) {
          return -1;
        }
        readFully(seg.channel, ByteBuffer.wrap(head), pos);
        try {
          RecordHeader h = RecordHeader.parse(head, 0);
          if (pos + h.recordLength() > end) {
            continue;
          }
          byte[] payload = new byte[h.storedLength()];
          readFully(seg.channel, ByteBuffer.wrap(payload), pos + RecordHeader.SIZE);
          if (bodyVerifies(h, ByteBuffer.wrap(payload))) {
            return pos;
          }
        } catch (FsException notAHeader) {
          // keep looking
        }
      }
      base += Math.max(1, n - 3);
    }
    return -1;
  }

  /**
   * Whether a record's body is intact: the payload CRC of a first-format record; the table and every frame's
   * CRC of a framed one (a tombstone has no body). Compaction copies and salvage resumes only at such records.
   */
  private static boolean bodyVerifies(RecordHeader h, ByteBuffer body) {
    if (!h.isFramed()) {
      return RecordHeader.crc(body) == h.bodyCrc();
    }
    if (h.isTombstone()) {
      return h.storedLength() == 0;
    }
    try {
      Frames.verify(body, h.rawLength(), h.bodyCrc());
      return true;
    } catch (FsException e) {
      return false;
    }
  }

  private void truncateTornTail(Segment seg, long pos, String why) throws IOException {
    if (readOnlyCheck) {
      damage.add(String.format("segment %s has a torn tail at offset %d (%s); the next mount truncates it",
          seg.path, pos, why));
      return;
    }
    log.atWarn().addKeyValue("op", "recover").addKeyValue("segment", seg.path.toString()).addKeyValue("offset", pos)
        .addKeyValue("bytes", seg.size - pos).addKeyValue("reason", why)
        .log("segment tail torn by a crash, truncating");
    seg.channel.truncate(pos);
    seg.channel.force(true);
    seg.size = pos;
  }

  /** The first byte of the run of zeros that ends the file at {@code end} ({@code end} when its last byte is not 0). */
  private static long zeroTailStart(FileChannel ch, long end) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(1 << 16);
    long to = end;
    while (to > 0) {
      long from = Math.max(0, to - b.capacity());
      b.clear().limit((int) (to - from));
      readFully(ch, b, from);
      for (int i = b.limit() - 1; i >= 0; i--) {
        if (b.get(i) != 0) {
          return from + i + 1;
        }
      }
      to = from;
    }
    return 0;
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
    long p = pos;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, p);
      if (n < 0) {
        throw FsException.of(Errno.EIO, "unexpected end of segment at offset %d", p);
      }
      p += n;
    }
  }

  private static IOException translate(IOException e, String what) {
    String msg = String.valueOf(e.getMessage());
    if (msg.contains("No space left")) {
      return new FsException(Errno.ENOSPC, what + ": no space left on device", e);
    }
    return new FsException(Errno.EIO, what + ": " + msg, e);
  }

  private static final class Segment {
    final int number;
    final Path path;
    final FileChannel channel;
    /** Opened on the first read; null when {@code O_DIRECT} is not possible here (tmpfs, …). */
    private FileChannel direct;
    private boolean directTried;
    /** Opened on the first direct append; null when {@code O_DIRECT} is not possible here. */
    private FileChannel directWrite;
    private boolean directWriteTried;
    /** The bytes from the last disk block boundary to {@link #size}, once known ({@code tailLength} >= 0). */
    // @GuardedBy("appendLock")
    private final byte[] tail = new byte[ReadBuffer.ALIGN];
    // @GuardedBy("appendLock")
    private int tailLength = -1;
    final AtomicLong liveBytes = new AtomicLong();
    volatile long size;
    /** A damaged header was skipped while opening: never append here (compaction may retire it). */
    volatile boolean damaged;

    Segment(int number, Path path, FileChannel channel, long size) {
      this.number = number;
      this.path = path;
      this.channel = channel;
      this.size = size;
    }

    /** The {@code O_DIRECT} read channel, opened on first use; null when the filesystem refuses it. */
    synchronized FileChannel directChannel() {
      if (!directTried) {
        directTried = true;
        direct = openDirect(StandardOpenOption.READ, "direct reads not possible, reading through the page cache");
      }
      return direct;
    }

    /** The {@code O_DIRECT} write channel, opened on first use; null when the filesystem refuses it. */
    synchronized FileChannel directWriteChannel() {
      if (!directWriteTried) {
        directWriteTried = true;
        directWrite = openDirect(StandardOpenOption.WRITE,
            "direct appends not possible, appending through the page cache");
      }
      return directWrite;
    }

    /** The segment opened for {@code mode} with {@code O_DIRECT}; null (logging {@code refused}) when not possible. */
    private FileChannel openDirect(StandardOpenOption mode, String refused) {
      try {
        if (ReadBuffer.ALIGN % Files.getFileStore(path).getBlockSize() == 0) {
          return FileChannel.open(path, mode, com.sun.nio.file.ExtendedOpenOption.DIRECT);
        }
      } catch (IOException | UnsupportedOperationException e) {
        log.atDebug().addKeyValue("segment", path.toString()).addKeyValue("error", String.valueOf(e.getMessage()))
            .log(refused);
      }
      return null;
    }

    /**
     * The {@code lead} bytes of the segment from {@code start} (the disk block boundary before {@link #size}),
     * read from the file the first time (a segment opened with a size off a boundary).
     */
    // @GuardedBy("appendLock")
    ByteBuffer tail(int lead, long start) throws IOException {
      if (tailLength != lead) {
        readFully(channel, ByteBuffer.wrap(tail, 0, lead), start);
        tailLength = lead;
      }
      return ByteBuffer.wrap(tail, 0, lead);
    }

    /** Remembers {@code b[from, from + n)} as the bytes of the segment's last, partial disk block. */
    // @GuardedBy("appendLock")
    void keepTail(ByteBuffer b, int from, int n) {
      b.get(from, tail, 0, n);
      tailLength = n;
    }

    /** Closes every channel. */
    synchronized void close() throws IOException {
      try {
        channel.close();
      } finally {
        directTried = true;
        directWriteTried = true;
        try {
          if (direct != null) {
            direct.close();
          }
        } finally {
          if (directWrite != null) {
            directWrite.close();
          }
        }
      }
    }

    @Override
    public String toString() {
      return "segment " + number;
    }
  }

  /** Where a live record is; {@code framed}: version 2 (frames), else a first-format whole-block record. */
  private record Location(Segment segment, long offset, Codec codec, int rawLength, int storedLength,
      boolean framed) {
    StoredBlock describe(BlockId id) {
      return new StoredBlock(id, rawLength, storedLength, codec);
    }
  }
}
