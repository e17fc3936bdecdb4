package io.dynamicfs.core.block;

import java.util.List;

/**
 * Where a block's copies or shards sit: its tier, and the devices (on a single node) or nodes (in a
 * cluster) that hold them, in shard order for an erasure-coded tier. Metadata records it with the block,
 * carried in the commit that references the block, so every replica knows the placement without asking
 * the stores.
 */
public record Placement(int tier, List<Integer> locations) {
  /** A block whose placement the store did not report (a bare segment store). */
  public static final Placement UNKNOWN = new Placement(0, List.of());
  /** Most locations one block can have (RS 255 shards is beyond any sane layout). */
  public static final int MAX_LOCATIONS = 255;

  public Placement {
    if (tier < 0 || tier > 0xFFFF) {
      throw new IllegalArgumentException("tier number " + tier + " out of range");
    }
    if (locations.size() > MAX_LOCATIONS) {
      throw new IllegalArgumentException(locations.size() + " locations exceed " + MAX_LOCATIONS);
    }
    locations = List.copyOf(locations);
  }

  public Placement withTier(int t) {
    return new Placement(t, locations);
  }
}
