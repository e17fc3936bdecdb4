package io.dynamicfs.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dynamicfs.policy.track.AccessTracker;
import org.junit.jupiter.api.Test;

class FeaturesTest {
  @Test
  void extract_knownHistory_givesTheLogScaledFigures() {
    AccessTracker t = new AccessTracker(new AccessTracker.Config(64, 64, new double[] {10, 100, 1000}));
    t.record(0, 7, 70, 8192, false);
    t.record(50, 7, 71, 4096, true); // sequential after 70, same file
    t.record(100, 7, 70, 8192, false);
    Features f = new Features(t, 100);
    double[] x = new double[Features.COUNT];
    f.extract(7, 70, 300, x);
    assertEquals(Math.log1p(2.0), x[0], 1e-12); // 200 ticks = 2 horizons since the last access
    double mid = (Math.pow(2, -100 / 100.0) + 1) * Math.pow(2, -200 / 100.0);
    assertEquals(Math.log1p(mid), x[2], 1e-6);
    assertEquals(Math.log1p(2), x[4], 1e-12); // two accesses
    assertEquals(Math.log1p(2), x[5], 1e-12); // 8 KiB = 2 blocks
    assertEquals(0, x[6], 1e-12); // 70 never followed 69
    assertEquals(Math.log1p(1.0), x[7], 1e-12); // read over 100 ticks = 1 horizon
    assertEquals(0, x[8], 1e-12);
    double fileMid = ((Math.pow(2, -50 / 100.0) + 1) * Math.pow(2, -50 / 100.0) + 1) * Math.pow(2, -200 / 100.0);
    assertEquals(Math.log1p(fileMid), x[9], 1e-6);
    assertEquals(Math.log1p(2.0), x[10], 1e-12);

    f.extract(7, 71, 300, x);
    assertEquals(1.0, x[6], 1e-12); // its only access continued 70
    assertEquals(1.0, x[8], 1e-12); // and wrote

    f.extract(8, 999, 300, x); // unknown extent of an unknown file
    assertEquals(Math.log1p(Features.UNKNOWN_AGE), x[0], 1e-12);
    assertEquals(0, x[2]);
    assertEquals(0, x[9]);
  }
}
