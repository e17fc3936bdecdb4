package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.fuse.FuseMount;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node processes started with {@code --block-tls} (their block ports take only TLS): a mount without the
 * option is refused at mount time in one line naming it; a mount with it writes and reads a file; fsck and
 * status (whose block calls always use TLS) work against such nodes.
 */
class ClusterBlockTlsCliTest {
  @TempDir Path tmp;

  @Test
  void nodesTakingOnlyTls_refuseAPlainMount_serveATlsMount_fsckAndStatusWork() throws Exception {
    try (ClusterFixture c = ClusterFixture.start(tmp, 2, "replicate-2", "--block-tls")) {
      Path plain = tmp.resolve("plain");
      Files.createDirectories(plain);
      CliRun.Result r = CliRun.run("mount", "--cluster", c.peers(), "--token-file", c.token.toString(),
          plain.toString());
      try {
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--block-tls"), r.err());
        assertFalse(FuseMount.isMounted(plain), "a refused mount left " + plain + " mounted");
      } finally {
        Daemon.detach(plain);
      }

      Daemon m = c.mount(tmp.resolve("m"), "balanced", "--block-tls");
      byte[] content = new byte[3_000_000];
      new Random(5).nextBytes(content);
      Path f = m.mnt.resolve("f");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(content);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      assertArrayEquals(content, Files.readAllBytes(f));
      c.assertFsckClean();
      CliRun.Result fsck = CliRun.run("fsck", "-q", "--fast", "--cluster", c.peers(), "--token-file",
          c.token.toString());
      assertTrue(fsck.out().contains("fsck unplaced copies: 0, 0 bytes"), fsck.out()); // every copy is committed
      JsonNode st = c.status("n1");
      for (JsonNode member : st.get("members")) {
        assertEquals("healthy", member.get("health").asText(), st.toString());
      }
      c.unmount(m);
    }
  }
}
