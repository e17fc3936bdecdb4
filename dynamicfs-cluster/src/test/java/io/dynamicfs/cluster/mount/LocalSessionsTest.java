package io.dynamicfs.cluster.mount;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalSessionsTest {
  @TempDir Path tmp;

  private static MetadataStore.Session session(long id, String client) {
    return new MetadataStore.Session(id, client, Long.MAX_VALUE);
  }

  @Test
  void onlySessionsOfThisBootAndPidNamespace_whoseProcessIsGone_areDead() {
    List<MetadataStore.Session> s = List.of(
        session(1, "mount /m pid 100 boot b1 pidns 7"),   // gone, here: dead
        session(2, "mount /m pid 200 boot b1 pidns 7"),   // alive
        session(3, "mount /m pid 100 boot b2 pidns 7"),   // another boot (or machine)
        session(4, "mount /m pid 100 boot b1 pidns 8"),   // another container
        session(5, "mount /m pid 100"),                   // a mount before session 26: left to expire
        session(6, "mount /a pid 1 x pid 100 boot b1 pidns 7")); // a path with " pid " in it: the last one counts
    assertEquals(List.of(1L, 6L), LocalSessions.ofDeadProcesses(s, "b1", "7", pid -> pid == 200).stream()
        .map(MetadataStore.Session::id).toList());
    assertEquals(List.of(), LocalSessions.ofDeadProcesses(s, null, "7", pid -> false), "no boot id: nothing");
  }

  @Test
  void theClientNameOfThisProcess_namesItsPidBootAndNamespace_andIsAlive() {
    String c = LocalSessions.client(Path.of("/mnt/x"));
    assertTrue(c.startsWith("mount /mnt/x pid " + ProcessHandle.current().pid() + " boot "), c);
    assertEquals(List.of(), LocalSessions.ofDeadProcesses(List.of(session(9, c)), LocalSessions::alive));
  }

  @Test
  void aNewMount_endsTheSessionsDeadMountsHereLeft_notOthers() throws Exception {
    Endpoint e1 = freeEndpoint();
    try (ClusterNode n = ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT,
        new ClusterNode.Options(Duration.ofSeconds(1), Duration.ofMillis(500), 1 << 20))) {
      ClusterToken token = n.token();
      String here = LocalSessions.client(Path.of("/mnt/killed"));
      long deadPid = ProcessHandle.current().pid();
      try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30))) {
        admin.meta().submit(new MetaOp.OpenSession(0x51, here, Long.MAX_VALUE)).orThrow();
        admin.meta().submit(new MetaOp.OpenSession(0x52, "mount /mnt/elsewhere pid " + deadPid
            + " boot another-machine pidns 1", Long.MAX_VALUE)).orThrow();
      }
      try (ClusterMounts m = ClusterMounts.connect(token, List.of(e1), "127.0.0.1", false,
          RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT)) {
        // this process stands in for the killed mount: its pid is declared gone
        assertEquals(1, m.endSessionsOfDeadLocalMounts(pid -> pid != deadPid));
        waitFor(Duration.ofSeconds(15), () -> m.replica().session(0x51) == null);
        assertNotNull(m.replica().session(0x52), "another machine's session is left to expire");
        assertEquals(0, m.endSessionsOfDeadLocalMounts(), "this process is alive: nothing more");
      }
    }
  }
}
