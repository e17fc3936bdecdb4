package io.dynamicfs.cli;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dynamicfs fsck DATA}: checks an unmounted filesystem and reports each problem by path;
 * {@code fsck --cluster HOST:PORT --token-file T} checks a running cluster's metadata against its nodes.
 */
@Command(name = "fsck", mixinStandardHelpOptions = true,
    description = {"Check an unmounted DynamicFS: link counts, directory entries, block references and",
        "reference counts, and (unless --fast) every stored record's checksum and content hash.",
        "With --cluster, check a running cluster: a caught-up replica of its metadata against the blocks",
        "its nodes hold (writes in flight may show as unreferenced blocks: warnings), and each block's copies",
        "counted on the nodes its placement names: under-replicated blocks, blocks placed on unknown or removed",
        "nodes, copies missing or (unless --fast) corrupt on their node are errors.",
        "Exit code: 0 clean (warnings allowed), 1 errors found, 2 cannot check."})
final class FsckCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "DATA", description = "The data directory (must not be mounted).")
  Path data;

  @Option(names = "--cluster", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "Check this cluster instead of a DATA.")
  String cluster;

  @Option(names = "--token-file", paramLabel = "FILE", description = "The cluster's token (default $DYNAMICFS_TOKEN_FILE).")
  Path tokenFile;

  @Option(names = "--fast", description = "Skip reading and verifying block contents.")
  boolean fast;

  @Option(names = {"-q", "--quiet"}, description = "Print only problems and the summary.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    if ((cluster == null) == (data == null)) {
      System.err.println("dynamicfs: give DATA or --cluster HOST:PORT, one of them");
      return Main.EXIT_USAGE;
    }
    if (cluster != null) {
      try {
        java.util.List<io.dynamicfs.cluster.node.Endpoint> peers = new java.util.ArrayList<>();
        for (String p : cluster.split(",")) {
          peers.add(io.dynamicfs.cluster.node.Endpoint.parse("--cluster", p.trim()));
        }
        io.dynamicfs.cluster.node.ClusterToken token =
            io.dynamicfs.cluster.node.ClusterToken.read(TokenFiles.resolve(tokenFile));
        try (io.dynamicfs.cluster.mount.ClusterMounts c =
            io.dynamicfs.cluster.mount.ClusterMounts.connect(token, peers, "127.0.0.1", true);
            ProgressReporter progress = ProgressReporter.create("fsck", ProgressReporter.Unit.ITEMS)) {
          try (io.dynamicfs.core.block.BlockStore reachable = reachable(c)) {
            int code = report(Fsck.check(c.replica(), reachable, !fast,
                quiet ? io.dynamicfs.core.api.ProgressListener.NONE : progress));
            return Math.max(code, copies(c));
          }
        }
      } catch (FsException e) {
        System.err.println("dynamicfs: " + MountCommand.plain(e));
        return Main.EXIT_USAGE;
      }
    }
    try (DataDirectory dir = DataDirectory.open(data, null)) {
      Fsck.Report r;
      try (ProgressReporter progress = ProgressReporter.create("fsck", ProgressReporter.Unit.ITEMS)) {
        r = Fsck.checkOffline(dir, !fast, quiet ? io.dynamicfs.core.api.ProgressListener.NONE : progress);
      }
      return report(r);
    } catch (FsException e) {
      System.err.println("dynamicfs: " + MountCommand.plain(e));
      return Main.EXIT_USAGE;
    }
  }

  /**
   * The cluster's blocks over the nodes that answer now: a node that is down (not yet replaced by the
   * leader) cannot list its blocks, and whether its copies are missed is the copy count's to say.
   */
  private static io.dynamicfs.core.block.BlockStore reachable(io.dynamicfs.cluster.mount.ClusterMounts c) {
    java.util.List<io.dynamicfs.cluster.blocks.BlockNode> up = new java.util.ArrayList<>();
    for (io.dynamicfs.cluster.blocks.BlockNode n : c.nodeDirectory().nodes().nodes()) {
      try {
        ((io.dynamicfs.cluster.transport.RemoteBlockStore) n.store()).nodeStats();
        up.add(n);
      } catch (java.io.IOException | RuntimeException e) {
        System.out.println("fsck: " + n + " does not answer; its blocks are not listed and its copies not counted");
      }
    }
    io.dynamicfs.cluster.blocks.NodeSet set = new io.dynamicfs.cluster.blocks.NodeSet();
    set.setNodes(up);
    return io.dynamicfs.cluster.blocks.NodeStores.open(c.redundancy(), set);
  }

  /** Counts every block's copies on the nodes its placement names (verified there unless --fast). */
  private int copies(io.dynamicfs.cluster.mount.ClusterMounts c) throws FsException {
    io.dynamicfs.cluster.node.CopyCheck.Report r =
        io.dynamicfs.cluster.node.CopyCheck.check(c.replica(), c.nodeDirectory(), c.redundancy(), !fast);
    for (io.dynamicfs.cluster.node.CopyCheck.Problem p : r.problems()) {
      System.out.println(p);
    }
    System.out.printf("fsck copies: %s — %d blocks, %d copies placed, %d intact (%s), %d problems%n",
        r.atRisk() ? "DATA AT RISK" : "clean", r.blocks(), r.copies(), r.intact(), c.redundancy(), r.problems().size());
    unplaced(c);
    return r.atRisk() ? 1 : 0;
  }

  /**
   * Reports copies on the nodes that no block record places there (unreferenced space, not a risk to data:
   * the exit code does not change).
   */
  private static void unplaced(io.dynamicfs.cluster.mount.ClusterMounts c) throws FsException {
    io.dynamicfs.cluster.node.UnplacedCopies.Report u =
        io.dynamicfs.cluster.node.UnplacedCopies.count(c.replica(), c.nodeDirectory(), c.redundancy());
    if (!u.counted()) {
      System.out.println("fsck unplaced copies: not counted for " + c.redundancy() + " (shard keys are not indexed)");
      return;
    }
    StringBuilder per = new StringBuilder();
    for (io.dynamicfs.cluster.node.UnplacedCopies.NodeCount n : u.byNode()) {
      per.append(per.length() == 0 ? " (" : ", ").append(n.nodeId()).append(' ').append(n.copies());
    }
    if (per.length() > 0) {
      per.append(')');
    }
    System.out.printf("fsck unplaced copies: %d, %d bytes%s%s%n", u.copies(), u.bytes(), per,
        u.copies() == 0 ? "" : " — held by nodes but placed there by no block record (a write whose commit never "
            + "came, a lost repair race, or a write in progress); not reclaimed automatically yet");
    for (String n : u.unreachable()) {
      System.out.println("fsck unplaced copies: node " + n + " could not list its copies");
    }
  }

  private static int report(Fsck.Report r) {
    for (Fsck.Problem p : r.problems()) {
      System.out.println(p);
    }
    boolean clean = r.clean();
    System.out.printf("fsck: %s — %d inodes (%d directories), %d blocks, %d bytes verified, %d errors, %d warnings%n",
        clean ? "clean" : "ERRORS FOUND", r.inodes(), r.directories(), r.blocks(), r.bytesVerified(),
        r.errors(), r.problems().size() - r.errors());
    return clean ? 0 : 1;
  }
}
