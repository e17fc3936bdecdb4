package io.dynamicfs.fuse;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Randomised differential checker: applies the same random filesystem operations to two directory
 * trees, a subject (a DynamicFS mount) and a reference (a plain directory on a local disk), and
 * fails on the first difference in behaviour.
 *
 * <h2>How a run works</h2>
 * Every step draws one operation from a single {@link Random} seeded by the constructor. Paths are
 * chosen from a sorted listing of the <em>reference</em> tree (plus purely random paths from a small
 * name pool), so the sequence of operations depends only on the seed and on the reference, never on
 * the subject: a failing seed replays exactly on fresh empty trees. The operation runs on the
 * subject, then on the reference; each outcome is reduced to a category (success, or an errno name
 * such as ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR, EINVAL, ELOOP, ENODATA, derived from the NIO
 * exception type or the normalised reason string) plus, for operations that return data (reads,
 * xattr lists, sizes after a write, directory listings), the data itself. Outcomes must be equal.
 * Every {@code compareEvery} steps and at the end the whole trees are compared
 * ({@link #compareTrees()}). The first divergence throws an {@link AssertionError} that carries the
 * seed, the step number, the operation and the last {@value #HISTORY} operations with their outcomes.
 *
 * <h2>What the trees are compared on</h2>
 * Walking both trees without following symlinks, names sorted: the names in each directory; the type
 * of each entry; permission bits (mode &amp; 07777, not for symlinks); link count ({@code unix:nlink});
 * for regular files size and content; symlink targets; user xattrs (names and values, files and
 * directories); the partition of paths into hard-link groups by {@code unix:ino}, which must be the
 * same in both trees; and the mtime (in microseconds) of an inode whose mtime was last set
 * explicitly by an operation, that no operation may have modified since, and whose reference mtime
 * still is that value. An explicit mtime is also read back at once in both trees, and stat
 * operations include it while it holds; times are otherwise never compared. Directory sizes, owners,
 * atime, ctime and the roots' own attributes are not compared.
 *
 * <h2>Operations</h2>
 * create (createFile, CREATE_NEW, CREATE), positional write (often across 1 MiB boundaries, rarely
 * near 5 GiB, sometimes with force), append (stream and channel), whole-file overwrite, setLength
 * smaller and larger (RandomAccessFile), ranged read, mkdir, rmdir (empty and not), unlink and
 * deleteIfExists, rename (file over file, onto its own hard link, directory over an empty and a
 * non-empty directory, into its own subtree, to a new name, anything; ATOMIC_MOVE,
 * REPLACE_EXISTING or neither), hard link, symlink, chmod (owner keeps rwx), set mtime, user xattrs
 * (set, remove, list, get), open + unlink + read/write/truncate through the open channel + close,
 * stat, readdir, readlink, and {@code rm -r} to keep the tree at a few dozen entries. Names come
 * from a pool of seven, so collisions and failures are frequent; {@link #outcomeCounts()} shows
 * what a run covered.
 *
 * <h2>Content of large sparse files</h2>
 * Files up to {@value #FULL_COMPARE_LIMIT} bytes are compared byte for byte. Larger ones (the sparse
 * writes put data near 5 GiB) are compared on every range any operation ever wrote to any file
 * (offsets recorded globally, widened by 4 KiB), the first and last 64 KiB, and a few random 64 KiB
 * probes: outside the recorded ranges the reference can only hold zeros, so this compares all
 * non-zero data, but holes in big files are only sampled.
 *
 * <h2>Limits</h2>
 * Symlink targets are relative and point downwards (no {@code ..}), so no operation, even after a
 * symlink is moved, can reach outside the roots. Both roots must be on filesystems with user xattrs
 * and POSIX permissions, and must start with identical contents (normally empty); the first
 * {@link #run} checks that. Not thread-safe.
 */
public final class FsDifferential {

  private static final String[] NAMES = {"a", "b", "c", "d", "e", "f", "g"};
  private static final String[] XATTR_NAMES = {"a", "b", "c", "long.name"};
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;
  private static final long FULL_COMPARE_LIMIT = 64 * MIB;
  private static final int CHUNK = 1 << 20;
  private static final int PROBE = 64 << 10;
  private static final int HISTORY = 20;
  /** Above this many entries the tree is pruned with high probability. */
  private static final int MAX_ENTRIES = 48;

  private final Path subject;
  private final Path reference;
  private final long seed;
  private final Random rnd;
  private final boolean renameFlags;
  private int operationsRun;
  private int comparisons;
  private boolean started;

  /** Last operations with their outcomes, oldest first. */
  private final Deque<String> history = new ArrayDeque<>();
  /** Description of the running operation and the outcomes of its sub-steps so far. */
  private String currentOp = "";
  private final List<String> currentOutcomes = new ArrayList<>();

  /** Merged byte ranges [start, end) ever written to any file (see class comment). */
  private final TreeMap<Long, Long> writtenRanges = new TreeMap<>();
  /** Reference inode number to the mtime explicitly set on it and not disturbed since. */
  private final Map<Long, FileTime> explicitMtimes = new HashMap<>();
  /** Paths on which a setxattr succeeded lately, oldest first (may since be gone). */
  private final List<String> xattrPaths = new ArrayList<>();
  /** The reference listing, kept while only read-only operations ran since it was taken. */
  private Snapshot unchanged;
  /** Set by an operation that changes nothing in either tree. */
  private boolean readOnly;
  /** "operation:category" to how often a sub-step ended so, for checking what a run covered. */
  private final Map<String, Integer> outcomeCounts = new TreeMap<>();

  public FsDifferential(Path subjectRoot, Path referenceRoot, long seed) {
    this(subjectRoot, referenceRoot, seed, true);
  }

  /**
   * {@code renameFlags}: the subject takes renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE (not through
   * libfuse 2, which answers EINVAL); without them those operations become plain renames.
   */
  public FsDifferential(Path subjectRoot, Path referenceRoot, long seed, boolean renameFlags) {
    this.subject = Objects.requireNonNull(subjectRoot, "subjectRoot");
    this.reference = Objects.requireNonNull(referenceRoot, "referenceRoot");
    this.seed = seed;
    this.rnd = new Random(seed);
    this.renameFlags = renameFlags;
  }

  public long seed() {
    return seed;
  }

  public int operationsRun() {
    return operationsRun;
  }

  /** How often each kind of operation ended in each outcome category ("rmdir:ENOTEMPTY"), sorted. */
  Map<String, Integer> outcomeCounts() {
    return Collections.unmodifiableMap(outcomeCounts);
  }

  /**
   * Runs {@code operations} random operations, comparing the whole trees every {@code compareEvery}
   * operations (never in between if it is 0 or less) and at the end; throws AssertionError with
   * seed, step number, the operation and the last ~20 operations on the first divergence.
   */
  public void run(int operations, int compareEvery) throws IOException {
    if (operations < 0) {
      throw new IllegalArgumentException("operations must be >= 0, was " + operations);
    }
    if (!started) {
      recordExistingContent();
      started = true;
      compareOrFail("before the first operation");
    }
    unchanged = null; // the trees may have been touched between runs
    boolean comparedLast = false;
    for (int i = 1; i <= operations; i++) {
      int step = operationsRun + 1;
      currentOp = "";
      currentOutcomes.clear();
      try {
        randomOperation();
      } catch (AssertionError | IOException | RuntimeException e) {
        throw failure("step " + step, e);
      }
      operationsRun = step;
      remember("#" + step + " " + currentOp + " -> " + String.join(", ", currentOutcomes));
      comparedLast = compareEvery > 0 && i % compareEvery == 0;
      if (comparedLast) {
        compareOrFail("after step " + step);
      }
    }
    if (!comparedLast) {
      compareOrFail("after step " + operationsRun);
    }
  }

  private void compareOrFail(String when) {
    currentOp = "compareTrees " + when;
    try {
      compareTrees();
    } catch (AssertionError | IOException | RuntimeException e) {
      throw failure("tree comparison " + when, e);
    }
  }

  private AssertionError failure(String where, Throwable cause) {
    StringBuilder m = new StringBuilder();
    m.append("DynamicFS differential divergence, seed=").append(seed).append("L, at ").append(where)
        .append(" (").append(operationsRun).append(" operations completed)\n");
    m.append("  operation: ").append(currentOp).append('\n');
    if (!currentOutcomes.isEmpty()) {
      m.append("  sub-steps that agreed: ").append(String.join(", ", currentOutcomes)).append('\n');
    }
    m.append("  problem: ").append(cause instanceof AssertionError ? cause.getMessage() : cause.toString())
        .append('\n');
    m.append("  subject=").append(subject).append(" reference=").append(reference).append('\n');
    m.append("  last ").append(history.size()).append(" operations:\n");
    for (String h : history) {
      m.append("    ").append(h).append('\n');
    }
    m.append("  replay: new FsDifferential(subject, reference, ").append(seed)
        .append("L).run(...) on empty trees repeats the same operation sequence");
    return new AssertionError(m.toString(), cause);
  }

  private void remember(String line) {
    if (history.size() == HISTORY) {
      history.removeFirst();
    }
    history.addLast(line);
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  private void randomOperation() throws IOException {
    Snapshot s = unchanged != null ? unchanged : Snapshot.of(reference);
    unchanged = null;
    readOnly = false;
    randomOperation(s);
    if (readOnly) {
      unchanged = s;
    }
  }

  private void randomOperation(Snapshot s) throws IOException {
    if (s.all.size() > MAX_ENTRIES && rnd.nextInt(100) < 50) {
      removeTree(s, s.topLevel.get(rnd.nextInt(s.topLevel.size())));
      return;
    }
    int r = rnd.nextInt(100);
    if (r < 7) {
      createFile(s);
    } else if (r < 14) {
      writeAt(s);
    } else if (r < 17) {
      copyRange(s);
    } else if (r < 22) {
      append(s);
    } else if (r < 26) {
      overwrite(s);
    } else if (r < 32) {
      truncate(s);
    } else if (r < 37) {
      read(s);
    } else if (r < 39) {
      seekDataHole(s);
    } else if (r < 45) {
      mkdir(s);
    } else if (r < 49) {
      rmdir(s);
    } else if (r < 54) {
      unlink(s);
    } else if (r < 62 || (r < 65 && !renameFlags)) {
      rename(s);
    } else if (r < 65) {
      renameWithFlags(s);
    } else if (r < 69) {
      link(s);
    } else if (r < 73) {
      symlink(s);
    } else if (r < 76) {
      chmod(s);
    } else if (r < 80) {
      setMtime(s);
    } else if (r < 87) {
      xattr(s);
    } else if (r < 90) {
      openUnlinkUse(s);
    } else if (r < 95) {
      inspect(s);
    } else if (r < 96 && !s.topLevel.isEmpty()) {
      removeTree(s, s.all.get(rnd.nextInt(s.all.size())).rel);
    } else {
      writeAt(s);
    }
  }

  private void createFile(Snapshot s) throws IOException {
    String p = newPath(s);
    int kind = rnd.nextInt(3);
    if (kind == 0) {
      op("createFile " + p);
      touchEntry(p);
      both((root, side) -> {
        Files.createFile(at(root, p));
        return Outcome.ok("");
      });
    } else {
      byte[] data = data(writeLength());
      boolean exclusive = kind == 1;
      op("create " + p + (exclusive ? " CREATE_NEW" : " CREATE") + " +write len=" + data.length);
      touchEntry(p);
      addWritten(0, data.length);
      both((root, side) -> {
        try (FileChannel ch = FileChannel.open(at(root, p), StandardOpenOption.WRITE,
            exclusive ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE)) {
          writeFully(ch, data, 0);
          return Outcome.ok("size=" + ch.size());
        }
      });
    }
  }

  private void writeAt(Snapshot s) throws IOException {
    String p = existingFile(s);
    long size = sizeOf(p);
    int len = writeLength();
    long off;
    String kind = "write";
    int r = rnd.nextInt(100);
    if (r < 52) {
      off = nextLong(Math.min(size, 4 * MIB) + (64 << 10));
    } else if (r < 87) { // span a 1 MiB block boundary, or touch one exactly
      kind = "write-boundary";
      long boundary = (1 + rnd.nextInt(3)) * MIB;
      int how = rnd.nextInt(4);
      off = how == 0 ? boundary : how == 1 ? boundary - len : boundary - 1 - rnd.nextInt(len);
      off = Math.max(0, off);
    } else if (r < 91) { // sparse write far out
      kind = "write-far";
      len = 1 + rnd.nextInt(64 << 10);
      off = 5 * GIB + nextLong(2 * MIB) - (64 << 10);
    } else { // at or beyond the end
      off = rnd.nextBoolean() ? size : size + nextLong(3 * MIB);
    }
    byte[] data = data(len);
    boolean create = rnd.nextInt(5) == 0;
    boolean force = rnd.nextInt(20) == 0;
    long offset = off;
    op(kind + " " + p + " off=" + off + " len=" + len + (create ? " CREATE" : "") + (force ? " +force" : ""));
    touchEntry(p);
    addWritten(offset, len);
    both((root, side) -> {
      OpenOption[] opts = create
          ? new OpenOption[] {StandardOpenOption.WRITE, StandardOpenOption.CREATE}
          : new OpenOption[] {StandardOpenOption.WRITE};
      try (FileChannel ch = FileChannel.open(at(root, p), opts)) {
        writeFully(ch, data, offset);
        if (force) {
          ch.force(true);
        }
        return Outcome.ok("size=" + ch.size());
      }
    });
  }

  private void append(Snapshot s) throws IOException {
    String p = existingFile(s);
    byte[] data = data(writeLength());
    boolean create = rnd.nextInt(4) == 0;
    boolean stream = rnd.nextBoolean();
    op("append " + p + " len=" + data.length + (create ? " CREATE" : "") + (stream ? " (stream)" : " (channel)"));
    touchEntry(p);
    addWritten(sizeOf(p), data.length);
    both((root, side) -> {
      Path f = at(root, p);
      if (stream) {
        if (create) {
          Files.write(f, data, StandardOpenOption.APPEND, StandardOpenOption.CREATE);
        } else {
          Files.write(f, data, StandardOpenOption.APPEND);
        }
        return Outcome.ok("");
      }
      OpenOption[] opts = create
          ? new OpenOption[] {StandardOpenOption.APPEND, StandardOpenOption.CREATE}
          : new OpenOption[] {StandardOpenOption.APPEND};
      try (FileChannel ch = FileChannel.open(f, opts)) {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        return Outcome.ok("size=" + ch.size());
      }
    });
  }

  private void overwrite(Snapshot s) throws IOException {
    String p = rnd.nextInt(4) == 0 ? newPath(s) : existingFile(s);
    int len = rnd.nextInt(8) == 0 ? (int) MIB + rnd.nextInt((int) MIB) : writeLength() - 1;
    byte[] data = data(len);
    op("overwrite " + p + " len=" + len);
    touchEntry(p);
    addWritten(0, len);
    both((root, side) -> {
      Files.write(at(root, p), data);
      return Outcome.ok("");
    });
  }

  private void truncate(Snapshot s) throws IOException {
    String p = existingFile(s);
    long size = sizeOf(p);
    long newSize;
    int r = rnd.nextInt(100);
    if (r < 45) {
      newSize = size == 0 ? 0 : nextLong(size);
    } else if (r < 55) {
      newSize = 0;
    } else if (r < 80) {
      newSize = size + 1 + rnd.nextInt(64 << 10);
    } else if (r < 95) { // across the next block boundary
      newSize = (size / MIB + 1) * MIB + rnd.nextInt(3) - 1;
    } else {
      newSize = size;
    }
    long n = Math.max(0, newSize);
    op("setLength " + p + " " + size + " -> " + n);
    touchEntry(p);
    both((root, side) -> {
      // RandomAccessFile "rw" creates a missing file; that happens in both trees alike.
      try (RandomAccessFile raf = new RandomAccessFile(at(root, p).toFile(), "rw")) {
        raf.setLength(n);
        return Outcome.ok("length=" + raf.length());
      }
    });
  }

  private void read(Snapshot s) throws IOException {
    String p = rnd.nextInt(10) == 0 ? anyPath(s) : existingFile(s);
    long size = sizeOf(p);
    long off = readOffset(size);
    int len = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(4096) : 1 + rnd.nextInt(256 << 10);
    op("read " + p + " off=" + off + " len=" + len);
    readOnly = true;
    both((root, side) -> {
      try (FileChannel ch = FileChannel.open(at(root, p), StandardOpenOption.READ)) {
        return Outcome.ok("size=" + ch.size(), readRange(ch, off, len));
      }
    });
  }

  private void mkdir(Snapshot s) throws IOException {
    String p = newPath(s);
    op("mkdir " + p);
    touchEntry(p);
    both((root, side) -> {
      Files.createDirectory(at(root, p));
      return Outcome.ok("");
    });
  }

  private void rmdir(Snapshot s) throws IOException {
    String p;
    int r = rnd.nextInt(100);
    if (r < 45 && !s.emptyDirs.isEmpty()) {
      p = pick(s.emptyDirs);
    } else if (r < 85 && !s.nonEmptyDirs.isEmpty()) {
      p = pick(s.nonEmptyDirs);
    } else {
      p = anyPath(s);
    }
    op("rmdir " + p);
    removeRequested(p);
    both((root, side) -> {
      Files.delete(at(root, p));
      return Outcome.ok("");
    });
  }

  private void unlink(Snapshot s) throws IOException {
    String p;
    int r = rnd.nextInt(100);
    if (r < 65) {
      p = existingFile(s);
    } else if (r < 85 && !s.symlinks.isEmpty()) {
      p = pick(s.symlinks);
    } else {
      p = anyPath(s);
    }
    boolean ifExists = rnd.nextInt(5) == 0;
    op((ifExists ? "deleteIfExists " : "unlink ") + p);
    removeRequested(p);
    both((root, side) -> {
      if (ifExists) {
        return Outcome.ok("deleted=" + Files.deleteIfExists(at(root, p)));
      }
      Files.delete(at(root, p));
      return Outcome.ok("");
    });
  }

  private void rename(Snapshot s) throws IOException {
    String src;
    String dst;
    String kind;
    int r = rnd.nextInt(100);
    if (r < 8 && !s.linkGroups.isEmpty()) {
      List<String> group = pick(s.linkGroups);
      src = pick(group);
      dst = pick(group);
      kind = "onto-own-hard-link";
    } else if (r < 25) {
      src = existingFile(s);
      dst = existingFile(s);
      kind = "file-over-file";
    } else if (r < 35 && !s.subdirs.isEmpty()) {
      src = pick(s.subdirs);
      dst = s.emptyDirs.isEmpty() ? newPath(s) : pick(s.emptyDirs);
      kind = "dir-over-empty-dir";
    } else if (r < 43 && !s.subdirs.isEmpty() && !s.nonEmptyDirs.isEmpty()) {
      src = pick(s.subdirs);
      dst = pick(s.nonEmptyDirs);
      kind = "dir-over-non-empty-dir";
    } else if (r < 50 && !s.subdirs.isEmpty()) {
      src = pick(s.subdirs);
      List<String> inside = new ArrayList<>();
      for (String d : s.subdirs) {
        if (d.startsWith(src + "/")) {
          inside.add(d);
        }
      }
      String base = inside.isEmpty() || rnd.nextBoolean() ? src : pick(inside);
      dst = base + "/" + pick(NAMES);
      kind = "dir-into-own-subtree";
    } else if (r < 80) {
      src = anyPath(s);
      dst = newPath(s);
      kind = "to-new-name";
    } else {
      src = anyPath(s);
      dst = anyPath(s);
      kind = "any";
    }
    int o = rnd.nextInt(100);
    CopyOption[] options = o < 40 ? new CopyOption[] {StandardCopyOption.ATOMIC_MOVE}
        : o < 75 ? new CopyOption[] {StandardCopyOption.REPLACE_EXISTING} : new CopyOption[0];
    op("rename[" + kind + "] " + src + " -> " + dst + " " + Arrays.toString(options));
    touchEntry(src);
    removeRequested(dst);
    invalidate(src, false); // a moved directory's ".." changes
    both((root, side) -> {
      Files.move(at(root, src), at(root, dst), options);
      return Outcome.ok("");
    });
  }

  /** renameat2 with RENAME_NOREPLACE or RENAME_EXCHANGE between any two paths (often missing or equal). */
  private void renameWithFlags(Snapshot s) throws IOException {
    String src = anyPath(s);
    String dst = rnd.nextInt(4) == 0 ? newPath(s) : anyPath(s);
    boolean exchange = rnd.nextBoolean();
    int flags = exchange ? NativeCalls.RENAME_EXCHANGE : NativeCalls.RENAME_NOREPLACE;
    op("renameat2[" + (exchange ? "EXCHANGE" : "NOREPLACE") + "] " + src + " -> " + dst);
    touchEntry(src);
    touchEntry(dst);
    invalidate(src, false);
    invalidate(dst, false);
    both((root, side) -> {
      NativeCalls.renameat2(at(root, src), at(root, dst), flags);
      return Outcome.ok("");
    });
  }

  /**
   * copy_file_range from an existing file to an existing or new one, block-aligned (whole blocks shared) or
   * not, sometimes past the source's end, sometimes within one file (overlapping ranges fail EINVAL on both).
   */
  private void copyRange(Snapshot s) throws IOException {
    String src = existingFile(s);
    String dst = rnd.nextInt(3) == 0 ? newPath(s) : existingFile(s);
    long srcSize = sizeOf(src);
    long offIn;
    long offOut;
    int r = rnd.nextInt(100);
    if (r < 40) {
      offIn = 0;
      offOut = 0;
    } else if (r < 70) {
      offIn = nextLong(4) * MIB;
      offOut = nextLong(4) * MIB + (rnd.nextBoolean() ? 0 : offIn % MIB);
    } else {
      offIn = nextLong(Math.max(1, srcSize) + (64 << 10));
      offOut = nextLong(6 * MIB);
    }
    long len = rnd.nextInt(4) == 0 ? Long.MAX_VALUE >> 2 : 1 + nextLong(4 * MIB);
    if (srcSize - offIn > 16 * MIB) {
      len = Math.min(len, 4 * MIB); // not the sparse files' gigabytes: the reference would write every zero
    }
    long length = len;
    long copied = Math.max(0, Math.min(len, srcSize - offIn));
    op("copy_file_range " + src + "@" + offIn + " -> " + dst + "@" + offOut + " len=" + len);
    touchEntry(dst);
    addWritten(offOut, copied);
    both((root, side) -> Outcome.ok("copied=" + NativeCalls.copyFileRange(at(root, src), offIn, at(root, dst),
        offOut, length)));
  }

  /**
   * lseek SEEK_DATA or SEEK_HOLE at a random offset of a file. Where holes are depends on the filesystem
   * (DynamicFS has whole-block holes and stores a block of zeros as one; another filesystem reports 4 KiB
   * holes, or none at all), so the answers are not compared with each other: each side's must be one a
   * correct filesystem may give. ENXIO exactly at or past the end for SEEK_HOLE, and there or when only
   * zeros follow for SEEK_DATA; otherwise an offset in [offset, size], a SEEK_DATA having skipped only zeros
   * (read in the reference, whose bytes are the same).
   */
  private void seekDataHole(Snapshot s) throws IOException {
    String p = existingFile(s);
    long size = sizeOf(p);
    long off = rnd.nextInt(5) == 0 ? size + nextLong(3) : nextLong(Math.max(1, size));
    boolean hole = rnd.nextBoolean();
    op("lseek[" + (hole ? "SEEK_HOLE" : "SEEK_DATA") + "] " + p + " off=" + off);
    readOnly = true;
    both((root, side) -> {
      Path f = at(root, p);
      if (!Files.isRegularFile(f)) {
        return Outcome.ok("not a regular file"); // a directory's offsets are the filesystem's own
      }
      long sz = Files.size(f);
      long at;
      try {
        at = NativeCalls.seek(f, off, hole ? NativeCalls.SEEK_HOLE : NativeCalls.SEEK_DATA);
      } catch (NativeCalls.ErrnoException e) {
        if (!"ENXIO".equals(errorCategory(e)) || (off < sz && hole)) {
          throw e;
        }
        if (off < sz) {
          requireZeros(at(reference, p), off, sz); // SEEK_DATA: ENXIO only if just zeros follow
        }
        return Outcome.ok(off >= sz ? "ENXIO past the end" : "");
      }
      if (off >= sz || at < off || at > sz) {
        throw new AssertionError("lseek answered " + at + " for offset " + off + " of a " + sz + "-byte file");
      }
      if (!hole) {
        requireZeros(at(reference, p), off, at);
      }
      return Outcome.ok("");
    });
  }

  /** The reference file's bytes in [from, to) are zeros (at most the first and last 4 MiB are read). */
  private static void requireZeros(Path f, long from, long to) throws IOException {
    long window = 4 * MIB;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      for (long[] range : new long[][] {{from, Math.min(to, from + window)}, {Math.max(from, to - window), to}}) {
        ByteBuffer b = ByteBuffer.allocate((int) (range[1] - range[0]));
        ch.read(b, range[0]);
        for (int i = 0; i < b.position(); i++) {
          if (b.get(i) != 0) {
            throw new AssertionError("SEEK_DATA skipped non-zero data at " + (range[0] + i));
          }
        }
      }
    }
  }

  private void link(Snapshot s) throws IOException {
    String target;
    int r = rnd.nextInt(100);
    if (r < 75) {
      target = existingFile(s);
    } else if (r < 85 && !s.subdirs.isEmpty()) {
      target = pick(s.subdirs);
    } else {
      target = anyPath(s);
    }
    String p = newPath(s);
    op("link " + p + " => " + target);
    touchEntry(p);
    both((root, side) -> {
      Files.createLink(at(root, p), at(root, target));
      return Outcome.ok("");
    });
  }

  private void symlink(Snapshot s) throws IOException {
    String p = newPath(s);
    String target;
    int r = rnd.nextInt(100);
    if (r < 10) {
      target = ".";
    } else if (r < 20) {
      target = "missing-" + rnd.nextInt(3); // dangling (until something named so is created)
    } else {
      StringBuilder t = new StringBuilder(pick(NAMES));
      for (int i = rnd.nextInt(3); i > 0; i--) {
        t.append('/').append(pick(NAMES));
      }
      target = t.toString(); // relative, downwards: dangling or not depending on the tree
    }
    op("symlink " + p + " -> " + target);
    touchEntry(p);
    both((root, side) -> {
      Files.createSymbolicLink(at(root, p), root.getFileSystem().getPath(target));
      return Outcome.ok("");
    });
  }

  private void chmod(Snapshot s) throws IOException {
    String p = anyPath(s);
    Set<PosixFilePermission> perms = EnumSet.of(PosixFilePermission.OWNER_READ,
        PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    PosixFilePermission[] others = {PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE};
    for (PosixFilePermission perm : others) {
      if (rnd.nextBoolean()) {
        perms.add(perm);
      }
    }
    op("chmod " + p + " " + perms);
    both((root, side) -> {
      Files.setPosixFilePermissions(at(root, p), perms);
      return Outcome.ok("");
    });
  }

  private void setMtime(Snapshot s) throws IOException {
    String p = anyPath(s);
    long micros = (1_500_000_000L + nextLong(300_000_000L)) * 1_000_000L + rnd.nextInt(1_000_000);
    FileTime t = FileTime.from(micros, TimeUnit.MICROSECONDS);
    op("setLastModifiedTime " + p + " " + t);
    Outcome o = both((root, side) -> {
      Files.setLastModifiedTime(at(root, p), t);
      return Outcome.ok("read back " + Files.getLastModifiedTime(at(root, p)).to(TimeUnit.MICROSECONDS) + " us");
    });
    if (o.isOk()) {
      Long ino = inode(p, true);
      if (ino != null) {
        explicitMtimes.put(ino, t);
      }
    }
  }

  private void xattr(Snapshot s) throws IOException {
    int r = rnd.nextInt(100);
    String p;
    if (r >= 45 && !xattrPaths.isEmpty() && rnd.nextInt(3) != 0) {
      p = pick(xattrPaths); // where a setxattr succeeded lately: get and remove find something
    } else {
      p = rnd.nextInt(8) == 0 ? anyPath(s) : rnd.nextInt(4) == 0 ? pick(s.dirs) : existingFile(s);
    }
    String pooled = pick(XATTR_NAMES);
    List<String> present = r >= 45 && rnd.nextInt(3) != 0 ? referenceXattrs(p) : List.of();
    String name = present.isEmpty() ? pooled : pick(present); // get/remove: mostly a name that is there
    if (r < 45) {
      int len = rnd.nextInt(10) == 0 ? 0 : rnd.nextInt(5) == 0 ? 1 + rnd.nextInt(512) : 1 + rnd.nextInt(48);
      byte[] value = data(len);
      op("setxattr " + p + " user." + name + " len=" + len);
      Outcome o = both((root, side) -> {
        xattrView(root, p).write(name, ByteBuffer.wrap(value));
        return Outcome.ok("");
      });
      if (o.isOk() && !xattrPaths.contains(p)) {
        if (xattrPaths.size() == 8) {
          xattrPaths.remove(0);
        }
        xattrPaths.add(p);
      }
    } else if (r < 65) {
      op("removexattr " + p + " user." + name);
      both((root, side) -> {
        xattrView(root, p).delete(name);
        return Outcome.ok("");
      });
    } else if (r < 85) {
      op("listxattr " + p);
      readOnly = true;
      both((root, side) -> Outcome.ok(new TreeSet<>(xattrView(root, p).list()).toString()));
    } else {
      op("getxattr " + p + " user." + name);
      readOnly = true;
      both((root, side) -> Outcome.ok("", readXattr(xattrView(root, p), name)));
    }
  }

  /** Opens a file, unlinks it, then reads and writes through the still-open channel. */
  private void openUnlinkUse(Snapshot s) throws IOException {
    String p = existingFile(s);
    long size = sizeOf(p);
    long readOff = readOffset(size);
    int readLen = 1 + rnd.nextInt(128 << 10);
    long writeOff = rnd.nextInt(3) == 0 ? nextLong(2 * MIB) : nextLong(Math.min(size, 2 * MIB) + 1);
    byte[] data = data(writeLength());
    long shrinkTo = rnd.nextInt(3) == 0 ? nextLong(writeOff + data.length + 1) : -1;
    op("open+unlink+use " + p + " read@" + readOff + "+" + readLen + " write@" + writeOff + "+"
        + data.length + (shrinkTo >= 0 ? " truncate " + shrinkTo : ""));
    touchEntry(p);
    removeRequested(p);
    addWritten(writeOff, data.length);
    FileChannel[] ch = new FileChannel[2];
    try {
      Outcome opened = both((root, side) -> {
        ch[side] = FileChannel.open(at(root, p), StandardOpenOption.READ, StandardOpenOption.WRITE);
        return Outcome.ok("size=" + ch[side].size());
      });
      if (!opened.isOk()) {
        return;
      }
      both((root, side) -> {
        Files.delete(at(root, p));
        return Outcome.ok("");
      });
      // the name is gone at once, with no stand-in such as .fuse_hidden* (hard_remove)
      both((root, side) -> Outcome.ok(listNames(at(root, p).getParent()).toString()));
      both((root, side) -> Outcome.ok("size=" + ch[side].size(), readRange(ch[side], readOff, readLen)));
      both((root, side) -> {
        writeFully(ch[side], data, writeOff);
        return Outcome.ok("size=" + ch[side].size());
      });
      if (shrinkTo >= 0) {
        both((root, side) -> {
          ch[side].truncate(shrinkTo);
          return Outcome.ok("size=" + ch[side].size());
        });
      }
      long from = Math.max(0, writeOff - 4096);
      both((root, side) -> Outcome.ok("size=" + ch[side].size(), readRange(ch[side], from, data.length + 8192)));
      both((root, side) -> {
        FileChannel c = ch[side];
        ch[side] = null;
        c.close();
        return Outcome.ok("closed");
      });
    } finally {
      for (FileChannel c : ch) {
        if (c != null) {
          try {
            c.close();
          } catch (IOException ignored) {
            // the divergence being reported matters more than this close
          }
        }
      }
    }
  }

  /** Read-only probes: stat (following or not), directory listing, readlink. */
  private void inspect(Snapshot s) throws IOException {
    readOnly = true;
    String p = anyPath(s);
    int r = rnd.nextInt(4);
    if (r == 0 || r == 1) {
      boolean follow = r == 0;
      LinkOption[] options = follow ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
      boolean withMtime = explicitMtimeHolds(at(reference, p), options);
      op("stat " + p + (follow ? "" : " NOFOLLOW") + (withMtime ? " (with explicit mtime)" : ""));
      both((root, side) -> {
        Map<String, Object> a = Files.readAttributes(at(root, p), "unix:*", options);
        return Outcome.ok(describe(a) + (withMtime
            ? " mtime=" + ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.MICROSECONDS) : ""));
      });
    } else if (r == 2) {
      String d = rnd.nextBoolean() ? pick(s.dirs) : p;
      op("readdir " + d);
      both((root, side) -> Outcome.ok(listNames(at(root, d)).toString()));
    } else {
      String l = s.symlinks.isEmpty() || rnd.nextInt(4) == 0 ? p : pick(s.symlinks);
      op("readlink " + l);
      both((root, side) -> Outcome.ok(Files.readSymbolicLink(at(root, l)).toString()));
    }
  }

  /** Deletes a subtree entry by entry, deepest first, as listed in the reference. */
  private void removeTree(Snapshot s, String top) throws IOException {
    List<String> order = new ArrayList<>();
    for (Entry e : s.all) {
      if (e.rel.equals(top) || e.rel.startsWith(top + "/")) {
        order.add(e.rel);
      }
    }
    Collections.reverse(order); // s.all is pre-order, so reversed every child precedes its parent
    op("rm -r " + top + " (" + order.size() + " entries)");
    for (String p : order) {
      removeRequested(p);
      both("delete " + p, (root, side) -> {
        Files.delete(at(root, p));
        return Outcome.ok("");
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Running one operation on both trees

  @FunctionalInterface
  private interface Action {
    Outcome apply(Path root, int side) throws IOException;
  }

  private void op(String description) {
    currentOp = description;
  }

  private Outcome both(Action action) {
    return both(null, action);
  }

  /** Applies the action to the subject (side 0) and the reference (side 1); outcomes must agree. */
  private Outcome both(String subStep, Action action) {
    Outcome s = attempt(subject, 0, action);
    Outcome r = attempt(reference, 1, action);
    String label = subStep == null ? "" : subStep + ": ";
    String difference = s.differenceFrom(r);
    if (difference != null) {
      throw new AssertionError(label + "outcomes differ: " + difference
          + "\n    subject:   " + s + "\n    reference: " + r, s.error != null ? s.error : r.error);
    }
    currentOutcomes.add(label + r.category);
    int space = currentOp.indexOf(' ');
    outcomeCounts.merge((space < 0 ? currentOp : currentOp.substring(0, space)) + ":" + r.category, 1, Integer::sum);
    return r;
  }

  private static Outcome attempt(Path root, int side, Action action) {
    try {
      return Objects.requireNonNull(action.apply(root, side));
    } catch (IOException e) {
      return Outcome.failed(e);
    } catch (UncheckedIOException e) {
      return Outcome.failed(e.getCause());
    }
  }

  private static final class Outcome {
    final String category;
    final String detail;
    final byte[] data;
    final Throwable error;

    private Outcome(String category, String detail, byte[] data, Throwable error) {
      this.category = category;
      this.detail = detail;
      this.data = data;
      this.error = error;
    }

    static Outcome ok(String detail) {
      return new Outcome("ok", detail, null, null);
    }

    static Outcome ok(String detail, byte[] data) {
      return new Outcome("ok", detail, data, null);
    }

    static Outcome failed(Throwable e) {
      return new Outcome(errorCategory(e), "", null, e);
    }

    boolean isOk() {
      return error == null;
    }

    String differenceFrom(Outcome other) {
      if (!category.equals(other.category)) {
        return "subject " + category + ", reference " + other.category;
      }
      if (!detail.equals(other.detail)) {
        return "result: subject [" + detail + "], reference [" + other.detail + "]";
      }
      if ((data == null) != (other.data == null)) {
        return "data present in one tree only";
      }
      if (data != null && !Arrays.equals(data, other.data)) {
        int i = Arrays.mismatch(data, other.data);
        return "data: subject " + data.length + " bytes, reference " + other.data.length
            + " bytes, first difference at index " + i + describeByteAt(data, other.data, i);
      }
      return null;
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(category);
      if (!detail.isEmpty()) {
        b.append(' ').append(detail);
      }
      if (data != null) {
        b.append(" (").append(data.length).append(" bytes)");
      }
      if (error != null) {
        b.append(" <- ").append(error);
      }
      return b.toString();
    }
  }

  private static String describeByteAt(byte[] a, byte[] b, int i) {
    String x = i < a.length ? String.format("0x%02x", a[i] & 0xff) : "EOF";
    String y = i < b.length ? String.format("0x%02x", b[i] & 0xff) : "EOF";
    return " (subject " + x + ", reference " + y + ")";
  }

  private static final Map<String, String> ERRNO_BY_MESSAGE = new LinkedHashMap<>();

  static {
    String[][] table = {
        {"No such file or directory", "ENOENT"}, {"File exists", "EEXIST"},
        {"Directory not empty", "ENOTEMPTY"}, {"Not a directory", "ENOTDIR"},
        {"Is a directory", "EISDIR"}, {"Invalid argument", "EINVAL"},
        {"Permission denied", "EACCES"}, {"Operation not permitted", "EPERM"},
        {"No data available", "ENODATA"}, {"Numerical result out of range", "ERANGE"},
        {"File name too long", "ENAMETOOLONG"}, {"No space left on device", "ENOSPC"},
        {"Input/output error", "EIO"}, {"Function not implemented", "ENOSYS"},
        {"Operation not supported", "EOPNOTSUPP"}, {"Too many links", "EMLINK"},
        {"File too large", "EFBIG"}, {"Argument list too long", "E2BIG"},
        {"Bad file descriptor", "EBADF"}, {"Device or resource busy", "EBUSY"},
        {"Invalid cross-device link", "EXDEV"}, {"Read-only file system", "EROFS"},
        {"Stale file handle", "ESTALE"}, {"Transport endpoint is not connected", "ENOTCONN"},
        {"Software caused connection abort", "ECONNABORTED"}, {"Disk quota exceeded", "EDQUOT"},
        {"Value too large for defined data type", "EOVERFLOW"}, {"Text file busy", "ETXTBSY"},
        {"No such device or address", "ENXIO"},
    };
    for (String[] row : table) {
      ERRNO_BY_MESSAGE.put(row[0], row[1]);
    }
  }

  /** Maps an exception to an errno-like category; equal categories count as the same failure. */
  static String errorCategory(Throwable t) {
    if (t instanceof NoSuchFileException) {
      return "ENOENT";
    } else if (t instanceof FileAlreadyExistsException) {
      return "EEXIST";
    } else if (t instanceof DirectoryNotEmptyException) {
      return "ENOTEMPTY";
    } else if (t instanceof NotDirectoryException) {
      return "ENOTDIR";
    } else if (t instanceof AccessDeniedException) {
      return "EACCES";
    } else if (t instanceof NotLinkException) {
      return "EINVAL";
    } else if (t instanceof AtomicMoveNotSupportedException) {
      return "EXDEV";
    } else if (t instanceof FileSystemLoopException) {
      return "ELOOP";
    }
    String reason;
    if (t instanceof FileSystemException) {
      reason = ((FileSystemException) t).getReason();
    } else if (t instanceof FileNotFoundException && t.getMessage() != null
        && t.getMessage().endsWith(")") && t.getMessage().contains(" (")) {
      String m = t.getMessage(); // "path (reason)"
      reason = m.substring(m.lastIndexOf(" (") + 2, m.length() - 1);
    } else {
      reason = t.getMessage();
    }
    String errno = errnoOf(reason);
    return errno != null ? errno : t.getClass().getSimpleName() + "(" + reason + ")";
  }

  private static String errnoOf(String reason) {
    if (reason == null) {
      return null;
    }
    if (reason.startsWith("Too many levels of symbolic links")) {
      return "ELOOP";
    }
    String errno = ERRNO_BY_MESSAGE.get(reason);
    int colon = reason.lastIndexOf(": "); // "Unable to get size of extended attribute 'a': No data available"
    if (errno == null && colon >= 0) {
      errno = ERRNO_BY_MESSAGE.get(reason.substring(colon + 2));
    }
    return errno;
  }

  // ---------------------------------------------------------------------------------------------
  // Tree comparison

  /** Compares both trees now; AssertionError naming the first differing path and attribute. */
  public void compareTrees() throws IOException {
    comparisons++;
    Random probes = new Random(seed * 1_000_003L + comparisons);
    Map<String, Long> subjectInodes = new TreeMap<>();
    Map<String, Long> referenceInodes = new TreeMap<>();
    compareDirectory("", probes, subjectInodes, referenceInodes);
    compareLinkGroups(subjectInodes, referenceInodes);
  }

  private void compareDirectory(String rel, Random probes, Map<String, Long> subjectInodes,
      Map<String, Long> referenceInodes) throws IOException {
    TreeSet<String> s;
    TreeSet<String> r;
    try {
      s = listNames(at(subject, rel));
      r = listNames(at(reference, rel));
    } catch (IOException | UncheckedIOException e) {
      throw mismatch(rel, "directory listing failed: " + e, e);
    }
    if (!s.equals(r)) {
      TreeSet<String> onlySubject = new TreeSet<>(s);
      onlySubject.removeAll(r);
      TreeSet<String> onlyReference = new TreeSet<>(r);
      onlyReference.removeAll(s);
      String first = !onlySubject.isEmpty() && (onlyReference.isEmpty()
          || onlySubject.first().compareTo(onlyReference.first()) < 0) ? onlySubject.first() : onlyReference.first();
      throw mismatch(child(rel, first), "existence: only in subject " + onlySubject
          + ", only in reference " + onlyReference + " (directory " + show(rel) + ")", null);
    }
    for (String name : s) {
      String c = child(rel, name);
      boolean isDir;
      try {
        isDir = compareEntry(c, probes, subjectInodes, referenceInodes);
      } catch (IOException | UncheckedIOException e) {
        throw mismatch(c, "reading attributes/content failed: " + e, e);
      }
      if (isDir) {
        compareDirectory(c, probes, subjectInodes, referenceInodes);
      }
    }
  }

  /** Compares one entry; returns whether it is a directory to descend into. */
  private boolean compareEntry(String rel, Random probes, Map<String, Long> subjectInodes,
      Map<String, Long> referenceInodes) throws IOException {
    Path sp = at(subject, rel);
    Path rp = at(reference, rel);
    Map<String, Object> sa = Files.readAttributes(sp, "unix:*", LinkOption.NOFOLLOW_LINKS);
    Map<String, Object> ra = Files.readAttributes(rp, "unix:*", LinkOption.NOFOLLOW_LINKS);
    String type = typeOf(ra);
    check(rel, "type", typeOf(sa), type);
    subjectInodes.put(rel, (Long) sa.get("ino"));
    long referenceIno = (Long) ra.get("ino");
    referenceInodes.put(rel, referenceIno);
    check(rel, "link count", sa.get("nlink"), ra.get("nlink"));
    if (!type.equals("symlink")) {
      check(rel, "permissions", mode(sa), mode(ra));
      compareXattrs(rel, sp, rp);
    }
    FileTime explicit = explicitMtimes.get(referenceIno);
    if (explicit != null && explicit.equals(ra.get("lastModifiedTime"))) {
      check(rel, "mtime (set explicitly, unmodified since), in microseconds",
          ((FileTime) sa.get("lastModifiedTime")).to(TimeUnit.MICROSECONDS),
          explicit.to(TimeUnit.MICROSECONDS));
    }
    switch (type) {
      case "file":
        check(rel, "size", sa.get("size"), ra.get("size"));
        compareContent(rel, sp, rp, (Long) ra.get("size"), probes);
        return false;
      case "symlink":
        check(rel, "symlink target", Files.readSymbolicLink(sp).toString(), Files.readSymbolicLink(rp).toString());
        return false;
      case "directory":
        return true;
      default:
        return false;
    }
  }

  private void compareContent(String rel, Path sp, Path rp, long size, Random probes) throws IOException {
    try (FileChannel s = FileChannel.open(sp, StandardOpenOption.READ);
        FileChannel r = FileChannel.open(rp, StandardOpenOption.READ)) {
      if (size <= FULL_COMPARE_LIMIT) {
        compareRange(rel, s, r, 0, size);
        return;
      }
      TreeMap<Long, Long> ranges = new TreeMap<>();
      for (Map.Entry<Long, Long> w : writtenRanges.entrySet()) {
        addRange(ranges, w.getKey() - 4096, w.getValue() + 4096);
      }
      addRange(ranges, 0, PROBE);
      addRange(ranges, size - PROBE, size);
      for (int i = 0; i < 8; i++) {
        long at = (long) (probes.nextDouble() * size);
        addRange(ranges, at, at + PROBE);
      }
      for (Map.Entry<Long, Long> range : ranges.entrySet()) {
        long from = Math.max(0, range.getKey());
        long to = Math.min(size, range.getValue());
        if (from < to) {
          compareRange(rel, s, r, from, to);
        }
      }
    }
  }

  private void compareRange(String rel, FileChannel s, FileChannel r, long from, long to) throws IOException {
    ByteBuffer sb = ByteBuffer.allocate(CHUNK);
    ByteBuffer rb = ByteBuffer.allocate(CHUNK);
    for (long pos = from; pos < to; pos += CHUNK) {
      int len = (int) Math.min(CHUNK, to - pos);
      int sn = readInto(s, sb, pos, len);
      int rn = readInto(r, rb, pos, len);
      int i = Arrays.mismatch(sb.array(), 0, sn, rb.array(), 0, rn);
      if (i >= 0) {
        throw mismatch(rel, "content at offset " + (pos + i) + describeByteAt(
            Arrays.copyOf(sb.array(), sn), Arrays.copyOf(rb.array(), rn), i), null);
      }
    }
  }

  private void compareXattrs(String rel, Path sp, Path rp) throws IOException {
    UserDefinedFileAttributeView sv = Files.getFileAttributeView(sp, UserDefinedFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS);
    UserDefinedFileAttributeView rv = Files.getFileAttributeView(rp, UserDefinedFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS);
    TreeSet<String> sn = new TreeSet<>(sv.list());
    TreeSet<String> rn = new TreeSet<>(rv.list());
    check(rel, "user xattr names", sn, rn);
    for (String name : rn) {
      byte[] s = readXattr(sv, name);
      byte[] r = readXattr(rv, name);
      if (!Arrays.equals(s, r)) {
        throw mismatch(rel, "xattr user." + name + " value: subject " + s.length + " bytes, reference "
            + r.length + " bytes, first difference at " + Arrays.mismatch(s, r), null);
      }
    }
  }

  private void compareLinkGroups(Map<String, Long> subjectInodes, Map<String, Long> referenceInodes) {
    Map<Long, List<String>> subjectGroups = groups(subjectInodes);
    Map<Long, List<String>> referenceGroups = groups(referenceInodes);
    for (Map.Entry<String, Long> e : referenceInodes.entrySet()) {
      List<String> s = subjectGroups.get(subjectInodes.get(e.getKey()));
      List<String> r = referenceGroups.get(e.getValue());
      if (!r.equals(s)) {
        throw mismatch(e.getKey(), "hard-link identity: same inode as " + s + " in subject but as "
            + r + " in reference", null);
      }
    }
  }

  private static Map<Long, List<String>> groups(Map<String, Long> inodes) {
    Map<Long, List<String>> groups = new HashMap<>();
    for (Map.Entry<String, Long> e : inodes.entrySet()) { // sorted by path: lists come out sorted
      groups.computeIfAbsent(e.getValue(), k -> new ArrayList<>()).add(e.getKey());
    }
    return groups;
  }

  private void check(String rel, String attribute, Object subjectValue, Object referenceValue) {
    if (!Objects.equals(subjectValue, referenceValue)) {
      throw mismatch(rel, attribute + ": subject " + subjectValue + ", reference " + referenceValue, null);
    }
  }

  private AssertionError mismatch(String rel, String what, Throwable cause) {
    return new AssertionError("trees differ at " + show(rel) + ": " + what, cause);
  }

  private static String show(String rel) {
    return rel.isEmpty() ? "'.' (root)" : "'" + rel + "'";
  }

  private static String typeOf(Map<String, Object> attrs) {
    if (Boolean.TRUE.equals(attrs.get("isSymbolicLink"))) {
      return "symlink";
    } else if (Boolean.TRUE.equals(attrs.get("isDirectory"))) {
      return "directory";
    } else if (Boolean.TRUE.equals(attrs.get("isRegularFile"))) {
      return "file";
    }
    return "other";
  }

  private static String mode(Map<String, Object> attrs) {
    return String.format("%04o", ((Integer) attrs.get("mode")) & 07777);
  }

  private static String describe(Map<String, Object> attrs) {
    String type = typeOf(attrs);
    return type + " nlink=" + attrs.get("nlink") + (type.equals("symlink") ? "" : " mode=" + mode(attrs))
        + (type.equals("file") ? " size=" + attrs.get("size") : "");
  }

  // ---------------------------------------------------------------------------------------------
  // The reference tree as seen before an operation, for choosing paths

  /** An entry of the reference; key is the file key (device and inode) for hard-link groups. */
  private record Entry(String rel, String type, Object key) {}

  private static final class Snapshot {
    final List<Entry> all = new ArrayList<>(); // pre-order, names sorted, root excluded
    final List<String> topLevel = new ArrayList<>();
    final List<String> files = new ArrayList<>();
    final List<String> dirs = new ArrayList<>(); // including the root ""
    final List<String> subdirs = new ArrayList<>(); // excluding the root
    final List<String> shallowDirs = new ArrayList<>(); // depth <= 2, including the root
    final List<String> emptyDirs = new ArrayList<>();
    final List<String> nonEmptyDirs = new ArrayList<>();
    final List<String> symlinks = new ArrayList<>();
    final List<List<String>> linkGroups = new ArrayList<>(); // regular files with >= 2 names

    static Snapshot of(Path root) throws IOException {
      Snapshot s = new Snapshot();
      s.dirs.add("");
      s.shallowDirs.add("");
      s.scan(root, "", 0);
      Map<Object, List<String>> byInode = new LinkedHashMap<>(); // first seen first: path order
      for (Entry e : s.all) {
        if (e.type.equals("file")) {
          byInode.computeIfAbsent(e.key, k -> new ArrayList<>()).add(e.rel);
        }
      }
      for (List<String> group : byInode.values()) {
        if (group.size() > 1) {
          s.linkGroups.add(group);
        }
      }
      return s;
    }

    private boolean scan(Path root, String rel, int depth) throws IOException {
      boolean any = false;
      for (String name : listNames(at(root, rel))) {
        any = true;
        String c = child(rel, name);
        BasicFileAttributes a = Files.readAttributes(at(root, c), BasicFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        String type = a.isSymbolicLink() ? "symlink" : a.isDirectory() ? "directory"
            : a.isRegularFile() ? "file" : "other";
        all.add(new Entry(c, type, a.fileKey()));
        if (depth == 0) {
          topLevel.add(c);
        }
        switch (type) {
          case "file":
            files.add(c);
            break;
          case "symlink":
            symlinks.add(c);
            break;
          case "directory":
            dirs.add(c);
            subdirs.add(c);
            if (depth + 1 <= 2) {
              shallowDirs.add(c);
            }
            (scan(root, c, depth + 1) ? nonEmptyDirs : emptyDirs).add(c);
            break;
          default:
            break;
        }
      }
      return any;
    }
  }

  private <T> T pick(List<T> list) {
    return list.get(rnd.nextInt(list.size()));
  }

  private String pick(String[] array) {
    return array[rnd.nextInt(array.length)];
  }

  /** Mostly an existing entry of any type, sometimes a random path that may not resolve. */
  private String anyPath(Snapshot s) {
    if (s.all.isEmpty() || rnd.nextInt(4) == 0) {
      return randomPath();
    }
    return pick(s.all).rel;
  }

  /** Mostly an existing regular file; sometimes any entry or a random path. */
  private String existingFile(Snapshot s) {
    int r = rnd.nextInt(100);
    if (r < 82 && !s.files.isEmpty()) {
      return pick(s.files);
    }
    if (r < 91 && !s.symlinks.isEmpty()) {
      return pick(s.symlinks);
    }
    return anyPath(s);
  }

  /** A pool name under an existing shallow directory (often colliding), or a random path. */
  private String newPath(Snapshot s) {
    if (rnd.nextInt(8) == 0) {
      return randomPath();
    }
    return child(pick(s.shallowDirs), pick(NAMES));
  }

  private String randomPath() {
    int r = rnd.nextInt(100);
    int depth = r < 35 ? 1 : r < 70 ? 2 : r < 92 ? 3 : 4;
    StringBuilder b = new StringBuilder(pick(NAMES));
    for (int i = 1; i < depth; i++) {
      b.append('/').append(pick(NAMES));
    }
    return b.toString();
  }

  private int writeLength() {
    int r = rnd.nextInt(100);
    if (r < 50) {
      return 1 + rnd.nextInt(4096);
    } else if (r < 85) {
      return 4097 + rnd.nextInt(60 << 10);
    }
    return (64 << 10) + 1 + rnd.nextInt(136 << 10);
  }

  private long readOffset(long size) {
    int r = rnd.nextInt(100);
    if (r < 60 || writtenRanges.isEmpty()) {
      return nextLong(Math.min(size, 4 * MIB) + 4096);
    } else if (r < 85) { // near the start of some range written before (reaches the far sparse data)
      List<Long> starts = new ArrayList<>(writtenRanges.keySet());
      return Math.max(0, pick(starts) - rnd.nextInt(8192));
    }
    return nextLong(size + 65536);
  }

  /** Content of a write: random, zeros, a repeated short pattern, or text; compressible and dedupable kinds included. */
  private byte[] data(int len) {
    byte[] d = new byte[len];
    int kind = rnd.nextInt(10);
    if (kind < 5) {
      rnd.nextBytes(d);
    } else if (kind < 7) {
      return d; // zeros
    } else if (kind < 9) {
      byte[] pattern = new byte[1 + rnd.nextInt(64)];
      rnd.nextBytes(pattern);
      for (int i = 0; i < len; i++) {
        d[i] = pattern[i % pattern.length];
      }
    } else {
      byte[] text = ("step " + (operationsRun + 1) + " seed " + seed + " lorem ipsum\n").getBytes(
          StandardCharsets.US_ASCII);
      for (int i = 0; i < len; i++) {
        d[i] = text[i % text.length];
      }
    }
    return d;
  }

  private long nextLong(long bound) {
    return bound <= 0 ? 0 : (long) (rnd.nextDouble() * bound);
  }

  // ---------------------------------------------------------------------------------------------
  // Bookkeeping of written ranges and explicit mtimes (reference side only)

  private void recordExistingContent() throws IOException {
    for (Entry e : Snapshot.of(reference).all) {
      if (e.type.equals("file")) {
        addWritten(0, Files.size(at(reference, e.rel)));
      }
    }
  }

  private void addWritten(long offset, long len) {
    addRange(writtenRanges, offset, offset + len);
  }

  private static void addRange(TreeMap<Long, Long> ranges, long start, long end) {
    if (end <= start) {
      return;
    }
    Map.Entry<Long, Long> before = ranges.floorEntry(start);
    if (before != null && before.getValue() >= start) {
      start = before.getKey();
      end = Math.max(end, before.getValue());
      ranges.remove(before.getKey());
    }
    for (Map.Entry<Long, Long> next = ranges.ceilingEntry(start); next != null && next.getKey() <= end;
        next = ranges.ceilingEntry(start)) {
      end = Math.max(end, next.getValue());
      ranges.remove(next.getKey());
    }
    ranges.put(start, end);
  }

  /** Whether the reference entry's mtime was set explicitly and is still what was set. */
  private boolean explicitMtimeHolds(Path p, LinkOption... options) {
    try {
      Map<String, Object> a = Files.readAttributes(p, "unix:ino,lastModifiedTime", options);
      FileTime set = explicitMtimes.get((Long) a.get("ino"));
      return set != null && set.equals(a.get("lastModifiedTime"));
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  /** The entry's content or its directory's entries may change: forget explicit mtimes there. */
  private void touchEntry(String rel) {
    invalidate(rel, true);
    invalidateParent(rel);
  }

  /**
   * The entry may be removed or replaced (its inode number may be reused later). A directory is only
   * removed when empty, so its subtree needs no attention.
   */
  private void removeRequested(String rel) {
    invalidateParent(rel);
    invalidate(rel, false);
    invalidate(rel, true);
  }

  private void invalidateParent(String rel) {
    Path parent = at(reference, rel).getParent();
    Long ino = parent == null ? null : inodeOf(parent, true);
    if (ino != null) {
      explicitMtimes.remove(ino);
    }
  }

  private void invalidate(String rel, boolean follow) {
    Long ino = inode(rel, follow);
    if (ino != null) {
      explicitMtimes.remove(ino);
    }
  }

  private Long inode(String rel, boolean follow) {
    return inodeOf(at(reference, rel), follow);
  }

  private static Long inodeOf(Path p, boolean follow) {
    try {
      return (Long) Files.getAttribute(p, "unix:ino",
          follow ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS});
    } catch (IOException | UncheckedIOException e) {
      return null;
    }
  }

  /** Size of what the path resolves to in the reference, 0 if it does not resolve to a file. */
  private long sizeOf(String rel) {
    try {
      Path p = at(reference, rel);
      return Files.isRegularFile(p) ? Files.size(p) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Small I/O helpers

  private static Path at(Path root, String rel) {
    return rel.isEmpty() ? root : root.resolve(rel);
  }

  private static String child(String rel, String name) {
    return rel.isEmpty() ? name : rel + "/" + name;
  }

  private static TreeSet<String> listNames(Path dir) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        names.add(p.getFileName().toString());
      }
    }
    return names;
  }

  private List<String> referenceXattrs(String rel) {
    try {
      List<String> names = new ArrayList<>(xattrView(reference, rel).list());
      Collections.sort(names);
      return names;
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }

  private static UserDefinedFileAttributeView xattrView(Path root, String rel) {
    return Files.getFileAttributeView(at(root, rel), UserDefinedFileAttributeView.class);
  }

  private static byte[] readXattr(UserDefinedFileAttributeView view, String name) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(Math.max(view.size(name), 0));
    view.read(name, b);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static void writeFully(FileChannel ch, byte[] data, long position) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(data);
    while (b.hasRemaining()) {
      ch.write(b, position + b.position());
    }
  }

  private static byte[] readRange(FileChannel ch, long position, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    int n = readInto(ch, b, position, len);
    return Arrays.copyOf(b.array(), n);
  }

  /** Reads up to len bytes at position into b (cleared first); returns the count, short only at EOF. */
  private static int readInto(FileChannel ch, ByteBuffer b, long position, int len) throws IOException {
    b.clear().limit(len);
    while (b.hasRemaining()) {
      int n = ch.read(b, position + b.position());
      if (n <= 0) {
        break;
      }
    }
    return b.position();
  }
}
