package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.api.StatFs;
import io.dynamicfs.core.api.TimeSpec;
import io.dynamicfs.fuse.FusePreset;
import io.dynamicfs.fuse.KernelInvalidations;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates libfuse's low-level (inode-based) callbacks to {@link FileSystem}. Kernel inode numbers are
 * the engine's: FUSE's root (1) is {@link FileSystem#ROOT_INO}, so nothing is resolved by path and hard
 * links share one kernel inode (their nlink is coherent under attribute caching).
 *
 * <p>Every callback replies exactly once and never throws into native code: an {@link FsException}
 * becomes {@code fuse_reply_err(errno)}, anything else EIO (logged).
 *
 * <p>Lookup counts: each reply that hands the kernel an inode reference (lookup, create, mknod, mkdir,
 * symlink, link) counts +1 and {@code forget} −n, in {@link #lookups}. The engine keeps an unlinked
 * inode only while it has open handles, so for now an inode the kernel still references but that is
 * neither named nor open answers getattr with ENOENT (the kernel then drops it); the counts are kept so a
 * later version can pin such inodes in the engine.
 */
final class LowLevelAdapter {
  private static final Logger log = LoggerFactory.getLogger(LowLevelAdapter.class);
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_RDWR = 2;
  private static final int O_APPEND = 02000;

  private final FileSystem fs;
  private final LibFuseCommon lib;
  private final FuseAbi abi;
  private final Runtime runtime;
  private final double attrTimeout;
  private final double entryTimeout;
  private final KernelCaching caching;
  /**
   * Size and mtime of each file as this kernel last saw them: at open, at release, or in the lookup that made
   * its kernel inode (keep_cache IF_UNCHANGED).
   */
  private final Map<Long, Stamp> stamps = new ConcurrentHashMap<>();
  final CountDownLatch initialized = new CountDownLatch(1);
  /** Notifications to the kernel through the binding's session; set once mounted. */
  private volatile KernelInvalidations.Sink notifier;
  /** The capabilities the kernel offered and those taken, as INIT left them (diagnostics, the mount's log). */
  private volatile int capable;
  private volatile int wanted;
  /** The kernel's writeback cache is on (libfuse 3, asked for by the preset and offered by the kernel). */
  private volatile boolean writeback;

  /** The largest write request the kernel sent (diagnostics: what max_write / max_pages gave). */
  private final java.util.concurrent.atomic.AtomicLong largestWrite = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.LongAdder flushes = new java.util.concurrent.atomic.LongAdder();

  /** Kernel lookup count per inode (absent = 0). */
  private final Map<Long, Long> lookups = new ConcurrentHashMap<>();
  /** Directory listings of open directory handles, built at readdir offset 0. */
  private final Map<Long, Listing> listings = new ConcurrentHashMap<>();

  /** Per-thread native scratch structs (callbacks run on our worker threads). */
  private final ThreadLocal<Scratch> scratch;

  private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[128 << 10]);

  private final class Scratch {
    final Pointer entry = Memory.allocateDirect(runtime, Layout.EntryParam.SIZE, true);
    final Pointer stat = Memory.allocateDirect(runtime, Layout.Stat.SIZE, true);
    final Pointer statvfs = Memory.allocateDirect(runtime, Layout.Statvfs.SIZE, true);
    Pointer data = Memory.allocateDirect(runtime, 128 << 10);
    long dataSize = 128 << 10;

    Pointer data(long size) {
      if (size > dataSize) {
        data = Memory.allocateDirect(runtime, size);
        dataSize = size;
      }
      return data;
    }
  }

  /**
   * A directory's entries as the kernel's dirent records, with each record's start; and their names and
   * inodes, from which readdirplus builds its records with fresh attributes at each request.
   */
  private record Listing(Pointer buf, int[] starts, int end, String[] names, long[] inos) {}

  private record Stamp(long size, long mtimeNs) {
    static Stamp of(Attr a) {
      return new Stamp(a.size(), a.mtimeNs());
    }
  }

  LowLevelAdapter(FileSystem fs, LibFuseCommon lib, FuseAbi abi, KernelCaching caching) {
    this.fs = fs;
    this.lib = lib;
    this.abi = abi;
    this.runtime = Runtime.getRuntime(lib);
    this.caching = caching;
    this.attrTimeout = caching.attrTimeout();
    this.entryTimeout = caching.entryTimeout();
    this.scratch = ThreadLocal.withInitial(Scratch::new);
  }

  void notifier(KernelInvalidations.Sink n) {
    this.notifier = n;
  }

  /** True when the kernel's writeback cache is on for this connection. */
  boolean writeback() {
    return writeback;
  }

  /** {@code want} and {@code capable} of the connection after INIT, as hex (the mount's log line). */
  String negotiated() {
    return String.format("want=0x%x capable=0x%x", wanted, capable);
  }

  KernelCaching caching() {
    return caching;
  }

  /** The largest write request so far, in bytes. */
  long largestWrite() {
    return largestWrite.get();
  }

  /** FLUSH requests the kernel sent (one per close of a handle opened without FOPEN_NOFLUSH). */
  long flushes() {
    return flushes.sum();
  }

  /** Current lookup count of {@code ino} (for tests and diagnostics). */
  long lookupCount(long ino) {
    return lookups.getOrDefault(ino, 0L);
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  @FunctionalInterface
  private interface Body {
    void run() throws IOException;
  }

  private void call(Pointer req, String op, long ino, Body body) {
    try {
      body.run();
    } catch (FsException e) {
      if (e.errno() == Errno.EIO) {
        log.atError().addKeyValue("op", op).addKeyValue("ino", ino).addKeyValue("errno", "EIO")
            .addKeyValue("error", e.getMessage()).log("fuse op failed");
      }
      lib.fuse_reply_err(req, e.errno().code());
    } catch (IOException | RuntimeException | Error e) {
      log.atError().addKeyValue("op", op).addKeyValue("ino", ino).addKeyValue("errno", "EIO").setCause(e)
          .log("fuse op failed");
      try {
        lib.fuse_reply_err(req, Errno.EIO.code());
      } catch (RuntimeException | Error again) {
        log.atError().addKeyValue("op", op).setCause(again).log("cannot reply to fuse request");
      }
    }
  }

  private Caller caller(Pointer req) {
    Pointer ctx = lib.fuse_req_ctx(req);
    return new Caller(ctx.getInt(Layout.Ctx.UID), ctx.getInt(Layout.Ctx.GID), ctx.getInt(Layout.Ctx.PID));
  }

  private static void fillStat(Pointer st, long base, Attr a) {
    st.putLong(base + Layout.Stat.DEV, 0);
    st.putLong(base + Layout.Stat.INO, a.ino());
    st.putLong(base + Layout.Stat.NLINK, a.nlink() & 0xFFFFFFFFL);
    st.putInt(base + Layout.Stat.MODE, a.mode());
    st.putInt(base + Layout.Stat.UID, a.uid());
    st.putInt(base + Layout.Stat.GID, a.gid());
    st.putInt(base + 36, 0);
    st.putLong(base + Layout.Stat.RDEV, a.rdev());
    st.putLong(base + Layout.Stat.SIZE_, a.size());
    st.putLong(base + Layout.Stat.BLKSIZE, a.blockSize());
    st.putLong(base + Layout.Stat.BLOCKS, a.blocks());
    putTime(st, base + Layout.Stat.ATIM, a.atimeNs());
    putTime(st, base + Layout.Stat.MTIM, a.mtimeNs());
    putTime(st, base + Layout.Stat.CTIM, a.ctimeNs());
  }

  private static void putTime(Pointer p, long off, long ns) {
    p.putLong(off, Math.floorDiv(ns, 1_000_000_000L));
    p.putLong(off + 8, Math.floorMod(ns, 1_000_000_000L));
  }

  private Pointer entry(Attr a) {
    Pointer e = scratch.get().entry;
    e.putLong(Layout.EntryParam.INO, a.ino());
    e.putLong(Layout.EntryParam.GENERATION, 0);
    fillStat(e, Layout.EntryParam.ATTR, a);
    e.putDouble(Layout.EntryParam.ATTR_TIMEOUT, attrTimeout);
    e.putDouble(Layout.EntryParam.ENTRY_TIMEOUT, entryTimeout);
    return e;
  }

  /** Replies with a new kernel reference to {@code a}'s inode, counting it. */
  private void replyEntry(Pointer req, Attr a) {
    referenced(a);
    if (lib.fuse_reply_entry(req, entry(a)) != 0) {
      forget(a.ino(), 1); // the kernel never got it
    }
  }

  private void replyAttr(Pointer req, Attr a) {
    Pointer st = scratch.get().stat;
    fillStat(st, 0, a);
    lib.fuse_reply_attr(req, st, attrTimeout);
  }

  private void ok(Pointer req) {
    lib.fuse_reply_err(req, 0);
  }

  private long fh(Pointer fi) {
    return fi.getLong(abi.fileInfoFh);
  }

  private void setFh(Pointer fi, long handle) {
    fi.putLong(abi.fileInfoFh, handle);
  }

  private static byte[] buffer(long size) {
    byte[] b = BUFFERS.get();
    if (b.length < size) {
      b = new byte[(int) size];
      BUFFERS.set(b);
    }
    return b;
  }

  /**
   * Counts a kernel reference to {@code a}'s inode about to be handed out. The first one (none counted, so the
   * kernel holds no inode for it: it sent forget for every earlier one) makes the kernel build a new inode
   * from {@code a}, with no cached pages: under keep_cache IF_UNCHANGED that is what this kernel has seen of
   * the file, so an open that finds it unchanged neither drops pages nor marks the attributes stale. Without
   * this, a file read once after its inode left the kernel's cache (drop_caches, memory pressure) cost an
   * extra getattr round trip at its first stat after open.
   */
  private void referenced(Attr a) {
    if (lookups.merge(a.ino(), 1L, Long::sum) == 1 && caching.keepCache() == FusePreset.KeepCache.IF_UNCHANGED) {
      stamps.put(a.ino(), Stamp.of(a));
    }
  }

  private void forget(long ino, long n) {
    if (lookups.computeIfPresent(ino, (k, v) -> v - n <= 0 ? null : v - n) == null) {
      stamps.remove(ino); // the kernel dropped the inode, and its pages with it
    }
  }

  // ---- the operations table -----------------------------------------------------------------------

  /** libfuse 3's default want for a filesystem like ours, less what DynamicFS does not do itself (see init). */
  private static final int FUSE3_NOT_WANTED = Layout.CAP_HANDLE_KILLPRIV | Layout.CAP_ATOMIC_O_TRUNC
      | Layout.CAP_SPLICE_READ;
  /** Request size asked of a libfuse 3 connection: one engine block (libfuse 3 negotiates max_pages for it). */
  static final int FUSE3_MAX_WRITE = 1 << 20;
  /** The kernel's read-ahead window asked for (libfuse 2 takes it as the max_readahead mount option). */
  private static final int MAX_READAHEAD = 1 << 20;

  /**
   * INIT: the kernel offers capabilities ({@code capable}); libfuse has set its defaults in {@code want};
   * this callback adjusts them. Both libraries: more requests in flight, file handles, and
   * AUTO_INVAL_DATA exactly when the preset asks for it. libfuse 3 also: 1 MiB requests and read-ahead,
   * and none of ATOMIC_O_TRUNC and HANDLE_KILLPRIV, which it wants by default: with them the kernel leaves
   * truncation at open and clearing set-user-ID/set-group-ID on write to the filesystem, and the engine
   * leaves both to the kernel (as on libfuse 2).
   */
  private void init(Pointer userdata, Pointer conn) {
    try {
      // Let the kernel keep more requests in flight (read-ahead, async writes) than libfuse's 12.
      conn.putInt(Layout.ConnInfo.MAX_BACKGROUND, 64);
      conn.putInt(Layout.ConnInfo.CONGESTION_THRESHOLD, 48);
      int can = conn.getInt(Layout.ConnInfo.CAPABLE);
      int want = conn.getInt(Layout.ConnInfo.WANT);
      // File handles (name_to_handle_at/open_by_handle_at, NFS re-export): inode numbers are never reused
      // and survive restarts, so a handle (inode, generation 0) stays valid for as long as the inode lives.
      want |= can & Layout.CAP_EXPORT_SUPPORT;
      if (caching.autoInvalData()) {
        if ((can & Layout.CAP_AUTO_INVAL_DATA) == 0) {
          log.warn("kernel cannot revalidate cached pages on read (no FUSE_AUTO_INVAL_DATA)");
        }
        want |= can & Layout.CAP_AUTO_INVAL_DATA;
      } else {
        want &= ~Layout.CAP_AUTO_INVAL_DATA;
      }
      if (abi == FuseAbi.FUSE3) {
        want &= ~FUSE3_NOT_WANTED;
        want |= can & Layout.CAP_PARALLEL_DIROPS;
        if (caching.writebackCache()) {
          want |= can & Layout.CAP_WRITEBACK_CACHE;
          writeback = (can & Layout.CAP_WRITEBACK_CACHE) != 0;
        }
        conn.putInt(abi.connMaxWrite, FUSE3_MAX_WRITE);
        conn.putInt(abi.connMaxReadahead, MAX_READAHEAD);
      }
      conn.putInt(Layout.ConnInfo.WANT, want);
      capable = can;
      wanted = want;
    } catch (RuntimeException e) {
      log.warn("cannot tune fuse connection", e);
    }
    initialized.countDown();
  }

  private void forgetCallback(Pointer req, long ino, long n) {
    try {
      forget(ino, n);
    } catch (RuntimeException e) {
      log.atError().addKeyValue("op", "forget").addKeyValue("ino", ino).setCause(e).log("forget failed");
    }
    lib.fuse_reply_none(req);
  }

  // One delegate object per callback, held here so the GC never frees what native code calls.
  private final LowLevelCallbacks.Init initCb = this::init;
  private final LowLevelCallbacks.Destroy destroyCb = userdata -> { };
  private final LowLevelCallbacks.Lookup lookupCb = this::lookup;
  private final LowLevelCallbacks.Forget forgetCb = this::forgetCallback;
  private final LowLevelCallbacks.GetAttr getattrCb = this::getattr;
  private final LowLevelCallbacks.SetAttr setattrCb = this::setattr;
  private final LowLevelCallbacks.ReadLink readlinkCb = this::readlink;
  private final LowLevelCallbacks.Mknod mknodCb = this::mknod;
  private final LowLevelCallbacks.Mkdir mkdirCb = this::mkdir;
  private final LowLevelCallbacks.Remove unlinkCb = this::unlink;
  private final LowLevelCallbacks.Remove rmdirCb = this::rmdir;
  private final LowLevelCallbacks.Symlink symlinkCb = this::symlink;
  private final LowLevelCallbacks.Rename renameCb = (req, p, n, np, nn) -> rename(req, p, n, np, nn, 0);
  private final LowLevelCallbacks.Rename3 rename3Cb = this::rename;
  private final LowLevelCallbacks.Link linkCb = this::link;
  private final LowLevelCallbacks.FileOp openCb = this::open;
  private final LowLevelCallbacks.Read readCb = this::read;
  private final LowLevelCallbacks.Write writeCb = this::write;
  private final LowLevelCallbacks.FileOp flushCb = this::flush;
  private final LowLevelCallbacks.FileOp releaseCb = this::release;
  private final LowLevelCallbacks.Fsync fsyncCb = this::fsync;
  private final LowLevelCallbacks.FileOp opendirCb = this::opendir;
  private final LowLevelCallbacks.Read readdirCb = this::readdir;
  private final LowLevelCallbacks.Read readdirplusCb = this::readdirplus;
  private final LowLevelCallbacks.FileOp releasedirCb = this::releasedir;
  private final LowLevelCallbacks.Fsync fsyncdirCb = this::fsyncdir;
  private final LowLevelCallbacks.Statfs statfsCb = this::statfs;
  private final LowLevelCallbacks.SetXattr setxattrCb = this::setxattr;
  private final LowLevelCallbacks.GetXattr getxattrCb = this::getxattr;
  private final LowLevelCallbacks.ListXattr listxattrCb = this::listxattr;
  private final LowLevelCallbacks.RemoveXattr removexattrCb = this::removexattr;
  private final LowLevelCallbacks.Access accessCb = this::access;
  private final LowLevelCallbacks.Create createCb = this::create;
  private final LowLevelCallbacks.Fallocate fallocateCb = this::fallocate;
  private final LowLevelCallbacks.CopyFileRange copyFileRangeCb = this::copyFileRange;
  private final LowLevelCallbacks.Lseek lseekCb = this::lseek;

  /** Fills the operations table of either library: the same callbacks, rename's flags and libfuse 3's extras. */
  void install(LowLevelOps ops) {
    ops.init.set(initCb);
    ops.destroy.set(destroyCb);
    ops.lookup.set(lookupCb);
    ops.forget.set(forgetCb);
    ops.getattr.set(getattrCb);
    ops.setattr.set(setattrCb);
    ops.readlink.set(readlinkCb);
    ops.mknod.set(mknodCb);
    ops.mkdir.set(mkdirCb);
    ops.unlink.set(unlinkCb);
    ops.rmdir.set(rmdirCb);
    ops.symlink.set(symlinkCb);
    if (ops.rename3 != null) {
      ops.rename3.set(rename3Cb);
    } else {
      ops.rename.set(renameCb);
    }
    ops.link.set(linkCb);
    ops.open.set(openCb);
    ops.read.set(readCb);
    ops.write.set(writeCb);
    ops.flush.set(flushCb);
    ops.release.set(releaseCb);
    ops.fsync.set(fsyncCb);
    ops.opendir.set(opendirCb);
    ops.readdir.set(readdirCb);
    ops.releasedir.set(releasedirCb);
    ops.fsyncdir.set(fsyncdirCb);
    ops.statfs.set(statfsCb);
    ops.setxattr.set(setxattrCb);
    ops.getxattr.set(getxattrCb);
    ops.listxattr.set(listxattrCb);
    ops.removexattr.set(removexattrCb);
    ops.access.set(accessCb);
    ops.create.set(createCb);
    ops.fallocate.set(fallocateCb);
    if (ops.copyFileRange != null) {
      ops.readdirplus.set(readdirplusCb);
      ops.copyFileRange.set(copyFileRangeCb);
      ops.lseek.set(lseekCb);
    }
    if (Struct.size(ops) != ops.expectedSize()) {
      throw new IllegalStateException("fuse_lowlevel_ops size " + Struct.size(ops) + " != " + ops.expectedSize());
    }
  }

  // ---- callbacks ------------------------------------------------------------------------------

  private void lookup(Pointer req, long parent, String name) {
    call(req, "lookup", parent, () -> {
      if (name.equals(".")) {
        // Only for file handles: the kernel asks for "." of an inode it holds no entry for, of any type.
        replyEntry(req, fs.getattr(parent));
        return;
      }
      long ino;
      try {
        ino = fs.lookup(parent, name);
      } catch (FsException e) {
        if (e.errno() != Errno.ENOENT || caching.negativeTimeout() <= 0) {
          throw e;
        }
        replyNegative(req);
        return;
      }
      replyEntry(req, fs.getattr(ino));
    });
  }

  /** "No such name", cacheable by the kernel for the negative timeout (an entry with inode 0). */
  private void replyNegative(Pointer req) {
    Pointer e = scratch.get().entry;
    e.setMemory(0, Layout.EntryParam.SIZE, (byte) 0);
    e.putDouble(Layout.EntryParam.ENTRY_TIMEOUT, caching.negativeTimeout());
    lib.fuse_reply_entry(req, e);
  }

  private void getattr(Pointer req, long ino, Pointer fi) {
    call(req, "getattr", ino, () -> replyAttr(req, fs.getattr(ino)));
  }

  private void setattr(Pointer req, long ino, Pointer st, int toSet, Pointer fi) {
    call(req, "setattr", ino, () -> {
      Integer mode = (toSet & Layout.SET_ATTR_MODE) != 0 ? st.getInt(Layout.Stat.MODE) & 07777 : null;
      Integer uid = null;
      Integer gid = null;
      if ((toSet & Layout.SET_ATTR_UID) != 0 && st.getInt(Layout.Stat.UID) != -1) {
        uid = st.getInt(Layout.Stat.UID);
      }
      if ((toSet & Layout.SET_ATTR_GID) != 0 && st.getInt(Layout.Stat.GID) != -1) {
        gid = st.getInt(Layout.Stat.GID);
      }
      Long size = (toSet & Layout.SET_ATTR_SIZE) != 0 ? st.getLong(Layout.Stat.SIZE_) : null;
      TimeSpec atime = time(st, toSet, Layout.SET_ATTR_ATIME, Layout.SET_ATTR_ATIME_NOW, Layout.Stat.ATIM);
      TimeSpec mtime = time(st, toSet, Layout.SET_ATTR_MTIME, Layout.SET_ATTR_MTIME_NOW, Layout.Stat.MTIM);
      if (atime != null || mtime != null) {
        atime = atime == null ? TimeSpec.OMIT : atime;
        mtime = mtime == null ? TimeSpec.OMIT : mtime;
      }
      long handle = fi != null ? fh(fi) : 0;
      Attr a;
      if (mode == null && uid == null && gid == null && size == null && atime == null) {
        a = fs.getattr(ino); // e.g. chown(-1, -1)
      } else {
        a = fs.setattr(caller(req), ino, new SetAttr(mode, uid, gid, size, atime, mtime), handle);
      }
      replyAttr(req, a);
    });
  }

  private static TimeSpec time(Pointer st, int toSet, int setBit, int nowBit, int off) {
    if ((toSet & nowBit) != 0) {
      return TimeSpec.NOW;
    }
    if ((toSet & setBit) != 0) {
      return TimeSpec.of(st.getLong(off) * 1_000_000_000L + st.getLong(off + 8));
    }
    return null;
  }

  private void readlink(Pointer req, long ino) {
    call(req, "readlink", ino, () -> lib.fuse_reply_readlink(req, fs.readlink(ino)));
  }

  private void mknod(Pointer req, long parent, String name, int mode, long rdev) {
    call(req, "mknod", parent, () -> replyEntry(req, fs.mknod(caller(req), parent, name, mode, rdev)));
  }

  private void mkdir(Pointer req, long parent, String name, int mode) {
    call(req, "mkdir", parent, () -> replyEntry(req, fs.mkdir(caller(req), parent, name, mode)));
  }

  private void unlink(Pointer req, long parent, String name) {
    call(req, "unlink", parent, () -> {
      fs.unlink(parent, name);
      ok(req);
    });
  }

  private void rmdir(Pointer req, long parent, String name) {
    call(req, "rmdir", parent, () -> {
      fs.rmdir(parent, name);
      ok(req);
    });
  }

  private void symlink(Pointer req, String target, long parent, String name) {
    call(req, "symlink", parent, () -> replyEntry(req, fs.symlink(caller(req), parent, name, target)));
  }

  /** rename; {@code flags} (libfuse 3 only) are renameat2's RENAME_NOREPLACE or RENAME_EXCHANGE. */
  private void rename(Pointer req, long parent, String name, long newParent, String newName, int flags) {
    call(req, "rename", parent, () -> {
      fs.rename(parent, name, newParent, newName, flags);
      ok(req);
    });
  }

  private void link(Pointer req, long ino, long newParent, String newName) {
    call(req, "link", ino, () -> replyEntry(req, fs.link(ino, newParent, newName)));
  }

  /**
   * Keeps the kernel's page cache of the file across this open when the preset allows: always (a single
   * mount: every change passes through this kernel, writes are write-through, so what it cached is never
   * stale), never, or when size and mtime are what this kernel saw at its last open or release of the
   * file (a change made elsewhere, e.g. by another mount, drops the cached pages, and the attributes too).
   * {@code created}: the open made the file, so this kernel caches nothing of it yet.
   */
  private void keepCache(Pointer fi, long ino, Attr now, boolean created) {
    boolean keep = switch (caching.keepCache()) {
      case ALWAYS -> true;
      case NEVER -> false;
      case IF_UNCHANGED -> {
        Stamp seen = stamps.put(ino, Stamp.of(now));
        yield seen != null && seen.equals(Stamp.of(now));
      }
    };
    if (keep) {
      fi.putInt(abi.fileInfoBits, fi.getInt(abi.fileInfoBits) | abi.keepCacheBit);
    } else if (caching.keepCache() == FusePreset.KeepCache.IF_UNCHANGED && !created) {
      staleAttributes(ino);
    }
  }

  /**
   * Marks the attributes this kernel caches for {@code ino} stale, so the next stat, or a read past the
   * size it knew, asks the daemon. Done at an open whose file may have changed elsewhere (another mount of
   * the cluster): dropping the pages is not enough, since the kernel clips reads at the size it cached
   * (close-to-open). Sent before the open's reply, so it takes effect before the opener's first read.
   */
  private void staleAttributes(long ino) {
    KernelInvalidations.Sink n = notifier;
    if (n != null) {
      n.staleAttributes(ino);
    }
  }

  /**
   * The open flags the engine gets. Under the writeback cache the kernel reads pages of a file opened
   * write-only (to fill a page a write covers in part) and computes O_APPEND offsets itself, so the engine
   * opens such a file read-write and without O_APPEND (permissions were checked by the kernel:
   * default_permissions).
   */
  private int engineFlags(int flags) {
    if (!writeback) {
      return flags;
    }
    if ((flags & O_ACCMODE) == O_WRONLY) {
      flags = (flags & ~O_ACCMODE) | O_RDWR;
    }
    return flags & ~O_APPEND;
  }

  private void open(Pointer req, long ino, Pointer fi) {
    call(req, "open", ino, () -> {
      int flags = fi.getInt(Layout.FileInfo.FLAGS);
      long h = fs.open(caller(req), ino, engineFlags(flags));
      setFh(fi, h);
      if ((flags & O_ACCMODE) == O_RDONLY) {
        // Nothing to flush through a handle that cannot write, and no POSIX lock to drop (the kernel keeps
        // locks itself: no getlk/setlk here), so its close makes no FLUSH round trip.
        fi.putInt(abi.fileInfoBits, fi.getInt(abi.fileInfoBits) | abi.noFlushBit);
      }
      try {
        keepCache(fi, ino, caching.keepCache() == FusePreset.KeepCache.IF_UNCHANGED ? fs.getattr(ino) : null, false);
      } catch (IOException | RuntimeException e) {
        fs.release(h);
        throw e;
      }
      if (lib.fuse_reply_open(req, fi) != 0) {
        fs.release(h); // interrupted: the kernel will never release it
      }
    });
  }

  private void create(Pointer req, long parent, String name, int mode, Pointer fi) {
    call(req, "create", parent, () -> {
      OpenResult r = fs.create(caller(req), parent, name, mode, engineFlags(fi.getInt(Layout.FileInfo.FLAGS)));
      setFh(fi, r.handle());
      keepCache(fi, r.attr().ino(), r.attr(), true);
      lookups.merge(r.attr().ino(), 1L, Long::sum); // keepCache stamped it
      if (lib.fuse_reply_create(req, entry(r.attr()), fi) != 0) {
        forget(r.attr().ino(), 1);
        fs.release(r.handle());
      }
    });
  }

  private void read(Pointer req, long ino, long size, long off, Pointer fi) {
    call(req, "read", ino, () -> {
      byte[] b = buffer(size);
      int n = Math.max(fs.read(fh(fi), off, b, 0, (int) size), 0);
      Pointer out = scratch.get().data(n);
      out.put(0, b, 0, n);
      lib.fuse_reply_buf(req, out, n);
    });
  }

  private void write(Pointer req, long ino, Pointer buf, long size, long off, Pointer fi) {
    call(req, "write", ino, () -> {
      if (size > largestWrite.get()) {
        largestWrite.accumulateAndGet(size, Math::max);
      }
      byte[] b = buffer(size);
      buf.get(0, b, 0, (int) size);
      int n = fs.write(fh(fi), off, b, 0, (int) size);
      lib.fuse_reply_write(req, n);
    });
  }

  private void flush(Pointer req, long ino, Pointer fi) {
    flushes.increment();
    call(req, "flush", ino, () -> {
      fs.flush(fh(fi));
      ok(req);
    });
  }

  private void release(Pointer req, long ino, Pointer fi) {
    call(req, "release", ino, () -> {
      fs.release(fh(fi));
      boolean wrote = (fi.getInt(Layout.FileInfo.FLAGS) & O_ACCMODE) != O_RDONLY;
      if (wrote && caching.keepCache() == FusePreset.KeepCache.IF_UNCHANGED && stamps.containsKey(ino)) {
        // What this kernel wrote through the handle is in its page cache: remember the result as seen.
        // Only for writers: release arrives asynchronously, and a reader's late release must not bless
        // a change made elsewhere in the meantime.
        try {
          stamps.put(ino, Stamp.of(fs.getattr(ino)));
        } catch (FsException e) {
          stamps.remove(ino); // unlinked and reclaimed
        }
      }
      ok(req);
    });
  }

  private void fsync(Pointer req, long ino, int datasync, Pointer fi) {
    call(req, "fsync", ino, () -> {
      fs.fsync(fh(fi), datasync != 0);
      ok(req);
    });
  }

  /**
   * A directory handle is an engine handle, so a directory removed (rmdir, or replaced by rename) while
   * open stays answerable through it (fstat: nlink 0) until releasedir.
   */
  private void opendir(Pointer req, long ino, Pointer fi) {
    call(req, "opendir", ino, () -> {
      if (!fs.getattr(ino).isDirectory()) {
        throw FsException.of(Errno.ENOTDIR, "inode %d is not a directory", ino);
      }
      long h = fs.open(caller(req), ino, O_RDONLY);
      setFh(fi, h);
      if (lib.fuse_reply_open(req, fi) != 0) {
        fs.release(h); // interrupted: the kernel will never release it
      }
    });
  }

  private void readdir(Pointer req, long ino, long size, long off, Pointer fi) {
    call(req, "readdir", ino, () -> {
      long dh = fh(fi);
      Listing l = listings.get(dh);
      if (l == null || off == 0) {
        l = list(req, ino);
        listings.put(dh, l);
      }
      int count = l.starts().length;
      if (off < 0 || off >= count) {
        lib.fuse_reply_buf(req, (Pointer) null, 0);
        return;
      }
      int first = (int) off;
      int start = l.starts()[first];
      int last = first;
      // Whole records only: take entries while the next record still ends within size.
      while (last < count && recordEnd(l, last) - start <= size) {
        last++;
      }
      int len = last == first ? 0 : recordEnd(l, last - 1) - start;
      lib.fuse_reply_buf(req, l.buf().slice(start), len);
    });
  }

  /**
   * readdirplus (libfuse 3; the kernel picks it over readdir when it has few of the entries cached): from
   * entry {@code off} on, each entry's dirent with its attributes, read now (the listing was taken at offset
   * 0), as many as fit in {@code size}. Every entry returned but "." and ".." counts a kernel lookup, as a
   * lookup would; an entry whose inode went meanwhile is left out.
   */
  private void readdirplus(Pointer req, long ino, long size, long off, Pointer fi) {
    call(req, "readdirplus", ino, () -> {
      long dh = fh(fi);
      Listing l = listings.get(dh);
      if (l == null || off == 0) {
        l = list(req, ino);
        listings.put(dh, l);
      }
      Pointer buf = scratch.get().data(size);
      long used = 0;
      List<Attr> counted = new java.util.ArrayList<>();
      for (int i = (int) Math.max(off, 0); i < l.names().length; i++) {
        Attr a;
        try {
          a = fs.getattr(l.inos()[i]);
        } catch (FsException e) {
          if (e.errno() == Errno.ENOENT) {
            continue;
          }
          throw e;
        }
        Pointer e = entry(a);
        boolean dots = i < 2;
        if (dots) {
          e.putLong(Layout.EntryParam.INO, 0); // no kernel reference for "." and ".."
        }
        long len = ((LibFuse3LowLevel) lib).fuse_add_direntry_plus(req, buf.slice(used), size - used,
            l.names()[i], e, i + 1);
        if (len > size - used) {
          break;
        }
        used += len;
        if (!dots) {
          counted.add(a);
        }
      }
      for (Attr c : counted) {
        referenced(c);
      }
      if (lib.fuse_reply_buf(req, buf, used) != 0) {
        for (Attr c : counted) {
          forget(c.ino(), 1); // the kernel never got them
        }
      }
    });
  }

  private static int recordEnd(Listing l, int i) {
    return i + 1 < l.starts().length ? l.starts()[i + 1] : l.end();
  }

  /** All entries (".", "..", then the engine's) as dirent records; entry i carries offset i+1. */
  private Listing list(Pointer req, long ino) throws IOException {
    List<DirEntry> entries = fs.readdir(ino);
    int n = entries.size() + 2;
    String[] names = new String[n];
    long[] inos = new long[n];
    int[] modes = new int[n];
    names[0] = ".";
    names[1] = "..";
    inos[0] = ino;
    inos[1] = fs.lookup(ino, "..");
    modes[0] = 0040000;
    modes[1] = 0040000;
    for (int i = 0; i < entries.size(); i++) {
      DirEntry e = entries.get(i);
      names[i + 2] = e.name();
      inos[i + 2] = e.ino();
      modes[i + 2] = e.type().bits();
    }
    int[] starts = new int[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      starts[i] = (int) total;
      // FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen): 24-byte header, name, padded to 8
      total += (24 + names[i].getBytes(StandardCharsets.UTF_8).length + 7) & ~7L;
    }
    Pointer buf = Memory.allocateDirect(runtime, (int) Math.max(total, 8), true);
    Pointer st = scratch.get().stat;
    for (int i = 0; i < n; i++) {
      st.putLong(Layout.Stat.INO, inos[i]);
      st.putInt(Layout.Stat.MODE, modes[i]);
      long len = lib.fuse_add_direntry(req, buf.slice(starts[i]), total - starts[i], names[i], st, i + 1);
      long want = (i + 1 < n ? starts[i + 1] : total) - starts[i];
      if (len != want) {
        throw FsException.of(Errno.EIO, "dirent size mismatch for \"%s\": %d != %d", names[i], len, want);
      }
    }
    return new Listing(buf, starts, (int) total, names, inos);
  }

  private void releasedir(Pointer req, long ino, Pointer fi) {
    call(req, "releasedir", ino, () -> {
      listings.remove(fh(fi));
      fs.release(fh(fi));
      ok(req);
    });
  }

  private void fsyncdir(Pointer req, long ino, int datasync, Pointer fi) {
    call(req, "fsyncdir", ino, () -> {
      fs.syncMetadata();
      ok(req);
    });
  }

  private void statfs(Pointer req, long ino) {
    call(req, "statfs", ino, () -> {
      StatFs s = fs.statfs();
      Pointer v = scratch.get().statvfs;
      long bsize = s.blockSize();
      v.putLong(Layout.Statvfs.BSIZE, bsize);
      v.putLong(Layout.Statvfs.FRSIZE, bsize);
      v.putLong(Layout.Statvfs.BLOCKS, s.totalBytes() / bsize);
      v.putLong(Layout.Statvfs.BFREE, s.freeBytes() / bsize);
      v.putLong(Layout.Statvfs.BAVAIL, s.availableBytes() / bsize);
      v.putLong(Layout.Statvfs.FILES, s.totalInodes());
      v.putLong(Layout.Statvfs.FFREE, s.freeInodes());
      v.putLong(Layout.Statvfs.FAVAIL, s.freeInodes());
      v.putLong(Layout.Statvfs.FSID, 0);
      v.putLong(Layout.Statvfs.FLAG, 0);
      v.putLong(Layout.Statvfs.NAMEMAX, s.nameMax());
      lib.fuse_reply_statfs(req, v);
    });
  }

  private void setxattr(Pointer req, long ino, String name, Pointer value, long size, int flags) {
    call(req, "setxattr", ino, () -> {
      byte[] v = new byte[(int) size];
      if (size > 0) {
        value.get(0, v, 0, v.length);
      }
      fs.setxattr(ino, name, v, flags);
      ok(req);
    });
  }

  private void getxattr(Pointer req, long ino, String name, long size) {
    call(req, "getxattr", ino, () -> replySized(req, fs.getxattr(ino, name), size));
  }

  private void listxattr(Pointer req, long ino, long size) {
    call(req, "listxattr", ino, () -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (String n : fs.listxattr(ino)) {
        out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
        out.write(0);
      }
      replySized(req, out.toByteArray(), size);
    });
  }

  /** getxattr/listxattr: size 0 asks for the length; a too small buffer is ERANGE. */
  private void replySized(Pointer req, byte[] v, long size) throws FsException {
    if (size == 0) {
      lib.fuse_reply_xattr(req, v.length);
    } else if (size < v.length) {
      throw new FsException(Errno.ERANGE, "xattr value larger than buffer");
    } else {
      lib.fuse_reply_buf(req, v, v.length);
    }
  }

  private void removexattr(Pointer req, long ino, String name) {
    call(req, "removexattr", ino, () -> {
      fs.removexattr(ino, name);
      ok(req);
    });
  }

  private void access(Pointer req, long ino, int mask) {
    call(req, "access", ino, () -> {
      fs.getattr(ino); // permissions are checked by the kernel (default_permissions)
      ok(req);
    });
  }

  /**
   * fallocate; when it cleared set-user-ID or set-group-ID, the kernel's cached mode is made stale first:
   * after fallocate the kernel refreshes size and times only, so it would show the old mode for up to the
   * attribute timeout.
   */
  private void fallocate(Pointer req, long ino, int mode, long off, long length, Pointer fi) {
    call(req, "fallocate", ino, () -> {
      int before = fs.getattr(ino).mode();
      fs.fallocate(caller(req), fh(fi), mode, off, length);
      if ((before & 06000) != 0 && notifier != null && fs.getattr(ino).mode() != before) {
        staleAttributes(ino);
      }
      ok(req);
    });
  }

  /**
   * The most one copy_file_range answers: its reply's count is 32 bits wide ({@code fuse_write_out.size}), so
   * 4 GiB less 1 MiB (a whole number of blocks); callers (cp) call again for the rest.
   */
  private static final long MAX_COPY = 0xFFF0_0000L;

  /**
   * copy_file_range (libfuse 3): whole blocks shared, edges copied ({@link FileSystem#copyFileRange}). The
   * kernel drops its cached pages of the destination range and updates its size itself.
   */
  private void copyFileRange(Pointer req, long inoIn, long offIn, Pointer fiIn, long inoOut, long offOut,
      Pointer fiOut, long len, int flags) {
    call(req, "copy_file_range", inoOut, () -> {
      long n = fs.copyFileRange(caller(req), fh(fiIn), offIn, fh(fiOut), offOut, Math.min(len, MAX_COPY), flags);
      lib.fuse_reply_write(req, n);
    });
  }

  /** lseek with SEEK_DATA or SEEK_HOLE (libfuse 3; the kernel answers SEEK_SET, SEEK_CUR and SEEK_END itself). */
  private void lseek(Pointer req, long ino, long off, int whence, Pointer fi) {
    call(req, "lseek", ino, () -> ((LibFuse3LowLevel) lib).fuse_reply_lseek(req, fs.seekData(fh(fi), off, whence)));
  }
}
