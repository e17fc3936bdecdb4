package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link CopyPlan}: which blocks copy_file_range shares and which bytes it copies. */
class CopyPlanTest {
  private static final int BS = 1 << 20;

  @Test
  void wholeFileToEmptyFile_sharesEveryBlockIncludingTheShortLast() {
    long size = 5L * BS + 123;
    CopyPlan p = CopyPlan.of(0, 0, size, size, 0, BS, false);
    assertEquals(new CopyPlan(0, 0, 6, size, List.of()), p);
  }

  @Test
  void targetLongerThanTheCopy_keepsItsBytesPastTheSourcesEnd() {
    long size = 2L * BS + 10;
    CopyPlan p = CopyPlan.of(0, 0, size, size, 3L * BS, BS, false);
    assertEquals(new CopyPlan(0, 0, 2, 2L * BS, List.of(new CopyPlan.Range(2L * BS, 2L * BS, 10))), p);
  }

  @Test
  void sameOffsetWithinBlock_copiesTheEdgesAndSharesTheMiddle() {
    CopyPlan p = CopyPlan.of(BS - 5, 3L * BS - 5, 2L * BS + 10, 10L * BS, 0, BS, false);
    // source [BS - 5, 3 BS + 5): blocks 1 and 2 whole, 5 bytes before and after
    assertEquals(new CopyPlan(1, 3, 2, 5L * BS, List.of(new CopyPlan.Range(BS - 5, 3L * BS - 5, 5),
        new CopyPlan.Range(3L * BS, 5L * BS, 5))), p);
  }

  @Test
  void differentOffsetsWithinBlock_orNoWholeBlock_copyBytesOnly() {
    assertEquals(CopyPlan.bytesOnly(1, 0, 3L * BS), CopyPlan.of(1, 0, 3L * BS, 10L * BS, 0, BS, false));
    assertEquals(CopyPlan.bytesOnly(10, 10, 100), CopyPlan.of(10, 10, 100, 10L * BS, 0, BS, false));
  }

  @Test
  void inlineFirstBlock_isCopiedAsBytesUnlessItStaysBlockZero() {
    assertEquals(new CopyPlan(1, 3, 1, 4L * BS, List.of(new CopyPlan.Range(0, 2L * BS, BS))),
        CopyPlan.of(0, 2L * BS, 2L * BS, 5L * BS, 0, BS, true));
    assertEquals(new CopyPlan(0, 0, 2, 2L * BS, List.of()), CopyPlan.of(0, 0, 2L * BS, 5L * BS, 0, BS, true));
  }
}
