package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

class RaftNodeConfigTest {
  private static final Path DIR = Path.of("/tmp/none");

  @Test
  void defaults_areSizedForASmallMachine() {
    RaftProperties p = RaftNodeConfig.builder("n1", "127.0.0.1", 9000, DIR).build().toProperties();
    assertTrue(RaftServerConfigKeys.Rpc.timeoutMin(p).toLong(java.util.concurrent.TimeUnit.MILLISECONDS) >= 1000);
    assertEquals(RaftServerConfigKeys.Read.Option.LINEARIZABLE, RaftServerConfigKeys.Read.option(p));
    assertEquals(10_000, RaftServerConfigKeys.Read.timeout(p).toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    assertEquals(false, RaftServerConfigKeys.ThreadPool.serverCached(p));
    assertEquals(true, RaftServerConfigKeys.Snapshot.autoTriggerEnabled(p));
    assertEquals(List.of(DIR.toFile()), RaftServerConfigKeys.storageDir(p));
    // a voter syncs its log before an entry counts; log metadata carries commits to listeners at once
    assertEquals(false, RaftServerConfigKeys.Log.unsafeFlushEnabled(p));
    assertEquals(true, RaftServerConfigKeys.Log.logMetadataEnabled(p));
    // the gRPC transport whose leader restarts a failed log appender, as Ratis builds it from the name
    assertEquals(AppenderRpcType.class, RaftConfigKeys.Rpc.type(p, s -> { }).getClass());
    // a server whose JVM was paused (SIGSTOP, a frozen VM) resumes instead of closing itself after 60 s
    assertTrue(RaftServerConfigKeys.closeThreshold(p).toLong(java.util.concurrent.TimeUnit.DAYS) >= 365);
  }

  @Test
  void aListenerThatMayLoseItsLog_doesNotSyncIt() {
    RaftProperties p = RaftNodeConfig.builder("m1", "127.0.0.1", 9000, DIR).ephemeral(true).build().toProperties();
    assertEquals(true, RaftServerConfigKeys.Log.unsafeFlushEnabled(p));
  }

  @Test
  void badValues_failNamingTheOption() {
    assertMessage("peer id", () -> RaftNodeConfig.builder("a b", "h", 1, DIR));
    assertMessage("port", () -> RaftNodeConfig.builder("n", "h", 0, DIR));
    var b = RaftNodeConfig.builder("n", "h", 1, DIR);
    assertMessage("election timeout min", () -> b.electionTimeout(Duration.ofMillis(50), Duration.ofSeconds(1)));
    assertMessage("must exceed min", () -> b.electionTimeout(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    assertMessage("snapshot threshold", () -> b.snapshotThreshold(0));
    assertMessage("snapshot size", () -> b.snapshotBytes(1000));
    assertMessage("log segment size", () -> b.segmentBytes(100));
    assertMessage("thread pool size", () -> b.threads(0));
    assertMessage("read timeout", () -> b.readTimeout(Duration.ofMillis(10)));
  }

  private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
    assertTrue(x.getMessage().contains(part), x.getMessage());
  }
}
