package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/** The libc calls the low-level bindings make themselves, bound with jnr-ffi and loaded on first use. */
public interface LibC {
  /** For the request buffers libfuse 3 allocates with malloc. */
  void free(Pointer p);

  /** {@link DeviceSpin} switches the device to non-blocking with it. */
  int fcntl(int fd, int cmd, int arg);

  /** {@code fds} is one {@code struct pollfd}: int fd, short events, short revents. */
  int poll(Pointer fds, long nfds, int timeoutMs);

  /** Loaded on first use. */
  final class Holder {
    static final LibC LIB = LibraryLoader.create(LibC.class).failImmediately().load("c");

    private Holder() {}
  }
}
