package io.dynamicfs.core.erasure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

class GaloisFieldTest {

  /** Shift-and-add multiplication with reduction by 0x11D: independent of the tables. */
  private static int referenceMultiply(int a, int b) {
    int product = 0;
    while (b != 0) {
      if ((b & 1) != 0) {
        product ^= a;
      }
      a <<= 1;
      if ((a & 0x100) != 0) {
        a ^= 0x11D;
      }
      b >>>= 1;
    }
    return product;
  }

  @Test
  void multiply_allPairs_matchesShiftAndAddReference() {
    for (int a = 0; a < 256; a++) {
      for (int b = 0; b < 256; b++) {
        int expected = referenceMultiply(a, b);
        if (GaloisField.multiply(a, b) != expected) {
          fail("multiply(" + a + ", " + b + ") = " + GaloisField.multiply(a, b)
              + ", expected " + expected);
        }
        if ((GaloisField.MUL_TABLE[(a << 8) + b] & 0xFF) != expected) {
          fail("MUL_TABLE entry for " + a + " * " + b + " wrong");
        }
      }
    }
  }

  @Test
  void multiply_allPairs_isCommutativeWithIdentityAndZero() {
    for (int a = 0; a < 256; a++) {
      assertEquals(a, GaloisField.multiply(a, 1), "a * 1 for a=" + a);
      assertEquals(0, GaloisField.multiply(a, 0), "a * 0 for a=" + a);
      for (int b = 0; b < 256; b++) {
        if (GaloisField.multiply(a, b) != GaloisField.multiply(b, a)) {
          fail("not commutative for " + a + ", " + b);
        }
      }
    }
  }

  @Test
  void inverse_everyNonZeroElement_multipliesToOne() {
    boolean[] seen = new boolean[256];
    for (int a = 1; a < 256; a++) {
      int inv = GaloisField.inverse(a);
      assertEquals(1, GaloisField.multiply(a, inv), "a * inverse(a) for a=" + a);
      assertTrue(!seen[inv], "inverse is not a bijection at " + inv);
      seen[inv] = true;
    }
  }

  @Test
  void divide_allPairs_undoesMultiply() {
    for (int a = 0; a < 256; a++) {
      for (int b = 1; b < 256; b++) {
        int q = GaloisField.divide(a, b);
        if (GaloisField.multiply(q, b) != a) {
          fail("divide(" + a + ", " + b + ") = " + q + " but q * b != a");
        }
      }
    }
  }

  @Test
  void distributivity_allTriples_holds() {
    byte[] t = GaloisField.MUL_TABLE;
    for (int a = 0; a < 256; a++) {
      int row = a << 8;
      for (int b = 0; b < 256; b++) {
        for (int c = 0; c < 256; c++) {
          if ((t[row + (b ^ c)] & 0xFF) != ((t[row + b] ^ t[row + c]) & 0xFF)) {
            fail("a*(b+c) != a*b + a*c for a=" + a + " b=" + b + " c=" + c);
          }
        }
      }
    }
  }

  @Test
  void associativity_allTriples_holds() {
    for (int a = 0; a < 256; a++) {
      for (int b = 0; b < 256; b++) {
        int ab = GaloisField.multiply(a, b);
        for (int c = 0; c < 256; c++) {
          if (GaloisField.multiply(ab, c) != GaloisField.multiply(a, GaloisField.multiply(b, c))) {
            fail("(a*b)*c != a*(b*c) for a=" + a + " b=" + b + " c=" + c);
          }
        }
      }
    }
  }

  @Test
  void expAndLog_generatorTwo_hasOrder255AndRoundTrips() {
    boolean[] seen = new boolean[256];
    for (int i = 0; i < 255; i++) {
      int x = GaloisField.exp(i);
      assertTrue(x != 0 && !seen[x], "2^" + i + " = " + x + " repeats or is zero");
      seen[x] = true;
      assertEquals(i, GaloisField.log(x), "log(2^" + i + ")");
    }
    assertEquals(1, GaloisField.exp(255), "2^255 must be 1");
  }

  @Test
  void add_isXor() {
    assertEquals(0, GaloisField.add(0x53, 0x53));
    assertEquals(0x53 ^ 0xCA, GaloisField.add(0x53, 0xCA));
  }

  @Test
  void divideByZeroAndInverseOfZero_throwArithmeticException() {
    ArithmeticException e = assertThrows(ArithmeticException.class, () -> GaloisField.divide(3, 0));
    assertTrue(e.getMessage().contains("zero"), e.getMessage());
    assertThrows(ArithmeticException.class, () -> GaloisField.inverse(0));
    assertThrows(ArithmeticException.class, () -> GaloisField.log(0));
    assertThrows(IllegalArgumentException.class, () -> GaloisField.exp(-1));
  }
}
