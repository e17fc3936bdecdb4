import java.nio.file.Path;
import java.util.Random;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * The trivial baseline for scripts/bench-cache: a jnr-fuse filesystem (jnr-fuse's own fuse_main loop, as a
 * plain jnr-fuse user would write it) with one read-only file, /data, of SIZE bytes served from a 1 MiB
 * pattern in memory. Its sequential read speed is the ceiling of "a Java FUSE adapter" on this machine.
 *
 * <p>Run as a single-file program: {@code java -cp 'dynamicfs-cli/target/lib/*' scripts/lib/MemoryFuseFs.java
 * MNT SIZE_BYTES}; it stays mounted until killed (SIGTERM) or unmounted.
 */
public final class MemoryFuseFs extends FuseStubFS {
  private static final int PATTERN = 1 << 20;
  private final byte[] pattern = new byte[PATTERN];
  private final long size;

  MemoryFuseFs(long size) {
    this.size = size;
    new Random(1).nextBytes(pattern);
  }

  @Override
  public int getattr(String path, FileStat stat) {
    if (path.equals("/")) {
      stat.st_mode.set(FileStat.S_IFDIR | 0755);
      stat.st_nlink.set(2);
      return 0;
    }
    if (path.equals("/data")) {
      stat.st_mode.set(FileStat.S_IFREG | 0444);
      stat.st_nlink.set(1);
      stat.st_size.set(size);
      return 0;
    }
    return -ErrorCodes.ENOENT();
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
    if (!path.equals("/")) {
      return -ErrorCodes.ENOENT();
    }
    filter.apply(buf, ".", null, 0);
    filter.apply(buf, "..", null, 0);
    filter.apply(buf, "data", null, 0);
    return 0;
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    return path.equals("/data") ? 0 : -ErrorCodes.ENOENT();
  }

  @Override
  public int read(String path, Pointer buf, @size_t long want, @off_t long offset, FuseFileInfo fi) {
    if (offset >= size) {
      return 0;
    }
    int n = (int) Math.min(want, size - offset);
    int done = 0;
    while (done < n) {
      int at = (int) ((offset + done) % PATTERN);
      int len = Math.min(n - done, PATTERN - at);
      buf.put(done, pattern, at, len);
      done += len;
    }
    return n;
  }

  public static void main(String[] args) {
    MemoryFuseFs fs = new MemoryFuseFs(Long.parseLong(args[1]));
    Runtime.getRuntime().addShutdownHook(new Thread(fs::umount));
    fs.mount(Path.of(args[0]), true, false,
        new String[] {"-o", "fsname=memfs,max_read=131072,max_readahead=1048576,big_writes"});
  }
}
