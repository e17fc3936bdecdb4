package io.dynamicfs.core.storage;

import io.dynamicfs.core.block.BlockId;

/**
 * What checking one block found: how many copies or shards were bad (corrupt or inconsistent) or missing,
 * how many were rewritten, and the verdict. {@code bytes} is what was read to decide.
 */
public record BlockCheck(BlockId id, Verdict verdict, int bad, int missing, int repaired, long bytes) {
  public enum Verdict {
    /** Every copy or shard present and verified. */
    HEALTHY,
    /** Something was bad or missing and has been rewritten: full redundancy again. */
    REPAIRED,
    /** Readable, but redundancy could not be fully restored (too few writable devices). */
    DEGRADED,
    /** Not enough good copies or shards left to read the block. */
    UNREPAIRABLE
  }

  static BlockCheck of(BlockId id, int bad, int missing, int repaired, long bytes) {
    Verdict v = bad + missing == 0 ? Verdict.HEALTHY : repaired >= bad + missing ? Verdict.REPAIRED : Verdict.DEGRADED;
    return new BlockCheck(id, v, bad, missing, repaired, bytes);
  }

  static BlockCheck unrepairable(BlockId id, int bad, int missing, long bytes) {
    return new BlockCheck(id, Verdict.UNREPAIRABLE, bad, missing, 0, bytes);
  }
}
