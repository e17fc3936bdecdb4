package io.dynamicfs.core.erasure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReedSolomonTest {

  /** Base seed of all random content; override with {@code -Ddynamicfs.rs.seed=...}. */
  private static final long BASE_SEED = Long.getLong("dynamicfs.rs.seed", 0x5EED_2024L);

  private static final int[][] CONFIGS = {{1, 1}, {2, 1}, {4, 2}, {6, 3}, {10, 4}, {17, 3}};
  private static final int[] SIZES = {1, 7, 1000, 65536};

  // ---------------------------------------------------------------- helpers

  private static long seedFor(int k, int m, int size) {
    return BASE_SEED * 1_000_003L + k * 65_537L + m * 257L + size;
  }

  private static String context(long seed, int k, int m, int size) {
    return "rs-" + k + "-" + m + " size=" + size + " seed=" + seed + " (base seed " + BASE_SEED
        + ", rerun with -Ddynamicfs.rs.seed=" + BASE_SEED + ")";
  }

  /** A stripe with random data and encoded parity. */
  private static byte[][] encodedStripe(ReedSolomon rs, int size, Random random) {
    byte[][] shards = new byte[rs.totalShards()][size];
    for (int i = 0; i < rs.dataShards(); i++) {
      random.nextBytes(shards[i]);
    }
    rs.encodeParity(shards, 0, size);
    return shards;
  }

  private static byte[][] deepCopy(byte[][] shards) {
    byte[][] copy = new byte[shards.length][];
    for (int i = 0; i < shards.length; i++) {
      copy[i] = shards[i] == null ? null : shards[i].clone();
    }
    return copy;
  }

  /** Parity computed byte by byte from the encoding matrix, independently of the hot loops. */
  private static byte[][] naiveParity(ReedSolomon rs, byte[][] shards, int offset, int length) {
    Matrix e = rs.encodingMatrix();
    int k = rs.dataShards();
    byte[][] parity = new byte[rs.parityShards()][length];
    for (int p = 0; p < rs.parityShards(); p++) {
      for (int i = 0; i < length; i++) {
        int sum = 0;
        for (int j = 0; j < k; j++) {
          sum ^= GaloisField.multiply(e.get(k + p, j), shards[j][offset + i] & 0xFF);
        }
        parity[p][i] = (byte) sum;
      }
    }
    return parity;
  }

  /** Calls {@code action} with every subset of {@code {0..n-1}} of size {@code 1..maxSize}. */
  private static long forEachSubset(int n, int maxSize, java.util.function.Consumer<int[]> action) {
    long count = 0;
    for (int size = 1; size <= maxSize; size++) {
      int[] idx = new int[size];
      for (int i = 0; i < size; i++) {
        idx[i] = i;
      }
      while (true) {
        action.accept(idx.clone());
        count++;
        int i = size - 1;
        while (i >= 0 && idx[i] == n - size + i) {
          i--;
        }
        if (i < 0) {
          break;
        }
        idx[i]++;
        for (int j = i + 1; j < size; j++) {
          idx[j] = idx[j - 1] + 1;
        }
      }
    }
    return count;
  }

  private static long binomial(int n, int k) {
    long r = 1;
    for (int i = 1; i <= k; i++) {
      r = r * (n - k + i) / i;
    }
    return r;
  }

  /**
   * Loses the shards in {@code lost} (replacing them by garbage or null), reconstructs {@code
   * [offset, offset + length)} and checks every shard against {@code pristine}.
   */
  private static void loseAndReconstruct(
      ReedSolomon rs, byte[][] pristine, int[] lost, int offset, int length, Random random,
      String context) {
    int n = rs.totalShards();
    byte[][] work = new byte[n][];
    boolean[] present = new boolean[n];
    Arrays.fill(present, true);
    for (int i = 0; i < n; i++) {
      work[i] = pristine[i].clone();
    }
    for (int i : lost) {
      present[i] = false;
      if (random.nextInt(4) == 0 && offset == 0 && length == pristine[i].length) {
        work[i] = null;
      } else {
        byte[] garbage = new byte[pristine[i].length];
        Arrays.fill(garbage, (byte) random.nextInt(256));
        System.arraycopy(pristine[i], 0, garbage, 0, offset);
        System.arraycopy(pristine[i], offset + length, garbage, offset + length,
            garbage.length - offset - length);
        work[i] = garbage;
      }
    }
    boolean[] presentCopy = present.clone();
    rs.reconstruct(work, present, offset, length);
    assertArrayEquals(presentCopy, present, "reconstruct must not modify present");
    for (int i = 0; i < n; i++) {
      final int shard = i;
      assertArrayEquals(pristine[i], work[i],
          () -> "shard " + shard + " differs after losing " + Arrays.toString(lost) + " range ["
              + offset + ", " + (offset + length) + ") " + context);
    }
  }

  // ---------------------------------------------------------------- creation and arguments

  @Test
  void create_validArguments_exposesShardCounts() {
    ReedSolomon rs = ReedSolomon.create(10, 4);
    assertEquals(10, rs.dataShards());
    assertEquals(4, rs.parityShards());
    assertEquals(14, rs.totalShards());
  }

  @Test
  void create_badArguments_failWithMessagesNamingTheValues() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ReedSolomon.create(0, 2));
    assertTrue(e.getMessage().contains("dataShards") && e.getMessage().contains("0"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ReedSolomon.create(-3, 2));
    assertTrue(e.getMessage().contains("-3"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ReedSolomon.create(4, 0));
    assertTrue(e.getMessage().contains("parityShards") && e.getMessage().contains("0"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ReedSolomon.create(4, -1));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ReedSolomon.create(200, 57));
    assertTrue(e.getMessage().contains("200") && e.getMessage().contains("57")
        && e.getMessage().contains("257") && e.getMessage().contains("256"), e.getMessage());
    assertEquals(256, ReedSolomon.create(255, 1).totalShards());
    assertEquals(256, ReedSolomon.create(1, 255).totalShards());
  }

  @Test
  void encodeParity_badShardArguments_failWithClearMessages() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    byte[][] ok = new byte[6][16];

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> rs.encodeParity(null, 0, 16));
    assertTrue(e.getMessage().contains("shards"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> rs.encodeParity(new byte[5][16], 0, 16));
    assertTrue(e.getMessage().contains("6") && e.getMessage().contains("5"), e.getMessage());

    byte[][] withNull = deepCopy(ok);
    withNull[3] = null;
    e = assertThrows(IllegalArgumentException.class, () -> rs.encodeParity(withNull, 0, 16));
    assertTrue(e.getMessage().contains("shard 3"), e.getMessage());

    byte[][] shortOne = deepCopy(ok);
    shortOne[5] = new byte[10];
    e = assertThrows(IllegalArgumentException.class, () -> rs.encodeParity(shortOne, 0, 16));
    assertTrue(e.getMessage().contains("shard 5") && e.getMessage().contains("10"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> rs.encodeParity(ok, 8, 9));
    assertTrue(e.getMessage().contains("17"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> rs.encodeParity(ok, -1, 4));
    assertTrue(e.getMessage().contains("offset=-1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> rs.encodeParity(ok, 0, -4));
    assertTrue(e.getMessage().contains("length=-4"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> rs.encodeParity(ok, Integer.MAX_VALUE, 2));
    assertTrue(e.getMessage().contains("overflow"), e.getMessage());

    assertThrows(IllegalArgumentException.class, () -> rs.isParityCorrect(new byte[7][16], 0, 16));
  }

  @Test
  void reconstruct_badArguments_failWithClearMessages() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    byte[][] shards = new byte[6][16];
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> rs.reconstruct(shards, null, 0, 16));
    assertTrue(e.getMessage().contains("present"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> rs.reconstruct(shards, new boolean[5], 0, 16));
    assertTrue(e.getMessage().contains("6") && e.getMessage().contains("5"), e.getMessage());

    boolean[] present = {true, true, true, true, false, false};
    byte[][] presentNull = deepCopy(shards);
    presentNull[2] = null;
    e = assertThrows(IllegalArgumentException.class,
        () -> rs.reconstruct(presentNull, present, 0, 16));
    assertTrue(e.getMessage().contains("shard 2"), e.getMessage());

    byte[][] missingShort = deepCopy(shards);
    missingShort[4] = new byte[3];
    e = assertThrows(IllegalArgumentException.class,
        () -> rs.reconstruct(missingShort, present, 0, 16));
    assertTrue(e.getMessage().contains("shard 4"), e.getMessage());
  }

  @Test
  void reconstruct_fewerThanKPresent_failsClearlyAndTouchesNothing() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    byte[][] shards = encodedStripe(rs, 100, new Random(seedFor(4, 2, 100)));
    byte[][] before = deepCopy(shards);
    boolean[] present = {true, false, true, false, true, false};
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> rs.reconstruct(shards, present, 0, 100));
    assertTrue(e.getMessage().contains("only 3 of 6") && e.getMessage().contains("4 needed"),
        e.getMessage());
    for (int i = 0; i < shards.length; i++) {
      assertArrayEquals(before[i], shards[i], "shard " + i + " was modified");
    }
    boolean[] none = new boolean[6];
    assertThrows(IllegalStateException.class, () -> rs.reconstruct(shards, none, 0, 100));
  }

  // ---------------------------------------------------------------- encoding matrix

  @Test
  void encodingMatrix_isSystematicWithXorFirstParityAndNoZeroCoefficient() {
    for (int[] config : CONFIGS) {
      int k = config[0];
      int m = config[1];
      Matrix e = ReedSolomon.create(k, m).encodingMatrix();
      assertEquals(Matrix.identity(k), e.subMatrix(0, k, 0, k), "top of rs-" + k + "-" + m);
      for (int p = 0; p < m; p++) {
        for (int j = 0; j < k; j++) {
          int c = e.get(k + p, j);
          assertTrue(c != 0, "zero coefficient in rs-" + k + "-" + m);
          if (p == 0 || j == 0) {
            assertEquals(1, c, "first parity row and column must be ones, rs-" + k + "-" + m);
          }
        }
      }
    }
  }

  @Test
  void encodingMatrix_everyChoiceOfKRows_isInvertible() {
    int[][] configs = {{1, 1}, {2, 1}, {4, 2}, {6, 3}, {10, 4}, {17, 3}, {5, 5}, {3, 8}};
    for (int[] config : configs) {
      int k = config[0];
      int m = config[1];
      Matrix e = ReedSolomon.create(k, m).encodingMatrix();
      int n = k + m;
      // Choosing K rows = dropping M rows; enumerate the dropped sets of size exactly M.
      long[] checked = {0};
      forEachSubset(n, m, dropped -> {
        if (dropped.length != m) {
          return;
        }
        int[] rows = new int[k];
        int r = 0;
        int d = 0;
        for (int i = 0; i < n; i++) {
          if (d < dropped.length && dropped[d] == i) {
            d++;
          } else {
            rows[r++] = i;
          }
        }
        Matrix sub = e.selectRows(rows);
        Matrix inv = sub.invert();
        if (!sub.times(inv).equals(Matrix.identity(k))) {
          fail("bad inverse for rows " + Arrays.toString(rows) + " of rs-" + k + "-" + m);
        }
        checked[0]++;
      });
      assertEquals(binomial(n, k), checked[0], "row choices checked for rs-" + k + "-" + m);
    }
  }

  // ---------------------------------------------------------------- encoding

  @Test
  void encodeParity_matchesNaiveMatrixProduct() {
    for (int[] config : CONFIGS) {
      ReedSolomon rs = ReedSolomon.create(config[0], config[1]);
      for (int size : new int[] {1, 7, 8, 9, 1000, 40_000}) {
        long seed = seedFor(config[0], config[1], size);
        byte[][] shards = encodedStripe(rs, size, new Random(seed));
        byte[][] expected = naiveParity(rs, shards, 0, size);
        for (int p = 0; p < rs.parityShards(); p++) {
          assertArrayEquals(expected[p], shards[rs.dataShards() + p],
              "parity " + p + " " + context(seed, config[0], config[1], size));
        }
        assertTrue(rs.isParityCorrect(shards, 0, size), context(seed, config[0], config[1], size));
      }
    }
  }

  @Test
  void encodeParity_firstParityShard_isXorOfData() {
    ReedSolomon rs = ReedSolomon.create(6, 3);
    byte[][] shards = encodedStripe(rs, 333, new Random(seedFor(6, 3, 333)));
    for (int i = 0; i < 333; i++) {
      int x = 0;
      for (int j = 0; j < 6; j++) {
        x ^= shards[j][i];
      }
      assertEquals((byte) x, shards[6][i], "byte " + i);
    }
  }

  @Test
  void encodeParity_subRange_leavesBytesOutsideUntouched() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    int size = 1000;
    int offset = 123;
    int length = 517;
    byte[][] full = encodedStripe(rs, size, new Random(seedFor(4, 2, size)));
    byte[][] shards = deepCopy(full);
    for (int p = 4; p < 6; p++) {
      Arrays.fill(shards[p], (byte) 0x5A);
    }
    byte[][] dataBefore = deepCopy(shards);
    rs.encodeParity(shards, offset, length);
    for (int j = 0; j < 4; j++) {
      assertArrayEquals(dataBefore[j], shards[j], "data shard " + j + " modified");
    }
    for (int p = 4; p < 6; p++) {
      for (int i = 0; i < size; i++) {
        byte expected = i >= offset && i < offset + length ? full[p][i] : (byte) 0x5A;
        assertEquals(expected, shards[p][i], "parity " + p + " byte " + i);
      }
    }
    assertTrue(rs.isParityCorrect(shards, offset, length));
    assertFalse(rs.isParityCorrect(shards, 0, size));
    assertFalse(rs.isParityCorrect(shards, offset, length + 1));
  }

  @Test
  void encodeParity_zeroLength_changesNothing() {
    ReedSolomon rs = ReedSolomon.create(3, 2);
    byte[][] shards = new byte[5][8];
    Arrays.fill(shards[0], (byte) 1);
    rs.encodeParity(shards, 8, 0);
    assertArrayEquals(new byte[8], shards[3]);
    assertTrue(rs.isParityCorrect(shards, 4, 0));
  }

  // ---------------------------------------------------------------- parity check

  @Test
  void isParityCorrect_singleFlippedByteAnywhere_isDetected() {
    for (int[] config : new int[][] {{4, 2}, {10, 4}, {1, 1}}) {
      ReedSolomon rs = ReedSolomon.create(config[0], config[1]);
      int size = 70;
      long seed = seedFor(config[0], config[1], size);
      Random random = new Random(seed);
      byte[][] shards = encodedStripe(rs, size, random);
      assertTrue(rs.isParityCorrect(shards, 0, size), context(seed, config[0], config[1], size));
      for (int s = 0; s < rs.totalShards(); s++) {
        for (int i = 0; i < size; i++) {
          byte original = shards[s][i];
          shards[s][i] ^= (byte) (1 + random.nextInt(255));
          assertFalse(rs.isParityCorrect(shards, 0, size),
              "flip of shard " + s + " byte " + i + " not detected, "
                  + context(seed, config[0], config[1], size));
          shards[s][i] = original;
        }
      }
      assertTrue(rs.isParityCorrect(shards, 0, size));
    }
  }

  @Test
  void isParityCorrect_flipBeyondFirstChunk_isDetected() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    int size = 200_000;
    byte[][] shards = encodedStripe(rs, size, new Random(seedFor(4, 2, size)));
    assertTrue(rs.isParityCorrect(shards, 0, size));
    shards[2][size - 1] ^= 0x40;
    assertFalse(rs.isParityCorrect(shards, 0, size));
    assertTrue(rs.isParityCorrect(shards, 0, size - 1));
  }

  // ---------------------------------------------------------------- reconstruction

  static Stream<Arguments> configsAndSizes() {
    List<Arguments> list = new ArrayList<>();
    for (int[] config : CONFIGS) {
      for (int size : SIZES) {
        list.add(Arguments.of(config[0], config[1], size));
      }
    }
    return list.stream();
  }

  @ParameterizedTest(name = "rs-{0}-{1} shard size {2}")
  @MethodSource("configsAndSizes")
  void reconstruct_everyErasurePatternUpToM_restoresAllShards(int k, int m, int size) {
    ReedSolomon rs = ReedSolomon.create(k, m);
    long seed = seedFor(k, m, size);
    Random random = new Random(seed);
    byte[][] pristine = encodedStripe(rs, size, random);
    String context = context(seed, k, m, size);
    long patterns = forEachSubset(k + m, m,
        lost -> loseAndReconstruct(rs, pristine, lost, 0, size, random, context));
    long expected = 0;
    for (int e = 1; e <= m; e++) {
      expected += binomial(k + m, e);
    }
    assertEquals(expected, patterns, "erasure patterns tried, " + context);
  }

  @Test
  void reconstruct_anyTwoLost_rs42_restoresAll() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    int size = 4099;
    long seed = seedFor(4, 2, size);
    Random random = new Random(seed);
    byte[][] pristine = encodedStripe(rs, size, random);
    int tried = 0;
    for (int a = 0; a < 6; a++) {
      for (int b = a + 1; b < 6; b++) {
        loseAndReconstruct(rs, pristine, new int[] {a, b}, 0, size, random,
            context(seed, 4, 2, size));
        tried++;
      }
    }
    assertEquals(15, tried);
  }

  @Test
  void reconstruct_subRangeAcrossChunks_restoresRangeAndLeavesRestUntouched() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    int size = 3 * 32 * 1024 + 29;
    int offset = 5;
    int length = size - 17;
    long seed = seedFor(4, 2, size);
    Random random = new Random(seed);
    byte[][] pristine = encodedStripe(rs, size, random);
    long patterns = forEachSubset(6, 2,
        lost -> loseAndReconstruct(rs, pristine, lost, offset, length, random,
            context(seed, 4, 2, size)));
    assertEquals(21, patterns);
  }

  @Test
  void reconstruct_subRange_leavesMissingBytesOutsideRangeUntouched() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    int size = 300;
    byte[][] pristine = encodedStripe(rs, size, new Random(seedFor(4, 2, size)));
    byte[][] shards = deepCopy(pristine);
    Arrays.fill(shards[1], (byte) 0x77);
    Arrays.fill(shards[5], (byte) 0x77);
    boolean[] present = {true, false, true, true, true, false};
    rs.reconstruct(shards, present, 100, 50);
    for (int s : new int[] {1, 5}) {
      for (int i = 0; i < size; i++) {
        byte expected = i >= 100 && i < 150 ? pristine[s][i] : (byte) 0x77;
        assertEquals(expected, shards[s][i], "shard " + s + " byte " + i);
      }
    }
  }

  @Test
  void reconstruct_nullMissingShard_isAllocatedAndFilled() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    byte[][] pristine = encodedStripe(rs, 64, new Random(seedFor(4, 2, 64)));
    byte[][] shards = deepCopy(pristine);
    shards[0] = null;
    shards[4] = null;
    rs.reconstruct(shards, new boolean[] {false, true, true, true, false, true}, 0, 64);
    assertNotNull(shards[0]);
    assertArrayEquals(pristine[0], shards[0]);
    assertArrayEquals(pristine[4], shards[4]);
  }

  @Test
  void reconstruct_allPresent_changesNothing() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    byte[][] shards = encodedStripe(rs, 64, new Random(seedFor(4, 2, 64)));
    shards[5][3] ^= 1; // even inconsistent parity is left alone when nothing is missing
    byte[][] before = deepCopy(shards);
    byte[] parity = shards[5];
    boolean[] all = new boolean[6];
    Arrays.fill(all, true);
    rs.reconstruct(shards, all, 0, 64);
    assertSame(parity, shards[5]);
    for (int i = 0; i < 6; i++) {
      assertArrayEquals(before[i], shards[i]);
    }
  }

  @Test
  void reconstruct_singleLostDataShard_usesXorOnly() {
    ReedSolomon rs = ReedSolomon.create(10, 4);
    for (int lost = 0; lost < 10; lost++) {
      boolean[] present = new boolean[14];
      Arrays.fill(present, true);
      present[lost] = false;
      assertEquals(0, rs.decodeProgram(present).tableSteps(), "lost data shard " + lost);
    }
  }

  @Test
  void reconstruct_twoLostDataShards_rs42_needsAtMostThreeTableSteps() {
    ReedSolomon rs = ReedSolomon.create(4, 2);
    boolean[] present = {false, false, true, true, true, true};
    CodingLoop.Program program = rs.decodeProgram(present);
    assertTrue(program.tableSteps() <= 3, program.toString());
  }

  @Test
  void reconstruct_maximalCode200plus56_restoresSampledPatterns() {
    ReedSolomon rs = ReedSolomon.create(200, 56);
    int size = 24;
    long seed = seedFor(200, 56, size);
    Random random = new Random(seed);
    byte[][] pristine = encodedStripe(rs, size, random);
    assertTrue(rs.isParityCorrect(pristine, 0, size));
    byte[][] naive = naiveParity(rs, pristine, 0, size);
    for (int p = 0; p < 56; p++) {
      assertArrayEquals(naive[p], pristine[200 + p], "parity " + p + " seed " + seed);
    }
    String context = context(seed, 200, 56, size);
    List<int[]> patterns = new ArrayList<>();
    patterns.add(range(0, 56)); // first 56 data shards
    patterns.add(range(144, 200)); // last 56 data shards
    patterns.add(range(200, 256)); // all parity
    patterns.add(new int[] {0});
    patterns.add(new int[] {199});
    patterns.add(new int[] {255});
    for (int t = 0; t < 25; t++) {
      int lostCount = 1 + random.nextInt(56);
      if (t % 3 == 0) {
        lostCount = 56;
      }
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < 256; i++) {
        all.add(i);
      }
      java.util.Collections.shuffle(all, random);
      int[] lost = all.subList(0, lostCount).stream().mapToInt(Integer::intValue).sorted()
          .toArray();
      patterns.add(lost);
    }
    for (int[] lost : patterns) {
      loseAndReconstruct(rs, pristine, lost, 0, size, random, context);
    }
    boolean[] present = new boolean[256];
    Arrays.fill(present, true);
    for (int i = 0; i < 57; i++) {
      present[i * 4] = false;
    }
    assertThrows(IllegalStateException.class,
        () -> rs.reconstruct(deepCopy(pristine), present, 0, size));
  }

  private static int[] range(int from, int to) {
    int[] r = new int[to - from];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  @Test
  void reconstruct_concurrentCallers_allSucceed() throws Exception {
    ReedSolomon rs = ReedSolomon.create(6, 3);
    int size = 5000;
    long seed = seedFor(6, 3, size);
    byte[][] pristine = encodedStripe(rs, size, new Random(seed));
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < 4; t++) {
      final long threadSeed = seed + t;
      Thread thread = new Thread(() -> {
        try {
          Random random = new Random(threadSeed);
          forEachSubset(9, 3, lost -> loseAndReconstruct(rs, pristine, lost, 0, size, random,
              context(threadSeed, 6, 3, size)));
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertTrue(failures.isEmpty(), () -> "failures: " + failures);
  }
}
