package io.dynamicfs.cli.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metering decorator over a real engine: counts, latencies, bytes and errors by errno. */
class MeteredFileSystemTest {
  private static final int O_RDWR = 2;

  @TempDir
  Path data;

  private static double count(MeterRegistry r, String op) {
    Timer t = r.find("dfs.fs.op").tag("op", op).timer();
    assertNotNull(t, op);
    return t.count();
  }

  @Test
  void operations_countedTimedAndBytesAdded_errorsByErrno() throws Exception {
    PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem engine = DynamicFileSystem.open(dir, EngineOptions.defaults())) {
      FileSystem fs = new MeteredFileSystem(engine, r);
      byte[] content = new byte[300_000];
      new java.util.Random(3).nextBytes(content);
      OpenResult o = fs.create(Caller.ROOT, FileSystem.ROOT_INO, "f", 0644, O_RDWR);
      assertEquals(content.length, fs.write(o.handle(), 0, content, 0, content.length));
      fs.release(o.handle());
      long h = fs.open(Caller.ROOT, fs.lookup(FileSystem.ROOT_INO, "f"), 0);
      byte[] back = new byte[content.length];
      int n = fs.read(h, 0, back, 0, back.length);
      fs.release(h);
      assertThrows(FsException.class, () -> fs.lookup(FileSystem.ROOT_INO, "missing"));
      assertThrows(FsException.class, () -> fs.lookup(FileSystem.ROOT_INO, "missing2"));
      assertThrows(FsException.class, () -> fs.rmdir(FileSystem.ROOT_INO, "f"));

      assertEquals(1, count(r, "create"));
      assertEquals(1, count(r, "write"));
      assertEquals(1, count(r, "read"));
      assertEquals(3, count(r, "lookup"), "failed operations are timed too");
      assertEquals(content.length, r.find("dfs.fs.written").counter().count());
      assertEquals(n, r.find("dfs.fs.read").counter().count());
      Counter enoent = r.find("dfs.fs.op.errors").tag("op", "lookup").tag("errno", "ENOENT").counter();
      assertEquals(2, enoent.count());
      assertEquals(1, r.find("dfs.fs.op.errors").tag("op", "rmdir").counters().stream()
          .mapToDouble(Counter::count).sum());
      assertTrue(r.find("dfs.fs.op").tag("op", "write").timer().totalTime(TimeUnit.NANOSECONDS) > 0);
      String text = r.scrape();
      assertTrue(text.contains("dfs_fs_op_seconds_bucket{op=\"write\",le=\"0.001\"}"), text);
      assertTrue(text.contains("dfs_fs_op_errors_total{errno=\"ENOENT\",op=\"lookup\"} 2.0"), text);
      assertTrue(text.contains("dfs_fs_written_bytes_total 300000.0"), text);
    }
  }
}
