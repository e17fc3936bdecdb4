package io.dynamicfs.core.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.codec.Codec;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slow-tier decorator over a real two-tier store: reads of the slow tier's blocks wait, the fast tier's
 * do not; the IOPS bound spaces reads out; the per-tier read counters count what each tier served.
 */
class SlowTierStoreTest {
  @TempDir Path tmp;

  private static byte[] bytes(int seed) {
    byte[] b = new byte[4096];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void spec_parsed_badOneRefused() throws Exception {
    assertEquals(new SlowTierStore.Spec("slow", 5_000_000L, 0), SlowTierStore.Spec.parse("slow:5ms"));
    assertEquals(new SlowTierStore.Spec("hdd", 250_000L, 200), SlowTierStore.Spec.parse("hdd:250us:200"));
    assertEquals(new SlowTierStore.Spec("s", 1_500_000_000L, 0), SlowTierStore.Spec.parse("s:1.5s"));
    FsException e = assertThrows(FsException.class, () -> SlowTierStore.Spec.parse("slow:5"));
    assertTrue(e.getMessage().contains("NAME:LATENCY[:IOPS]"), e.getMessage());
  }

  @Test
  void get_slowTiersBlocksWait_fastOnesDoNot_andTiersCountWhatTheyServed() throws Exception {
    StorageLayout layout = StorageLayout.fromOptions(List.of("fast:replicate-1:" + tmp.resolve("f"),
        "slow:replicate-1:" + tmp.resolve("s")));
    try (TieredStore tiers = TieredStore.open(layout, "fs", Codec.NONE, 4 << 20, true, false)) {
      byte[] a = bytes(1);
      byte[] b = bytes(2);
      BlockId onFast = BlockId.hash(a, 0, a.length);
      BlockId onSlow = BlockId.hash(b, 0, b.length);
      tiers.tier("fast").put(onFast, a, a.length);
      tiers.tier("slow").put(onSlow, b, b.length);
      assertThrows(IllegalArgumentException.class, () -> SlowTierStore.wrap(tiers, SlowTierStore.Spec.parse("ssd:1ms")));
      // a wait far longer than any hiccup of a busy machine: the fast tier's read must not take it
      BlockStore verySlow = SlowTierStore.wrap(tiers, SlowTierStore.Spec.parse("slow:2s"));
      long t0 = System.nanoTime();
      assertArrayEquals(a, verySlow.get(onFast));
      long fast = System.nanoTime() - t0;
      assertTrue(fast < TimeUnit.SECONDS.toNanos(2), "fast tier not slowed: " + fast / 1e6 + " ms");

      BlockStore s = SlowTierStore.wrap(tiers, SlowTierStore.Spec.parse("slow:30ms:20"));
      t0 = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(b, s.get(onSlow));
      }
      long slow = System.nanoTime() - t0;
      // five reads, 30 ms each, starting at most 20 a second (50 ms apart): at least 4 * 50 + 30 ms
      assertTrue(slow >= TimeUnit.MILLISECONDS.toNanos(230), "slow tier slowed and spaced: " + slow / 1e6 + " ms");
      assertEquals(1, tiers.tier("fast").readsServed());
      assertEquals(5, tiers.tier("slow").readsServed());
      assertEquals(5L * b.length, tiers.tier("slow").bytesServed());
    }
  }
}
