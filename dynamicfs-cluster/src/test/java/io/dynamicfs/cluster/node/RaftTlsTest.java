package io.dynamicfs.cluster.node;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.cluster.raft.RaftTls;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.ratis.protocol.RaftGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Raft port admits holders of the cluster token only: a client without TLS, or with the TLS identity of
 * another secret under the same cluster id, can neither submit an op nor read metadata, and the store is
 * unchanged; the admin client says why in one line. (The existing cluster tests run with TLS on.)
 */
class RaftTlsTest {
  private static final ClusterNode.Options FAST = new ClusterNode.Options(Duration.ofSeconds(1), Duration.ofMillis(500),
      1 << 20);

  @TempDir Path tmp;

  @Test
  void withoutTheToken_noOpIsSubmitted_noQueryAnswered_andTheStoreIsUnchanged() throws Exception {
    Endpoint e1 = freeEndpoint();
    try (ClusterNode n1 = ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-1", FormatOptions.DEFAULT, FAST)) {
      RaftGroup group = RaftGroup.valueOf(ClusterAdmin.groupId(n1.token()), ClusterAdmin.peer(e1));
      MetaOp intrude = new MetaOp.CreateNode(FileSystem.ROOT_INO, "intruder", FileType.DIRECTORY.bits() | 0755, 0, 0,
          true, 0, null, 1);
      ClusterToken forged = new ClusterToken(n1.token().clusterId(), ClusterToken.generate().secret());
      assertNotEquals(ClusterAdmin.tls(n1.token()).fingerprint(), ClusterAdmin.tls(forged).fingerprint());
      assertEquals(ClusterAdmin.tls(n1.token()).fingerprint(), RaftTls.forSecret(n1.token().secret()).fingerprint(),
          "the key is derived from the secret alone");

      try (RaftMetaClient plain = new RaftMetaClient(group, Duration.ofSeconds(3));
          RaftMetaClient wrong = new RaftMetaClient(group, Duration.ofSeconds(3), ClusterAdmin.tls(forged))) {
        for (RaftMetaClient c : List.of(plain, wrong)) {
          assertThrows(FsException.class, () -> c.submit(intrude));
          assertThrows(FsException.class, () -> c.query(new MetaQuery.Nodes()));
        }
      }
      FsException refused = assertThrows(FsException.class,
          () -> ClusterAdmin.connect(forged, List.of(e1), Duration.ofSeconds(5)));
      assertTrue(refused.getMessage().contains("TLS handshake was refused"), refused.getMessage());
      assertTrue(!refused.getMessage().contains(forged.secret()), "no secret in the message");

      // the real token still works, and nothing was created
      try (ClusterAdmin admin = ClusterAdmin.connect(n1.token(), List.of(e1), Duration.ofSeconds(30))) {
        assertEquals(List.of("n1"), admin.nodes().stream().map(n -> n.nodeId()).toList());
        admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "member", FileType.DIRECTORY.bits() | 0755,
            0, 0, true, 0, null, 2)).orThrow();
      }
      assertTrue(n1.raft().stateMachine().read(s -> s.lookup(FileSystem.ROOT_INO, "member")) > 0);
      assertEquals(-1L, (long) n1.raft().stateMachine().read(s -> s.lookup(FileSystem.ROOT_INO, "intruder")));
    }
  }
}
