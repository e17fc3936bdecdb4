package io.dynamicfs.fuse;

import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.fuse.lowlevel.LowLevelMount;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the kernel of metadata changes it did not ask for, so it can cache names (and, on a single node,
 * attributes) long: {@link FusePreset#LONG_TIMEOUT} instead of one second (docs/fuse-presets.md).
 *
 * <p>Two sources, one per kind of mount:
 * <ul>
 *   <li>{@link #singleNode()}: the engine is the data's only writer. An operation a FUSE request made (on one
 *       of the binding's request threads) needs nothing: the kernel updates or drops its own cached attributes
 *       when the reply comes. Any other (the periodic commit, an intent-log fold, a tier move, an admin call, a
 *       test changing the engine directly) marks the attributes of every inode it touched stale.
 *   <li>{@link #replica}: a cluster mount's metadata replica applies every op of the log. Those of this
 *       mount's own session were made through this kernel; any other mount's op marks the attributes of the
 *       inodes it touched stale and drops the names it removed or replaced (Remove, Rename) from the kernel's
 *       dentry cache. Names created elsewhere need nothing: no preset caches a missing name on a cluster mount.
 * </ul>
 *
 * <p>The notices go from one background thread, coalesced, never from inside apply: the applying thread may
 * hold locks a request waits for, and dropping a name takes the kernel's lock on its directory, which a
 * request in flight there holds. Install it as the apply listener, then mount with
 * {@link MountOptions#withInvalidations}: the low-level binding attaches its session for as long as it lives.
 */
public final class KernelInvalidations implements ApplyListener {
  private static final Logger log = LoggerFactory.getLogger(KernelInvalidations.class);

  /** Where notices go, on a live session. */
  public interface Sink {
    /** {@code notify_inval_inode(ino, -1, 0)}: the kernel asks for the attributes next time. */
    void staleAttributes(long ino);

    /** {@code notify_inval_entry(parent, name)}: the next path walk through the name looks it up again. */
    void staleName(long parent, String name);
  }

  private record Name(long parent, String name) {}

  private final boolean singleNode;
  private final LongSupplier ownSession;
  private final LinkedHashSet<Long> pendingInodes = new LinkedHashSet<>();
  private final LinkedHashSet<Name> pendingNames = new LinkedHashSet<>();
  private Sink sink;
  private Thread sender;
  private long sent;

  private KernelInvalidations(boolean singleNode, LongSupplier ownSession) {
    this.singleNode = singleNode;
    this.ownSession = ownSession;
  }

  /** For a single-node engine: every change outside a FUSE request is told. */
  public static KernelInvalidations singleNode() {
    return new KernelInvalidations(true, () -> 0);
  }

  /** For a cluster mount's replica: every op not of {@code ownSession} (read at each op; 0 = none yet) is told. */
  public static KernelInvalidations replica(LongSupplier ownSession) {
    return new KernelInvalidations(false, ownSession);
  }

  /** True for a single node's engine: then the kernel may cache attributes long too. */
  public boolean singleNodeSource() {
    return singleNode;
  }

  @Override
  public void applied(MetaOp op, OpApplier.Result result) {
    if (!result.ok() || (singleNode ? LowLevelMount.onRequestThread() : ownOp(op))) {
      return;
    }
    List<Name> names = new ArrayList<>(0);
    if (!singleNode) {
      removedNames(op, names);
    }
    if (result.touched().isEmpty() && names.isEmpty()) {
      return;
    }
    synchronized (this) {
      if (sink == null) {
        return; // nothing mounted: no kernel holds anything
      }
      pendingInodes.addAll(result.touched());
      pendingNames.addAll(names);
      notifyAll();
    }
  }

  /** This mount's own op (its session's, alone or in a batch): made through this kernel. */
  private boolean ownOp(MetaOp op) {
    long own = ownSession.getAsLong();
    if (own == 0) {
      return false;
    }
    if (op instanceof MetaOp.Batch b) {
      return !b.ops().isEmpty() && b.ops().stream().allMatch(this::ownOp);
    }
    return op instanceof MetaOp.AsSession s && s.session() == own;
  }

  /** Names {@code op} removed or replaced, wherever it sits in batches and session wrappers. */
  private static void removedNames(MetaOp op, List<Name> out) {
    if (op instanceof MetaOp.Batch b) {
      b.ops().forEach(o -> removedNames(o, out));
    } else if (op instanceof MetaOp.AsSession s) {
      removedNames(s.op(), out);
    } else if (op instanceof MetaOp.Remove r) {
      out.add(new Name(r.parent(), r.name()));
    } else if (op instanceof MetaOp.Rename r) {
      out.add(new Name(r.parent(), r.name()));
      out.add(new Name(r.newParent(), r.newName()));
    }
  }

  /** Starts sending notices to {@code s} (the binding, once its session is up). */
  public synchronized void attach(Sink s) {
    if (sink != null) {
      throw new IllegalStateException("already attached");
    }
    sink = s;
    sender = new Thread(this::send, "fuse-inval");
    sender.setDaemon(true);
    sender.start();
  }

  /** Stops sending (before the session is freed) and waits for a notice in flight; pending ones are dropped. */
  public void detach() {
    Thread t;
    synchronized (this) {
      sink = null;
      pendingInodes.clear();
      pendingNames.clear();
      t = sender;
      sender = null;
      notifyAll();
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Notices sent so far (tests, diagnostics). */
  public synchronized long sent() {
    return sent;
  }

  private void send() {
    while (true) {
      Sink s;
      long[] inodes;
      List<Name> names;
      synchronized (this) {
        while (sink != null && pendingInodes.isEmpty() && pendingNames.isEmpty()) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (sink == null) {
          return;
        }
        s = sink;
        inodes = pendingInodes.stream().mapToLong(Long::longValue).toArray();
        names = List.copyOf(pendingNames);
        pendingInodes.clear();
        pendingNames.clear();
      }
      for (Name n : names) {
        try {
          s.staleName(n.parent(), n.name());
        } catch (RuntimeException e) {
          log.atWarn().addKeyValue("parent", n.parent()).setCause(e).log("kernel name invalidation failed");
        }
      }
      for (long ino : inodes) {
        try {
          s.staleAttributes(ino);
        } catch (RuntimeException e) {
          log.atWarn().addKeyValue("ino", ino).setCause(e).log("kernel attribute invalidation failed");
        }
      }
      synchronized (this) {
        sent += inodes.length + names.size();
      }
    }
  }
}
