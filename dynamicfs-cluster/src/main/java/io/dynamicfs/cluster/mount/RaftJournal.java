package io.dynamicfs.cluster.mount;

import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.OpJournal;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import java.time.Duration;

/**
 * A cluster mount's journal: proposes each op to the metadata group (retried with the same call id while
 * a new leader is elected, so a retried create happens once) and returns once the mount's own replica
 * has applied it, so the engine reads its own writes.
 */
final class RaftJournal implements OpJournal {
  private final RaftMetaClient client;
  private final AppliedWaiter waiter;
  private final Duration catchUp;

  RaftJournal(RaftMetaClient client, AppliedWaiter waiter, Duration catchUp) {
    this.client = client;
    this.waiter = waiter;
    this.catchUp = catchUp;
  }

  @Override
  public OpApplier.Result append(MetaOp op) throws FsException {
    OpApplier.Result r = client.submit(op);
    waiter.await(r.index(), catchUp);
    return r;
  }

  @Override
  public boolean exclusive() {
    return false;
  }
}
