package io.dynamicfs.fuse.lowlevel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dynamicfs.cache.MemoryBlockCache;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.fuse.FuseMount;
import io.dynamicfs.fuse.MountOptions;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * create/s and stat/s through the path-based API (FuseMount's default) and the low-level binding, in
 * one JVM: a python3 loop creates 2000 files, then stats them round-robin for 3 s. Run with
 * {@code -Ddfs.bench=true} (e.g. {@code JAVA_TOOL_OPTIONS=-Ddfs.bench=true}).
 */
@EnabledIfSystemProperty(named = "dfs.bench", matches = "true")
class LowLevelBenchTest {
  private static final String SCRIPT = """
      import os, sys, time
      d = sys.argv[1]
      names = [os.path.join(d, "f%d" % i) for i in range(2000)]
      t = time.perf_counter()
      for n in names:
          os.close(os.open(n, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
      create = len(names) / (time.perf_counter() - t)
      count = 0
      t = time.perf_counter()
      end = t + 3.0
      while True:
          for n in names[(count % 2000):(count % 2000) + 100]:
              os.stat(n)
          count += 100
          if time.perf_counter() >= end:
              break
      stat = count / (time.perf_counter() - t)
      print("%d %d" % (create, stat))
      """;

  @TempDir
  Path base;

  @Test
  void compare() throws Exception {
    String high = measure("high", false);
    String low = measure("low", true);
    System.out.println("BENCH path-api(high-level) create/s stat/s = " + high);
    System.out.println("BENCH low-level            create/s stat/s = " + low);
    System.err.println("BENCH path-api(high-level) create/s stat/s = " + high);
    System.err.println("BENCH low-level            create/s stat/s = " + low);
  }

  private String measure(String name, boolean lowLevel) throws Exception {
    Path data = Files.createDirectories(base.resolve(name + "-data"));
    Path mnt = Files.createDirectories(base.resolve(name + "-mnt"));
    try (DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, EngineOptions.defaults()
            .withStoreDecorator(s -> new MemoryBlockCache(s, 64L << 20)))) {
      MountOptions mo = MountOptions.defaults("dynamicfs:" + data);
      Closeable m = lowLevel ? LowLevelMount.mount(fs, mnt, mo) : highLevel(fs, mnt, mo);
      try {
        Process p = new ProcessBuilder("python3", "-c", SCRIPT, mnt.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), out);
        return out;
      } finally {
        m.close();
      }
    }
  }

  private static Closeable highLevel(DynamicFileSystem fs, Path mnt, MountOptions mo) throws IOException {
    String before = System.getProperty("dfs.fuse.api");
    System.setProperty("dfs.fuse.api", "highlevel");
    try {
      return FuseMount.mount(fs, mnt, mo);
    } finally {
      if (before != null) {
        System.setProperty("dfs.fuse.api", before);
      } else {
        System.clearProperty("dfs.fuse.api");
      }
    }
  }
}
