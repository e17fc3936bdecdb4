package io.dynamicfs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.AccessObserver;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's access hook sits above the caches: a read the L1 cache answers (the block store never
 * asked) is still heard, which a block-store decorator below the caches could not do.
 */
class CacheHitObservedTest {
  private static final int BS = 64 << 10;
  private static final Caller ME = new Caller(1000, 1000, 42);

  @TempDir Path tmp;

  @Test
  void readServedByL1_reachesTheAccessObserver() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicLong reads = new AtomicLong();
    AtomicLong readBytes = new AtomicLong();
    AccessObserver observer = new AccessObserver() {
      @Override
      public void read(long ino, long offset, int length, long nanos) {
        reads.incrementAndGet();
        readBytes.addAndGet(length);
      }
    };
    EngineOptions options = EngineOptions.defaults()
        .withStoreDecorator(CacheStack.builder(registry).memory(8L << 20).build()).withAccessObserver(observer);
    byte[] content = new byte[BS];
    new Random(5).nextBytes(content);
    try (DataDirectory dir = DataDirectory.open(java.nio.file.Files.createDirectories(tmp.resolve("data")), new FormatOptions(BS, Codec.LZ4, 4096));
         DynamicFileSystem fs = DynamicFileSystem.open(dir, options)) {
      OpenResult f = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, 2);
      fs.write(f.handle(), 0, content, 0, BS);
      fs.release(f.handle()); // committed: the block is in the store
      long h = fs.open(ME, f.attr().ino(), 0);
      byte[] buf = new byte[BS];
      fs.read(h, 0, buf, 0, BS);
      double hitsBefore = l1(registry, "dfs.cache.hits");
      double missesBefore = l1(registry, "dfs.cache.misses");
      long observedBefore = reads.get();
      for (int i = 0; i < 5; i++) {
        assertEquals(BS, fs.read(h, 0, buf, 0, BS));
      }
      fs.release(h);
      assertEquals(5, l1(registry, "dfs.cache.hits") - hitsBefore, "L1 answered every re-read");
      assertEquals(0, l1(registry, "dfs.cache.misses") - missesBefore, "nothing went below L1");
      assertEquals(5, reads.get() - observedBefore, "each L1 hit was heard");
      assertEquals(6L * BS, readBytes.get());
    }
  }

  private static double l1(SimpleMeterRegistry registry, String name) {
    return registry.get(name).tag("level", "l1").counter().count();
  }
}
