package io.dynamicfs.core.meta;

/**
 * Told of every applied log entry, after its batch is written, in log order (on a replica, on the state
 * machine's thread). This is where effects outside the metadata happen — cache invalidation, block
 * reclaim, replication — never inside {@link OpApplier#apply}. A listener must be quick and must not
 * throw; it must not submit operations itself.
 */
@FunctionalInterface
public interface ApplyListener {
  ApplyListener NONE = (op, result) -> { };

  void applied(MetaOp op, OpApplier.Result result);
}
