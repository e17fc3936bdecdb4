package io.dynamicfs.core.erasure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Randomised checks over many shapes, complementing the exhaustive tests. */
class ReedSolomonPropertiesTest {

  @Property(tries = 300)
  void encodeParity_anyShape_matchesNaiveProductAndLeavesOutsideUntouched(
      @ForAll @IntRange(min = 1, max = 40) int k,
      @ForAll @IntRange(min = 1, max = 12) int m,
      @ForAll @IntRange(min = 0, max = 40) int offset,
      @ForAll @IntRange(min = 0, max = 300) int length,
      @ForAll long seed) {
    ReedSolomon rs = ReedSolomon.create(k, m);
    int size = offset + length + 11;
    Random random = new Random(seed);
    byte[][] shards = new byte[k + m][size];
    for (byte[] shard : shards) {
      random.nextBytes(shard);
    }
    byte[][] before = new byte[k + m][];
    for (int i = 0; i < k + m; i++) {
      before[i] = shards[i].clone();
    }
    rs.encodeParity(shards, offset, length);
    Matrix e = rs.encodingMatrix();
    for (int p = k; p < k + m; p++) {
      for (int i = 0; i < size; i++) {
        int expected;
        if (i >= offset && i < offset + length) {
          expected = 0;
          for (int j = 0; j < k; j++) {
            expected ^= GaloisField.multiply(e.get(p, j), shards[j][i] & 0xFF);
          }
        } else {
          expected = before[p][i] & 0xFF;
        }
        if ((shards[p][i] & 0xFF) != expected) {
          throw new AssertionError("rs-" + k + "-" + m + " parity " + p + " byte " + i
              + " offset " + offset + " length " + length + " seed " + seed);
        }
      }
    }
    for (int j = 0; j < k; j++) {
      assertArrayEquals(before[j], shards[j], "data shard " + j + " modified");
    }
    assertTrue(rs.isParityCorrect(shards, offset, length));
  }

  @Property(tries = 300)
  void reconstruct_randomErasuresUpToM_restoresStripe(
      @ForAll @IntRange(min = 1, max = 40) int k,
      @ForAll @IntRange(min = 1, max = 12) int m,
      @ForAll @IntRange(min = 0, max = 40) int offset,
      @ForAll @IntRange(min = 1, max = 300) int length,
      @ForAll long seed) {
    ReedSolomon rs = ReedSolomon.create(k, m);
    Random random = new Random(seed);
    int size = offset + length;
    byte[][] pristine = new byte[k + m][size];
    for (int j = 0; j < k; j++) {
      random.nextBytes(pristine[j]);
    }
    rs.encodeParity(pristine, 0, size);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < k + m; i++) {
      order.add(i);
    }
    Collections.shuffle(order, random);
    int lost = 1 + random.nextInt(m);
    byte[][] shards = new byte[k + m][];
    boolean[] present = new boolean[k + m];
    Arrays.fill(present, true);
    for (int i = 0; i < k + m; i++) {
      shards[i] = pristine[i].clone();
    }
    for (int i = 0; i < lost; i++) {
      int s = order.get(i);
      present[s] = false;
      Arrays.fill(shards[s], offset, size, (byte) random.nextInt(256));
    }
    rs.reconstruct(shards, present, offset, length);
    for (int i = 0; i < k + m; i++) {
      assertArrayEquals(pristine[i], shards[i], "rs-" + k + "-" + m + " shard " + i
          + " lost " + order.subList(0, lost) + " seed " + seed);
    }
  }
}
