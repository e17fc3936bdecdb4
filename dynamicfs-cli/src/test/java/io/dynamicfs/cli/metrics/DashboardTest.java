package io.dynamicfs.cli.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cache.CacheStack;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped Grafana dashboard queries only metrics the daemon really exports. */
class DashboardTest {
  private static final Path DASHBOARD = Path.of("..", "docs", "grafana-dynamicfs.json");
  /** Created lazily by the JVM (after the first GC), so absent from a fresh registry. */
  private static final Set<String> LAZY = Set.of("jvm_gc_pause_seconds_sum");

  @TempDir
  Path data;

  @Test
  void everyMetricInTheDashboard_isExported() throws Exception {
    String dashboard = Files.readString(DASHBOARD);
    Set<String> used = new TreeSet<>();
    Matcher m = Pattern.compile("\\b((?:dfs|jvm|process)_[a-z0-9_]+)\\b").matcher(dashboard);
    while (m.find()) {
      used.add(m.group(1));
    }
    assertTrue(used.size() > 15, used.toString());
    String scrape;
    try (DaemonMetrics metrics = new DaemonMetrics();
        DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem engine = DynamicFileSystem.open(dir, EngineOptions.defaults().withStoreDecorator(
            CacheStack.builder(metrics.registry()).memory(16 << 20).build()))) {
      new EngineMetrics(engine, 1000).bindTo(metrics.registry());
      new StorageMetrics(engine.storage()).bindTo(metrics.registry());
      io.dynamicfs.policy.mount.MountPolicy policy = new io.dynamicfs.policy.mount.MountPolicy(engine, null, "off", null,
          System::currentTimeMillis);
      policy.enableExecution(data.resolve("policy"), io.dynamicfs.policy.act.Foreground.NONE, null);
      new PolicyMetrics(policy, engine.storage()).bindTo(metrics.registry());
      FileSystem fs = new MeteredFileSystem(engine, metrics.registry());
      OpenResult o = fs.create(Caller.ROOT, FileSystem.ROOT_INO, "f", 0644, 2);
      fs.write(o.handle(), 0, new byte[100_000], 0, 100_000);
      fs.release(o.handle());
      assertTrue(fs.getattr(o.attr().ino()).size() == 100_000);
      try {
        fs.lookup(FileSystem.ROOT_INO, "missing");
      } catch (java.io.IOException expected) {
        // makes the error counter exist
      }
      scrape = metrics.scrape();
      policy.close();
    }
    Set<String> exported = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.startsWith("#") && !line.isEmpty()) {
        exported.add(line.split("[{ ]", 2)[0]);
      }
    }
    Set<String> missing = new TreeSet<>(used);
    missing.removeAll(exported);
    missing.removeAll(LAZY);
    assertTrue(missing.isEmpty(), "the dashboard uses metrics nobody exports: " + missing);
  }
}
