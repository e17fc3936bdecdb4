package io.dynamicfs.cluster.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaDirectoryTest {
  @TempDir Path base;

  @Test
  void aDirectoryWhoseLockNobodyHolds_isRemovedByTheNextMount_oneHeldStays() throws Exception {
    // what kill -9 leaves: the directory with its lock file, the lock gone with the process
    Path dead = Files.createDirectory(base.resolve(ReplicaDirectory.PREFIX + "dead"));
    Files.createFile(dead.resolve("lock"));
    Files.createDirectories(dead.resolve("raft/group/current"));
    Files.write(dead.resolve("raft/group/current/log_0-9"), new byte[4096]);
    // a directory without a lock file (an older version's mount, perhaps still running) is not touched
    Path old = Files.createDirectory(base.resolve(ReplicaDirectory.PREFIX + "old"));
    Path unrelated = Files.createDirectory(base.resolve("something-else"));
    try (ReplicaDirectory live = ReplicaDirectory.create(base)) {
      assertFalse(Files.exists(dead), "the dead mount's replica was removed");
      assertTrue(Files.isDirectory(old) && Files.isDirectory(unrelated));
      assertTrue(Files.isRegularFile(live.path().resolve("lock")));
      assertTrue(live.raftStorage().startsWith(live.path()));
      try (ReplicaDirectory second = ReplicaDirectory.create(base)) {
        assertTrue(Files.isDirectory(live.path()), "a live mount's directory stays");
        assertEquals(0, ReplicaDirectory.sweep(base));
        second.close();
        assertFalse(Files.exists(second.path()), "closing removes it");
      }
    }
  }
}
