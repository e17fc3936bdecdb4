package io.dynamicfs.cli;

import io.dynamicfs.cache.Admission;
import io.dynamicfs.cache.CacheStack;
import io.dynamicfs.cli.admin.AdminEndpoints;
import io.dynamicfs.cli.admin.AdminRoutes;
import io.dynamicfs.cli.admin.AdminServer;
import io.dynamicfs.cli.admin.ClusterMountSide;
import io.dynamicfs.cli.admin.DaemonContext;
import io.dynamicfs.cli.metrics.DaemonMetrics;
import io.dynamicfs.cli.metrics.EngineMetrics;
import io.dynamicfs.cli.metrics.MeteredFileSystem;
import io.dynamicfs.cli.metrics.NodeMetrics;
import io.dynamicfs.cli.metrics.PolicyMetrics;
import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.fuse.FuseMount;
import io.dynamicfs.fuse.FusePreset;
import io.dynamicfs.fuse.KernelInvalidations;
import io.dynamicfs.fuse.MountOptions;
import io.dynamicfs.policy.mount.MountPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mount --cluster}: the engine over a cluster connection, behind the same caches, metrics, admin
 * API and FUSE mount as a single node. The mount's own state (logs, the admin address and token) lives in
 * a state directory under {@code /run/dynamicfs} (root) or the temp dir, named by cluster and mount point;
 * the mount's fsname points at it, so {@code status}, {@code stats} and {@code warmup} find the daemon as
 * for a single node.
 */
final class ClusterMountRunner {
  /**
   * Block pipeline threads: each waits for R replicas (or K+M shards) to be made durable on the nodes, a
   * network round and an fsync, far longer than it hashes and compresses; with one thread per core a
   * sequential write kept two blocks in flight and ran at a third of the nodes' speed.
   */
  static final int BLOCK_WRITERS = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
  private final MountCommand cmd;

  ClusterMountRunner(MountCommand cmd) {
    this.cmd = cmd;
  }

