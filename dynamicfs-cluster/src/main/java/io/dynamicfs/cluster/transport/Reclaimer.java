package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;

/**
 * What a block server does for a RECLAIM request: on the metadata leader's node, report the blocks pending
 * deletion and, when asked to apply, purge those that waited out the grace period and delete their copies
 * on the nodes at once (instead of at the next duty round). Any other node answers EAGAIN.
 */
@FunctionalInterface
public interface Reclaimer {
  /** {@code pending}: blocks waiting; {@code due}: of those, past the grace; then what was purged and deleted. */
  record Report(long pending, long due, long purged, long copiesDeleted) {}

  Report reclaim(boolean apply) throws IOException;

  Reclaimer NONE = apply -> {
    throw FsException.of(Errno.EOPNOTSUPP, "this block server reclaims nothing");
  };
}
