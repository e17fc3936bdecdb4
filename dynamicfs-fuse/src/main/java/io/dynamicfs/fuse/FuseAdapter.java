package io.dynamicfs.fuse;

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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * Translates libfuse's path-based callbacks to the inode-based {@link FileSystem}. Every callback runs
 * through {@link #call}: an {@link FsException} becomes its negated errno, anything else EIO (logged with
 * the operation and path), and nothing reaches native code. Paths are resolved component by component
 * from the root, so no full path is ever handed to a system call. Operations on an open handle use the
 * handle, not the path.
 *
 * <p>Unlinking an open file. libfuse's {@code hard_remove} would drop the name, but then fstat on the
 * open descriptor fails (the kernel asks by path, and libfuse has none). Without it, libfuse "hides" the
 * file by renaming it to {@code .fuse_hidden…} and unlinks that name after the last close. We turn the
 * hiding rename into a real unlink (the engine keeps the open inode as an orphan, readable through its
 * handles) and remember which inode the hidden name stands for, so the file vanishes from its
 * directory at once, fstat keeps working, and the directory can be removed.
 */
final class FuseAdapter extends FuseStubFS {
  private static final Logger log = LoggerFactory.getLogger(FuseAdapter.class);
  private static final long UTIME_NOW = (1L << 30) - 1;
  private static final long UTIME_OMIT = (1L << 30) - 2;
  private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[128 << 10]);

  private static final String HIDDEN_PREFIX = ".fuse_hidden";

  private final FileSystem fs;
  /** Hidden names libfuse uses for unlinked open files → their (orphaned) inodes. */
  private final java.util.Map<String, Long> hidden = new java.util.concurrent.ConcurrentHashMap<>();
  final CountDownLatch initialized = new CountDownLatch(1);

  FuseAdapter(FileSystem fs) {
    this.fs = fs;
    // flag_nullpath_ok (bit 0) and flag_utime_omit_ok (bit 2) share one unsigned int in fuse_operations;
    // jnr-fuse declares them as padding, so set the bits in the struct's memory directly.
    Pointer mem = Struct.getMemory(fuseOperations);
    long off = memberOffset(fuseOperations.flag_nullpath_ok);
    mem.putInt(off, mem.getInt(off) | 1 | 4);
  }

  /** jnr-ffi keeps a member's offset package-private; reflection is the only way to read it. */
  private static long memberOffset(Object member) {
    try {
      java.lang.reflect.Method m = Class.forName("jnr.ffi.Struct$Member").getDeclaredMethod("offset");
      m.setAccessible(true);
      return (Long) m.invoke(member);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot locate fuse_operations flags in this jnr-ffi version", e);
    }
  }

  @FunctionalInterface
  private interface Op {
    int run() throws IOException;
  }

  private int call(String op, String path, Op body) {
    try {
      return body.run();
    } catch (FsException e) {
      if (e.errno() == Errno.EIO) {
        log.atError().addKeyValue("op", op).addKeyValue("path", path).addKeyValue("errno", "EIO")
            .addKeyValue("error", e.getMessage()).log("fuse op failed");
      }
      return -e.errno().code();
    } catch (IOException | RuntimeException | Error e) {
      log.atError().addKeyValue("op", op).addKeyValue("path", path).addKeyValue("errno", "EIO").setCause(e)
          .log("fuse op failed");
      return -Errno.EIO.code();
    }
  }

  private Caller caller() {
    FuseContext c = getContext();
    return new Caller((int) c.uid.get(), (int) c.gid.get(), (int) c.pid.get());
  }

  // ---- path resolution ------------------------------------------------------------------------

  private long resolve(String path) throws IOException {
    Long h = hiddenInode(path);
    if (h != null) {
      return h;
    }
    long ino = FileSystem.ROOT_INO;
    int i = 0;
    int n = path.length();
    while (i < n) {
      while (i < n && path.charAt(i) == '/') {
        i++;
      }
      if (i >= n) {
        break;
      }
      int j = path.indexOf('/', i);
      if (j < 0) {
        j = n;
      }
      ino = fs.lookup(ino, path.substring(i, j));
      i = j;
    }
    return ino;
  }

  private Long hiddenInode(String path) {
    if (hidden.isEmpty()) {
      return null;
    }
    int slash = path.lastIndexOf('/');
    String last = path.substring(slash + 1);
    return last.startsWith(HIDDEN_PREFIX) ? hidden.get(last) : null;
  }

  private static String lastComponent(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private record ParentAndName(long parent, String name) {}

  private ParentAndName split(String path) throws IOException {
    int end = path.length();
    while (end > 1 && path.charAt(end - 1) == '/') {
      end--;
    }
    int slash = path.lastIndexOf('/', end - 1);
    String name = path.substring(slash + 1, end);
    long parent = slash <= 0 ? FileSystem.ROOT_INO : resolve(path.substring(0, slash));
    return new ParentAndName(parent, name);
  }

  private static void fill(Attr a, FileStat st) {
    st.st_ino.set(a.ino());
    st.st_mode.set(a.mode());
    st.st_nlink.set(a.nlink());
    st.st_uid.set(a.uid());
    st.st_gid.set(a.gid());
    st.st_rdev.set(a.rdev());
    st.st_size.set(a.size());
    st.st_blocks.set(a.blocks());
    st.st_blksize.set(a.blockSize());
    st.st_atim.tv_sec.set(Math.floorDiv(a.atimeNs(), 1_000_000_000L));
    st.st_atim.tv_nsec.set(Math.floorMod(a.atimeNs(), 1_000_000_000L));
    st.st_mtim.tv_sec.set(Math.floorDiv(a.mtimeNs(), 1_000_000_000L));
    st.st_mtim.tv_nsec.set(Math.floorMod(a.mtimeNs(), 1_000_000_000L));
    st.st_ctim.tv_sec.set(Math.floorDiv(a.ctimeNs(), 1_000_000_000L));
    st.st_ctim.tv_nsec.set(Math.floorMod(a.ctimeNs(), 1_000_000_000L));
  }

  private static byte[] buffer(long size) {
    byte[] b = BUFFERS.get();
    if (b.length < size) {
      b = new byte[(int) size];
      BUFFERS.set(b);
    }
    return b;
  }

  // ---- callbacks ------------------------------------------------------------------------------

  @Override
  public Pointer init(Pointer conn) {
    initialized.countDown();
    return null;
  }

  @Override
  public int getattr(String path, FileStat stat) {
    return call("getattr", path, () -> {
      fill(fs.getattr(resolve(path)), stat);
      return 0;
    });
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    return call("fgetattr", path, () -> {
      fill(fs.getattr(fs.inodeOf(fi.fh.get())), stat);
      return 0;
    });
  }

  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    return call("readlink", path, () -> {
      byte[] t = fs.readlink(resolve(path)).getBytes(StandardCharsets.UTF_8);
      int n = (int) Math.min(t.length, size - 1);
      buf.put(0, t, 0, n);
      buf.putByte(n, (byte) 0);
      return 0;
    });
  }

  @Override
  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    return call("mknod", path, () -> {
      ParentAndName p = split(path);
      fs.mknod(caller(), p.parent(), p.name(), (int) mode, rdev);
      return 0;
    });
  }

  @Override
  public int mkdir(String path, @mode_t long mode) {
    return call("mkdir", path, () -> {
      ParentAndName p = split(path);
      fs.mkdir(caller(), p.parent(), p.name(), (int) mode);
      return 0;
    });
  }

  @Override
  public int unlink(String path) {
    return call("unlink", path, () -> {
      if (hidden.remove(lastComponent(path)) != null) {
        return 0; // the hidden name of a file unlinked while open: already unlinked in the engine
      }
      ParentAndName p = split(path);
      fs.unlink(p.parent(), p.name());
      return 0;
    });
  }

  @Override
  public int rmdir(String path) {
    return call("rmdir", path, () -> {
      ParentAndName p = split(path);
      fs.rmdir(p.parent(), p.name());
      return 0;
    });
  }

  @Override
  public int symlink(String target, String linkPath) {
    return call("symlink", linkPath, () -> {
      ParentAndName p = split(linkPath);
      fs.symlink(caller(), p.parent(), p.name(), target);
      return 0;
    });
  }

  @Override
  public int rename(String oldPath, String newPath) {
    return call("rename", oldPath, () -> {
      ParentAndName from = split(oldPath);
      String newLast = lastComponent(newPath);
      if (newLast.startsWith(HIDDEN_PREFIX) && hiddenInode(oldPath) == null) {
        // libfuse hides an open file it was asked to unlink: unlink it for real, keep it reachable.
        long ino = fs.lookup(from.parent(), from.name());
        fs.unlink(from.parent(), from.name());
        hidden.put(newLast, ino);
        return 0;
      }
      ParentAndName to = split(newPath);
      fs.rename(from.parent(), from.name(), to.parent(), to.name(), 0);
      return 0;
    });
  }

  @Override
  public int link(String oldPath, String newPath) {
    return call("link", newPath, () -> {
      long ino = resolve(oldPath);
      ParentAndName to = split(newPath);
      fs.link(ino, to.parent(), to.name());
      return 0;
    });
  }

  @Override
  public int chmod(String path, @mode_t long mode) {
    return call("chmod", path, () -> {
      fs.setattr(caller(), resolve(path), SetAttr.chmod((int) (mode & 07777)), 0);
      return 0;
    });
  }

  @Override
  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    return call("chown", path, () -> {
      int u = (uid == 0xFFFFFFFFL || uid == -1) ? -1 : (int) uid;
      int g = (gid == 0xFFFFFFFFL || gid == -1) ? -1 : (int) gid;
      if (u == -1 && g == -1) {
        return 0;
      }
      fs.setattr(caller(), resolve(path), SetAttr.chown(u, g), 0);
      return 0;
    });
  }

  @Override
  public int truncate(String path, @off_t long size) {
    return call("truncate", path, () -> {
      fs.setattr(caller(), resolve(path), SetAttr.truncate(size), 0);
      return 0;
    });
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    return call("ftruncate", path, () -> {
      long h = fi.fh.get();
      fs.setattr(caller(), fs.inodeOf(h), SetAttr.truncate(size), h);
      return 0;
    });
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    return call("utimens", path, () -> {
      fs.setattr(caller(), resolve(path), SetAttr.times(time(timespec[0]), time(timespec[1])), 0);
      return 0;
    });
  }

  private static TimeSpec time(Timespec t) {
    long nsec = t.tv_nsec.longValue();
    if (nsec == UTIME_NOW) {
      return TimeSpec.NOW;
    }
    if (nsec == UTIME_OMIT) {
      return TimeSpec.OMIT;
    }
    return TimeSpec.of(t.tv_sec.get() * 1_000_000_000L + nsec);
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    return call("open", path, () -> {
      fi.fh.set(fs.open(caller(), resolve(path), fi.flags.get()));
      return 0;
    });
  }

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    return call("create", path, () -> {
      ParentAndName p = split(path);
      OpenResult r = fs.create(caller(), p.parent(), p.name(), (int) mode, fi.flags.get());
      fi.fh.set(r.handle());
      return 0;
    });
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return call("read", path, () -> {
      byte[] b = buffer(size);
      int n = fs.read(fi.fh.get(), offset, b, 0, (int) size);
      if (n > 0) {
        buf.put(0, b, 0, n);
      }
      return n;
    });
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return call("write", path, () -> {
      byte[] b = buffer(size);
      buf.get(0, b, 0, (int) size);
      return fs.write(fi.fh.get(), offset, b, 0, (int) size);
    });
  }

  @Override
  public int statfs(String path, Statvfs stbuf) {
    return call("statfs", path, () -> {
      StatFs s = fs.statfs();
      long bsize = s.blockSize();
      stbuf.f_bsize.set(bsize);
      stbuf.f_frsize.set(bsize);
      stbuf.f_blocks.set(s.totalBytes() / bsize);
      stbuf.f_bfree.set(s.freeBytes() / bsize);
      stbuf.f_bavail.set(s.availableBytes() / bsize);
      stbuf.f_files.set(s.totalInodes());
      stbuf.f_ffree.set(s.freeInodes());
      stbuf.f_favail.set(s.freeInodes());
      stbuf.f_namemax.set(s.nameMax());
      return 0;
    });
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return call("flush", path, () -> {
      fs.flush(fi.fh.get());
      return 0;
    });
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return call("release", path, () -> {
      fs.release(fi.fh.get());
      return 0;
    });
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    return call("fsync", path, () -> {
      fs.fsync(fi.fh.get(), isdatasync != 0);
      return 0;
    });
  }

  @Override
  public int fsyncdir(String path, FuseFileInfo fi) {
    return call("fsyncdir", path, () -> {
      fs.syncMetadata();
      return 0;
    });
  }

  @Override
  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    return call("setxattr", path, () -> {
      byte[] v = new byte[(int) size];
      value.get(0, v, 0, v.length);
      fs.setxattr(resolve(path), name, v, flags);
      return 0;
    });
  }

  @Override
  public int getxattr(String path, String name, Pointer value, @size_t long size) {
    return call("getxattr", path, () -> {
      byte[] v = fs.getxattr(resolve(path), name);
      if (size == 0) {
        return v.length;
      }
      if (size < v.length) {
        return -Errno.ERANGE.code();
      }
      value.put(0, v, 0, v.length);
      return v.length;
    });
  }

  @Override
  public int listxattr(String path, Pointer list, @size_t long size) {
    return call("listxattr", path, () -> {
      List<String> names = fs.listxattr(resolve(path));
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      for (String n : names) {
        out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
        out.write(0);
      }
      byte[] b = out.toByteArray();
      if (size == 0) {
        return b.length;
      }
      if (size < b.length) {
        return -Errno.ERANGE.code();
      }
      list.put(0, b, 0, b.length);
      return b.length;
    });
  }

  @Override
  public int removexattr(String path, String name) {
    return call("removexattr", path, () -> {
      fs.removexattr(resolve(path), name);
      return 0;
    });
  }

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return call("opendir", path, () -> {
      long ino = resolve(path);
      if (!fs.getattr(ino).isDirectory()) {
        return -Errno.ENOTDIR.code();
      }
      return 0;
    });
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
    return call("readdir", path, () -> {
      long ino = resolve(path);
      List<DirEntry> entries = fs.readdir(ino);
      filter.apply(buf, ".", null, 0);
      filter.apply(buf, "..", null, 0);
      FileStat st = new FileStat(jnr.ffi.Runtime.getSystemRuntime());
      for (DirEntry e : entries) {
        st.st_ino.set(e.ino());
        st.st_mode.set(e.type().bits());
        if (filter.apply(buf, e.name(), st, 0) != 0) {
          break;
        }
      }
      return 0;
    });
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return 0;
  }

  @Override
  public int access(String path, int mask) {
    return call("access", path, () -> {
      resolve(path);
      return 0;
    });
  }

  @Override
  public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
    return call("fallocate", path, () -> {
      fs.fallocate(caller(), fi.fh.get(), mode, off, length);
      return 0;
    });
  }

}
