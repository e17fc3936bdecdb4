package io.dynamicfs.core.erasure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CodingLoopTest {

  /** Applies {@code dst (=|^=) c * src} byte by byte over {@code [offset, offset + length)}. */
  private static void naiveStep(
      boolean set, int c, byte[] src, byte[] dst, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      int product = GaloisField.multiply(c, src[i] & 0xFF);
      dst[i] = (byte) (set ? product : (dst[i] & 0xFF) ^ product);
    }
  }

  @Test
  void program_randomSteps_matchesNaiveInterpretation() {
    long seed = 0xC0DE_10L;
    Random random = new Random(seed);
    int tableSteps = 0;
    for (int trial = 0; trial < 300; trial++) {
      int buffers = 2 + random.nextInt(6);
      int size = 1 + random.nextInt(trial % 10 == 0 ? 70_000 : 200);
      int offset = random.nextInt(Math.min(size, 20));
      int length = random.nextInt(size - offset + 1);
      byte[][] shards = new byte[buffers][size];
      for (byte[] b : shards) {
        random.nextBytes(b);
      }
      byte[][] expected = new byte[buffers][];
      for (int i = 0; i < buffers; i++) {
        expected[i] = shards[i].clone();
      }
      CodingLoop.ProgramBuilder builder = new CodingLoop.ProgramBuilder();
      int steps = 1 + random.nextInt(12);
      int lastSrc = random.nextInt(buffers);
      boolean lastSet = random.nextBoolean();
      StringBuilder description = new StringBuilder();
      for (int s = 0; s < steps; s++) {
        // Bias towards runs of the same source and kind, as in real programs.
        int src = random.nextInt(3) == 0 ? random.nextInt(buffers) : lastSrc;
        boolean set = random.nextInt(3) == 0 ? random.nextBoolean() : lastSet;
        int dst = random.nextInt(buffers);
        int c = random.nextInt(5) == 0 ? random.nextInt(2) : random.nextInt(256);
        if (dst == src && !set) {
          continue;
        }
        if (set) {
          builder.set(c, src, dst);
        } else {
          builder.xor(c, src, dst);
        }
        naiveStep(set, c, expected[src], expected[dst], offset, length);
        description.append(dst).append(set ? " = " : " ^= ").append(c).append(" * ")
            .append(src).append("; ");
        lastSrc = src;
        lastSet = set;
      }
      CodingLoop.Program program = builder.build();
      tableSteps += program.tableSteps();
      program.run(shards, offset, length);
      for (int i = 0; i < buffers; i++) {
        final int buffer = i;
        final int t = trial;
        assertArrayEquals(expected[i], shards[i], () -> "buffer " + buffer + " trial " + t
            + " seed " + seed + " size " + size + " range [" + offset + ", " + (offset + length)
            + ") steps " + description + "\nprogram:\n" + program);
      }
    }
    assertTrue(tableSteps > 1000, "table steps exercised only " + tableSteps + " times");
  }

  @Test
  void build_countsStepsAndDropsZeroXors() {
    CodingLoop.Program program = new CodingLoop.ProgramBuilder()
        .set(1, 0, 3).xor(7, 1, 3).xor(1, 2, 3).xor(0, 1, 3).set(9, 3, 3).build();
    assertEquals(4, program.size(), program.toString());
    assertEquals(2, program.tableSteps(), program.toString());
    assertTrue(program.toString().contains("3 ^= 7 * 1"), program.toString());
  }

  @Test
  void program_inPlaceScaleAndCopy_workAcrossChunkBoundaries() {
    int size = 100_001;
    byte[][] shards = new byte[2][size];
    new Random(3).nextBytes(shards[0]);
    byte[] original = shards[0].clone();
    new CodingLoop.ProgramBuilder().set(1, 0, 1).set(29, 0, 0).build().run(shards, 3, size - 3);
    for (int i = 0; i < size; i++) {
      byte expected = i < 3 ? original[i] : (byte) GaloisField.multiply(29, original[i] & 0xFF);
      assertEquals(expected, shards[0][i], "scaled byte " + i);
      assertEquals(i < 3 ? 0 : original[i], shards[1][i], "copied byte " + i);
    }
  }

  @Test
  void builder_badSteps_areRejected() {
    CodingLoop.ProgramBuilder builder = new CodingLoop.ProgramBuilder();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> builder.xor(3, 2, 2));
    assertTrue(e.getMessage().contains("distinct"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> builder.set(256, 0, 1));
    assertTrue(e.getMessage().contains("256"), e.getMessage());
  }

  @Test
  void chunkSize_staysWithinBoundsAndIsCacheLineMultiple() {
    for (int shards = 1; shards <= 256; shards++) {
      int chunk = CodingLoop.chunkSize(shards);
      assertTrue(chunk >= 4096 && chunk <= 32 * 1024 && chunk % 64 == 0,
          "chunk " + chunk + " for " + shards + " shards");
    }
  }
}
