package io.dynamicfs.fuse;

import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.AbstractFuseFS;

/**
 * libfuse's request loop, run on Java threads.
 *
 * <p>Why not {@code fuse_main}: its worker threads are native, and jffi attaches a native thread to the
 * JVM for each callback and detaches it afterwards — a new {@link Thread} object per FUSE request, which
 * made every operation cost milliseconds. Here {@code fuse_setup} mounts and builds the session, and a
 * fixed set of Java threads each loop on {@code fuse_read_cmd}/{@code fuse_process_cmd}; callbacks then
 * run on an already-attached thread. The loop ends when the filesystem is unmounted (the read fails and
 * libfuse marks the session exited) or {@link #exit} is called.
 */
final class FuseLoop {
  private static final Logger log = LoggerFactory.getLogger(FuseLoop.class);

  /** The part of libfuse 2's API that fuse_main is built from. */
  public interface LibFuseSession {
    Pointer fuse_setup(int argc, String[] argv, Pointer op, long opSize, PointerByReference mountpoint,
        IntByReference multithreaded, Pointer userData);

    Pointer fuse_read_cmd(Pointer fuse);

    void fuse_process_cmd(Pointer fuse, Pointer cmd);

    int fuse_exited(Pointer fuse);

    void fuse_exit(Pointer fuse);

    void fuse_teardown(Pointer fuse, Pointer mountpoint);
  }

  private static final class Holder {
    static final LibFuseSession LIB = LibraryLoader.create(LibFuseSession.class).failImmediately().load("fuse");
  }

  private final Pointer fuse;
  private final Pointer mountpoint;
  private final List<Thread> workers = new ArrayList<>();
  private boolean tornDown;

  private FuseLoop(Pointer fuse, Pointer mountpoint) {
    this.fuse = fuse;
    this.mountpoint = mountpoint;
  }

  /** Mounts with {@code args} (argv without the program name) and starts {@code threads} workers. */
  static FuseLoop start(AbstractFuseFS fs, List<String> args, int threads) {
    LibFuseSession lib = Holder.LIB;
    List<String> argv = new ArrayList<>();
    argv.add("dynamicfs");
    argv.add("-f");
    argv.addAll(args);
    PointerByReference mp = new PointerByReference();
    IntByReference mt = new IntByReference();
    Object ops = operations(fs);
    Pointer f = lib.fuse_setup(argv.size(), argv.toArray(new String[0]), Struct.getMemory((Struct) ops),
        Struct.size((Struct) ops), mp, mt, null);
    if (f == null) {
      throw new IllegalStateException("libfuse could not mount (its message is on stderr)");
    }
    FuseLoop loop = new FuseLoop(f, mp.getValue());
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(loop::work, "fuse-" + i);
      t.setDaemon(true);
      loop.workers.add(t);
      t.start();
    }
    return loop;
  }

  private static Object operations(AbstractFuseFS fs) {
    try {
      java.lang.reflect.Field field = AbstractFuseFS.class.getDeclaredField("fuseOperations");
      field.setAccessible(true);
      return field.get(fs);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read jnr-fuse's operations table", e);
    }
  }

  private void work() {
    LibFuseSession lib = Holder.LIB;
    while (lib.fuse_exited(fuse) == 0) {
      Pointer cmd = lib.fuse_read_cmd(fuse);
      if (cmd != null) {
        lib.fuse_process_cmd(fuse, cmd);
      }
    }
  }

  /** Asks every worker to stop after its current request. */
  void exit() {
    Holder.LIB.fuse_exit(fuse);
  }

  boolean isRunning() {
    for (Thread t : workers) {
      if (t.isAlive()) {
        return true;
      }
    }
    return false;
  }

  /** Waits for the workers, then unmounts (if still mounted) and frees the session, once. */
  synchronized void join() throws InterruptedException {
    for (Thread t : workers) {
      t.join();
    }
    if (!tornDown) {
      tornDown = true;
      Holder.LIB.fuse_teardown(fuse, mountpoint);
      log.debug("fuse session torn down");
    }
  }
}