  int run() {
    ClusterToken token;
    Path state;
    try {
      cmd.checkMountPoint();
      token = ClusterToken.read(TokenFiles.resolve(cmd.tokenFile));
      state = stateDir(token);
      Files.createDirectories(state.resolve("logs"));
      Files.createDirectories(state.resolve("run"));
    } catch (FsException e) {
      return cmd.fail(MountCommand.plain(e));
    } catch (IOException e) {
      return cmd.fail("cannot create the mount's state directory: " + e.getMessage());
    }
    Logging.configureDaemon(state.resolve("logs"), cmd.ops, cmd.readyFile);
    Logger log = LoggerFactory.getLogger(ClusterMountRunner.class);
    long started = System.currentTimeMillis();
    DaemonMetrics metrics = new DaemonMetrics();
    PolicyOptions.Opened policyParts = null;
    DynamicFileSystem fs;
    ClusterMounts conn;
    KernelInvalidations kernelInvalidations;
    try {
      conn = ClusterMounts.connect(token, cmd.clusterPeers(), cmd.clientAddress, cmd.blockTls);
      kernelInvalidations = KernelInvalidations.replica(conn::session);
      conn.observe(kernelInvalidations); // other mounts' changes, told to this kernel
      conn.endSessionsOfDeadLocalMounts(); // a mount killed here holds leases this one may need
      String client = io.dynamicfs.cluster.mount.LocalSessions.client(cmd.mountPoint);
      io.dynamicfs.core.engine.ClusterMount parts = conn.engineParts(client, Duration.ofSeconds(30),
          cmd.asyncMetadata.equals("on"));
      try {
        // the tracker lives in the mount's state directory; the tiers are the nodes': names not checked here
        policyParts = cmd.policy.open(state.resolve("policy"), parts.format().blockSize(), null, log);
      } catch (IllegalArgumentException e) {
        MountCommand.closeQuietly(conn);
        return cmd.fail(e.getMessage());
      }
      CacheStack.Builder caches = CacheStack.builder(metrics.registry()).memory(cmd.cacheMemory);
      if (cmd.cacheDir != null) {
        caches.disk(cmd.cacheDir, cmd.cacheSize, Admission.parse(cmd.cacheAdmission));
      }
      EngineOptions options = EngineOptions.defaults().withStoreDecorator(caches.build())
          .withAccessObserver(policyParts.observer()).withWorkerThreads(BLOCK_WRITERS);
      fs = DynamicFileSystem.openCluster(parts, options);
    } catch (IOException | RuntimeException e) {
      if (policyParts != null) {
        MountCommand.closeQuietly(policyParts.tracker());
      }
      return cmd.fail(MountCommand.plain(e));
    }
    EngineMetrics engineMetrics = new EngineMetrics(fs, 30_000);
    engineMetrics.bindTo(metrics.registry());
    NodeMetrics.bindReplica(conn.replicaServer(), metrics.registry());
    NodeMetrics.bindJournal(conn, metrics.registry());
    MeteredFileSystem metered = new MeteredFileSystem(fs, metrics.registry());
    MountPolicy mountPolicy = policyParts.reloadable(new MountPolicy(
        fs, policyParts.tracker(), policyParts.off(), policyParts.rules(), System::currentTimeMillis));
    mountPolicy.cacheToWarm(cmd.cacheDir != null ? cmd.cacheSize : cmd.cacheMemory);
    AdminServer admin;
    try {
      // the nodes hold the tiers: on a mount the executor only warms the caches
      mountPolicy.enableExecution(state.resolve("policy"), metered, cmd.policy.autoInterval());
      new PolicyMetrics(mountPolicy, null).bindTo(metrics.registry());
      DaemonContext ctx = new DaemonContext(fs, state, token.clusterId().toString(),
          cmd.mountPoint.toAbsolutePath().normalize(), started, VersionProvider.version(), cmd.effectiveConfig(),
          metrics.registry(), engineMetrics, new ClusterMountSide(conn), mountPolicy);
      admin = AdminServer.start(cmd.ops.adminAddress, state.resolve("run"),
          AdminEndpoints.register(new AdminRoutes(), ctx), metrics::scrape, VersionProvider.version());
    } catch (IOException | RuntimeException e) {
      MountCommand.closeQuietly(mountPolicy);
      MountCommand.closeQuietly(fs);
      MountCommand.closeQuietly(policyParts.tracker());
      return cmd.fail(MountCommand.plain(e));
    }
    // connected, the replica open, the admin port taken: only serving is left
    DaemonWarmup.runCluster(DaemonWarmup::metered, conn, token.credentials(), fs.format().blockSize());
    FuseMount mount;
    try {
      MountOptions mo = MountOptions.defaults("dynamicfs:" + state).withExtra(cmd.fuseOptions)
          .withPreset(FusePreset.parse(cmd.fusePreset)).withDebug(cmd.debugFuse)
          .withInvalidations(kernelInvalidations);
      mount = FuseMount.mount(metered, cmd.mountPoint, mo);
    } catch (IOException | RuntimeException | LinkageError e) {
      admin.close();
      MountCommand.closeQuietly(mountPolicy);
      MountCommand.closeQuietly(fs);
      MountCommand.closeQuietly(policyParts.tracker());
      return cmd.fail(MountCommand.plain(e));
    }
    MountCommand.Shutdown shutdown = new MountCommand.Shutdown(admin, metrics, mount, mountPolicy, fs,
        policyParts.tracker(),
        () -> { }, log);
    Runtime.getRuntime().addShutdownHook(new Thread(shutdown::run, "dfs-shutdown"));
    log.atInfo().addKeyValue("op", "mount").addKeyValue("cluster", token.clusterId().toString())
        .addKeyValue("path", mount.mountPoint().toString()).addKeyValue("pid", ProcessHandle.current().pid())
        .addKeyValue("admin_port", admin.port()).log("dynamicfs cluster mounted");
    cmd.report("ok " + ProcessHandle.current().pid());
    try {
      mount.awaitUnmount();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    shutdown.run();
    return shutdown.failed() ? 1 : 0;
  }

  /** Where this mount keeps its logs and admin files. */
  private Path stateDir(ClusterToken token) {
    Path base = Files.isDirectory(Path.of("/run")) && "root".equals(System.getProperty("user.name"))
        ? Path.of("/run/dynamicfs") : Path.of(System.getProperty("java.io.tmpdir"), "dynamicfs-" + System.getProperty("user.name"));
    String mnt = cmd.mountPoint.toAbsolutePath().normalize().toString();
    return base.resolve(token.clusterId() + "-" + Integer.toHexString(mnt.hashCode()));
  }
}
