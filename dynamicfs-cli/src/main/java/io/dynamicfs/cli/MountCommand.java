package io.dynamicfs.cli;

import io.dynamicfs.cache.Admission;
import io.dynamicfs.cache.CacheStack;
import io.dynamicfs.cli.admin.AdminEndpoints;
import io.dynamicfs.cli.admin.AdminRoutes;
import io.dynamicfs.cli.admin.AdminServer;
import io.dynamicfs.cli.admin.DaemonContext;
import io.dynamicfs.cli.metrics.DaemonMetrics;
import io.dynamicfs.cli.metrics.EngineMetrics;
import io.dynamicfs.cli.metrics.StorageMetrics;
import io.dynamicfs.cli.metrics.MeteredFileSystem;
import io.dynamicfs.cli.metrics.PolicyMetrics;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.storage.SlowTierStore;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.fuse.FuseMount;
import io.dynamicfs.fuse.FusePreset;
import io.dynamicfs.fuse.KernelInvalidations;
import io.dynamicfs.fuse.MountOptions;
import io.dynamicfs.policy.mount.MountPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dynamicfs mount DATA MNT}: formats an empty DATA on first use and mounts it at MNT;
 * {@code dynamicfs mount --cluster HOST:PORT[,…] MNT} mounts a cluster.
 */
@Command(name = "mount", mixinStandardHelpOptions = true,
    description = {"Mount the DynamicFS in DATA at MNT (formatting DATA if it is empty), or with --cluster",
        "HOST:PORT[,HOST:PORT...] MNT the cluster those nodes belong to (needs its token: --token-file).",
        "Runs in the background once mounted unless --foreground is given. SIGTERM or 'dynamicfs umount MNT'",
        "flushes everything and unmounts cleanly."})
final class MountCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DATA", description = "Directory holding the filesystem's data.")
  Path data;

  @Parameters(index = "1", arity = "0..1", paramLabel = "MNT", description = "Empty directory to mount on.")
  Path mountPoint;

  @Option(names = "--cluster", paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Mount a cluster through these nodes (any of them; then only MNT is given).")
  String cluster;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "The cluster's token, for --cluster (default $DYNAMICFS_TOKEN_FILE).")
  Path tokenFile;

  @Option(names = "--client-address", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "An address of this machine the cluster's nodes can reach, for --cluster: the mount keeps a "
          + "local metadata replica that the leader sends to (default ${DEFAULT-VALUE}).")
  String clientAddress;

  @Option(names = "--async-metadata", paramLabel = "on/off", defaultValue = "on",
      description = "For --cluster: answer creates, unlinks and changes to this mount's new files without waiting "
          + "for their Raft round, in directories the mount leases; fsync and unmount wait for them (default "
          + "${DEFAULT-VALUE}). See docs/cluster-async-metadata.md.")
  String asyncMetadata;

  @Option(names = "--block-tls",
      description = "For --cluster: encrypt block traffic to the nodes (mutual TLS 1.3 under the cluster's key; "
          + "needed when the nodes run with --block-tls). Costs CPU on every block read and written.")
  boolean blockTls;

  @Option(names = {"-f", "--foreground"}, description = "Stay attached; log to stderr as well.")
  boolean foreground;

  @Option(names = "--block-size", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "1M",
      description = "Block size when formatting a new DATA (64K-16M, power of two; default ${DEFAULT-VALUE}).")
  long blockSize;

  @Option(names = "--compression", paramLabel = "CODEC", defaultValue = "lz4",
      description = "Compression when formatting a new DATA: lz4, zstd or none (default ${DEFAULT-VALUE}).")
  String compression;

  @Option(names = "--cache-memory", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "256M",
      description = "Memory for decompressed blocks (default ${DEFAULT-VALUE}).")
  long cacheMemory;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "Directory (ideally on a fast disk) for the persistent block cache (L2); off when absent.")
  Path cacheDir;

  @Option(names = "--cache-size", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "10G",
      description = "Most bytes the --cache-dir cache may take (default ${DEFAULT-VALUE}).")
  long cacheSize;

  @Option(names = "--cache-admission", paramLabel = "POLICY", defaultValue = "always",
      description = "Which blocks read from the store enter the disk cache: always, hot-only (on their second"
          + " read) or sampled (1 in 8 reads) (default ${DEFAULT-VALUE}).")
  String cacheAdmission;

  @Option(names = "--intent-log-size", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "256M",
      description = {"Most bytes the write intent log (DATA/intent) holds before fsync folds it: an fsync of small"
          + " changes logs just the changed bytes there instead of rewriting whole blocks (default ${DEFAULT-VALUE};"
          + " at least 4M, or 0 for off). Single-node mounts only; see docs/storage.md."})
  long intentLogSize;

  @Option(names = "--fuse-preset", paramLabel = "PRESET", defaultValue = "balanced",
      description = "Kernel caching and mount options: balanced, high-performance or safe (default"
          + " ${DEFAULT-VALUE}; see docs/fuse-presets.md).")
  String fusePreset;

  @Option(names = "--config", paramLabel = "FILE",
      description = {"Storage layout (YAML): tiers of device directories with their redundancy, and scrub settings.",
          "Recorded when DATA is formatted; later mounts may repeat it but not change the tiers. See docs/storage.md."})
  Path config;

  @Option(names = "--tier", paramLabel = "NAME:REDUNDANCY:DIR[,DIR...]",
      description = {"A storage tier when formatting (repeat for more, first = where new data lands), e.g.",
          "--tier fast:replicate-2:/nvme0/dfs,/nvme1/dfs --tier slow:rs-4-2:/hdd0/dfs,...,/hdd5/dfs.",
          "Default: one tier on DATA/blocks with one copy."})
  List<String> tiers = new ArrayList<>();

  @Option(names = {"-o", "--fuse-option"}, paramLabel = "OPT", split = ",",
      description = "Extra libfuse mount option(s), comma-separated.")
  List<String> fuseOptions = new ArrayList<>();

  @Option(names = "--debug-slow-tier", paramLabel = "NAME:LATENCY[:IOPS]",
      description = {"Debugging and tests: make the engine's reads from tier NAME wait LATENCY (us, ms or s) each,",
          "at most IOPS of them starting per second, e.g. slow:5ms:200 (a slow disk where there is one disk;",
          "see docs/policy.md). Cache hits, writes and moves are not slowed."})
  String debugSlowTier;

  @Option(names = "--debug-fuse", description = "Print every FUSE request (libfuse -d).")
  boolean debugFuse;

  @Mixin
  OperationsOptions ops = new OperationsOptions();

  @Mixin
  PolicyOptions policy = new PolicyOptions();

  @Option(names = "--ready-file", hidden = true, description = "Where a background child reports readiness.")
  Path readyFile;

  @Override
  public Integer call() throws Exception {
    if (cluster != null) {
      if (mountPoint != null) {
        return fail("with --cluster give only MNT (the cluster holds the data), not DATA MNT");
      }
      mountPoint = data;
      data = null;
    } else if (mountPoint == null) {
      return fail("give DATA and MNT (or --cluster HOST:PORT MNT)");
    }
    FormatOptions format;
    try {
      format = new FormatOptions(Math.toIntExact(blockSize), Codec.parse(compression),
          FormatOptions.DEFAULT.inlineMax());
    } catch (IllegalArgumentException | ArithmeticException e) {
      return fail(e.getMessage());
    }
    if (cacheMemory < (1 << 20)) {
      return fail("--cache-memory must be at least 1M");
    }
    try {
      Admission.parse(cacheAdmission);
      FusePreset.parse(fusePreset);
    } catch (IllegalArgumentException e) {
      return fail(e.getMessage());
    }
    if (cacheDir != null) {
      String bad = checkCacheDir();
      if (bad != null) {
        return fail(bad);
      }
    }
    if (debugSlowTier != null) {
      try {
        SlowTierStore.Spec.parse(debugSlowTier);
      } catch (FsException e) {
        return fail("--debug-slow-tier: " + plain(e));
      }
    }
    String badPolicy = policy.check();
    if (badPolicy != null) {
      return fail(badPolicy);
    }
    try {
      layout = requestedLayout();
    } catch (FsException e) {
      return fail(plain(e));
    }
    if (!asyncMetadata.equals("on") && !asyncMetadata.equals("off")) {
      return fail("--async-metadata must be on or off, not '" + asyncMetadata + "'");
    }
    if (blockTls && cluster == null) {
      return fail("--block-tls is for a --cluster mount");
    }
    if (cluster != null) {
      try {
        clusterPeers();
        TokenFiles.resolve(tokenFile);
      } catch (FsException e) {
        return fail(plain(e));
      }
    }
    if (!foreground) {
      return new Daemonizer(this).start();
    }
    return cluster != null ? new ClusterMountRunner(this).run() : runForeground(format);
  }

  /** Why --cache-dir/--cache-size cannot be used, or null. */
  private String checkCacheDir() {
    if (cacheSize < (16 << 20)) {
      return "--cache-size must be at least 16M";
    }
    Path cd = cacheDir.toAbsolutePath().normalize();
    Path mp = mountPoint.toAbsolutePath().normalize();
    if (cd.startsWith(mp)) {
      return "--cache-dir " + cd + " must not be inside the mount point";
    }
    if (Files.exists(cd) && !Files.isDirectory(cd)) {
      return "--cache-dir " + cd + " is not a directory";
    }
    return null;
  }

  private StorageLayout layout;

  /** The layout from --config or --tier, or null for "as recorded" (the default on a new DATA). */
  private StorageLayout requestedLayout() throws FsException {
    if (config != null && !tiers.isEmpty()) {
      throw FsException.of(io.dynamicfs.core.api.Errno.EINVAL, "give either --config or --tier, not both");
    }
    if (config != null) {
      return StorageLayout.read(config);
    }
    return tiers.isEmpty() ? null : StorageLayout.fromOptions(tiers);
  }

  int fail(String message) {
    System.err.println("dynamicfs: " + message);
    report("error: " + message);
    return Main.EXIT_USAGE;
  }

  void report(String line) {
    if (readyFile != null) {
      try {
        Files.writeString(readyFile, line + "\n", StandardCharsets.UTF_8);
      } catch (IOException e) {
        System.err.println("dynamicfs: cannot write " + readyFile + ": " + e.getMessage());
      }
    }
  }

  private int runForeground(FormatOptions format) {
    DataDirectory dir;
    try {
      checkMountPoint();
      dir = DataDirectory.open(data, format, layout);
    } catch (FsException e) {
      return fail(plain(e));
    }
    // Attached (a terminal or an init system, not a background child): stderr gets every line too.
    Logging.configureDaemon(dir.logDir(), ops, readyFile);
    Logger log = LoggerFactory.getLogger(MountCommand.class);
    long started = System.currentTimeMillis();
    DaemonMetrics metrics = new DaemonMetrics();
    PolicyOptions.Opened policyParts;
    try {
      policyParts = policy.open(dir.root().resolve("policy"), dir.format().blockSize(),
          dir.layout().tiers().stream().map(io.dynamicfs.core.storage.TierSpec::name).toList(), log);
    } catch (IllegalArgumentException e) {
      closeQuietly(dir);
      return fail(e.getMessage());
    }
    DynamicFileSystem fs;
    // This engine is the data's only writer: the kernel may cache long and hears of changes no request made.
    KernelInvalidations kernelInvalidations = KernelInvalidations.singleNode();
    try {
      CacheStack.Builder caches = CacheStack.builder(metrics.registry()).memory(cacheMemory);
      if (cacheDir != null) {
        caches.disk(cacheDir, cacheSize, Admission.parse(cacheAdmission));
      }
      UnaryOperator<BlockStore> decorator = caches.build();
      if (debugSlowTier != null) { // below the caches: a cache hit stays fast
        SlowTierStore.Spec slow = SlowTierStore.Spec.parse(debugSlowTier);
        UnaryOperator<BlockStore> cachesOnly = decorator;
        decorator = store -> cachesOnly.apply(SlowTierStore.wrap(store, slow));
        log.atWarn().addKeyValue("tier", slow.tier()).addKeyValue("latency_us", slow.latencyNanos() / 1000)
            .addKeyValue("iops", slow.iops()).log("debug: reads from this tier are slowed down (--debug-slow-tier)");
      }
      EngineOptions options = EngineOptions.defaults().withStoreDecorator(decorator)
          .withAccessObserver(policyParts.observer()).withIntentLogBytes(intentLogSize)
          .withApplyListener(kernelInvalidations);
      fs = DynamicFileSystem.open(dir, options);
    } catch (IOException | RuntimeException e) {
      closeQuietly(policyParts.tracker());
      closeQuietly(dir);
      return fail(plain(e instanceof UncheckedIOException u ? u.getCause() : e));
    }
    EngineMetrics engineMetrics = new EngineMetrics(fs, 30_000);
    engineMetrics.bindTo(metrics.registry());
    new StorageMetrics(fs.storage()).bindTo(metrics.registry());
    MeteredFileSystem metered = new MeteredFileSystem(fs, metrics.registry());
    MountPolicy mountPolicy = policyParts.reloadable(new MountPolicy(fs, policyParts.tracker(), policyParts.off(),
        policyParts.rules(), System::currentTimeMillis));
    mountPolicy.cacheToWarm(cacheDir != null ? cacheSize : cacheMemory);
    AdminServer admin; // before the mount: a busy admin port must not leave a mount behind
    try {
      mountPolicy.enableExecution(dir.root().resolve("policy"), metered, policy.autoInterval());
      new PolicyMetrics(mountPolicy, fs.storage()).bindTo(metrics.registry());
      DaemonContext ctx = new DaemonContext(fs, dir.root(), dir.uuid(), mountPoint.toAbsolutePath().normalize(), started,
          VersionProvider.version(), effectiveConfig(), metrics.registry(), engineMetrics, null, mountPolicy);
      admin = AdminServer.start(ops.adminAddress, dir.root().resolve("run"),
          AdminEndpoints.register(new AdminRoutes(), ctx), metrics::scrape, VersionProvider.version());
    } catch (IOException | RuntimeException e) {
      closeQuietly(mountPolicy);
      closeQuietly(fs);
      closeQuietly(policyParts.tracker());
      closeQuietly(dir);
      return fail(plain(e));
    }
    DaemonWarmup.run(DaemonWarmup::metered); // the data opened and the admin port taken: only serving is left
    FuseMount mount;
    try {
      MountOptions mo = MountOptions.defaults("dynamicfs:" + dir.root()).withExtra(fuseOptions)
          .withPreset(FusePreset.parse(fusePreset)).withDebug(debugFuse).withInvalidations(kernelInvalidations);
      mount = FuseMount.mount(metered, mountPoint, mo);
    } catch (IOException | RuntimeException | LinkageError e) {
      admin.close();
      closeQuietly(mountPolicy);
      closeQuietly(fs);
      closeQuietly(policyParts.tracker());
      closeQuietly(dir);
      String why = e instanceof LinkageError || String.valueOf(e.getMessage()).contains("libfuse")
          ? "libfuse is not installed (Debian/Ubuntu: sudo apt-get install fuse3 libfuse3-3 libfuse2)"
          : plain(e);
      return fail(why);
    }
    Shutdown shutdown = new Shutdown(admin, metrics, mount, mountPolicy, fs, policyParts.tracker(), dir, log);
    Runtime.getRuntime().addShutdownHook(new Thread(shutdown::run, "dfs-shutdown"));
    log.atInfo().addKeyValue("op", "mount").addKeyValue("data", dir.root().toString())
        .addKeyValue("path", mount.mountPoint().toString()).addKeyValue("pid", ProcessHandle.current().pid())
        .addKeyValue("admin_port", admin.port()).log("dynamicfs mounted");
    report("ok " + ProcessHandle.current().pid());
    try {
      mount.awaitUnmount();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    shutdown.run();
    return shutdown.failed() ? 1 : 0;
  }

  void checkMountPoint() throws FsException {
    Path mp = mountPoint.toAbsolutePath().normalize();
    if (FuseMount.isMounted(mp)) {
      throw FsException.of(io.dynamicfs.core.api.Errno.EBUSY, "%s is already a mount point; unmount it first",
          mp);
    }
    if (!Files.isDirectory(mp)) {
      throw FsException.of(io.dynamicfs.core.api.Errno.ENOENT, "mount point %s does not exist or is not a directory",
          mp);
    }
    try (var s = Files.list(mp)) {
      if (s.findAny().isPresent()) {
        throw FsException.of(io.dynamicfs.core.api.Errno.ENOTEMPTY, "mount point %s is not empty", mp);
      }
    } catch (FsException e) {
      throw e;
    } catch (IOException e) {
      throw FsException.of(io.dynamicfs.core.api.Errno.EACCES, "cannot read mount point %s", mp);
    }
  }

  /** A message without the errno prefix the engine puts in front. */
  static String plain(Throwable e) {
    return e instanceof FsException fe ? fe.detail() : String.valueOf(e.getMessage());
  }

  static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      System.err.println("dynamicfs: while cleaning up: " + e.getMessage());
    }
  }

  /** The configuration as {@code dynamicfs status} shows it. */
  java.util.Map<String, Object> effectiveConfig() {
    java.util.Map<String, Object> c = new java.util.LinkedHashMap<>();
    c.put("cache_memory", cacheMemory);
    c.put("fuse_options", fuseOptions);
    c.put("fuse_api", System.getProperty("dfs.fuse.api", "lowlevel"));
    if (debugSlowTier != null) {
      c.put("debug_slow_tier", debugSlowTier);
    }
    if (data != null) {
      c.put("log_file", data.toAbsolutePath().resolve("logs/dynamicfs.log").toString());
    } else {
      c.put("cluster", cluster);
      c.put("async_metadata", asyncMetadata);
      c.put("block_tls", blockTls);
    }
    c.put("log_format", ops.fileFormat().name().toLowerCase(java.util.Locale.ROOT));
    c.put("log_level", ops.logLevel.toString().toLowerCase(java.util.Locale.ROOT));
    c.put("admin_address", ops.adminAddress.toString());
    policy.putConfig(c);
    return c;
  }

  /**
   * Stop the admin server, unmount, close the engine, save the access statistics, release DATA: once,
   * whoever asks first (main or SIGTERM).
   */
  static final class Shutdown {
    private final AdminServer admin;
    private final DaemonMetrics metrics;
    private final FuseMount mount;
    /** The policy engine: its executor stops (between batches of a move) before the engine closes. */
    private final AutoCloseable policy;
    private final DynamicFileSystem fs;
    /** The access tracker, or null: closed after the engine, so the last reads are in what it saves. */
    private final AutoCloseable tracker;
    private final AutoCloseable dir;
    private final Logger log;
    private boolean done;
    private boolean failed;

    Shutdown(AdminServer admin, DaemonMetrics metrics, FuseMount mount, AutoCloseable policy, DynamicFileSystem fs,
        AutoCloseable tracker, AutoCloseable dir, Logger log) {
      this.admin = admin;
      this.policy = policy;
      this.metrics = metrics;
      this.mount = mount;
      this.fs = fs;
      this.tracker = tracker;
      this.dir = dir;
      this.log = log;
    }

    synchronized void run() {
      if (done) {
        return;
      }
      done = true;
      admin.close(); // first: nothing may read the engine's gauges once it closes
      try {
        policy.close();
      } catch (Exception e) {
        failed = true;
        log.atError().addKeyValue("op", "unmount").addKeyValue("error", e.getMessage())
            .log("stopping the policy executor failed");
      }
      try {
        mount.close();
      } catch (IOException | RuntimeException e) {
        failed = true;
        log.atError().addKeyValue("op", "unmount").addKeyValue("error", e.getMessage()).log("unmount failed");
      }
      try {
        fs.close();
      } catch (IOException | RuntimeException e) {
        failed = true;
        log.atError().addKeyValue("op", "unmount").addKeyValue("error", e.getMessage())
            .log("closing the filesystem failed");
      }
      if (tracker != null) {
        try {
          tracker.close();
        } catch (Exception e) { // statistics: logged, never a failed unmount
          log.atWarn().addKeyValue("op", "unmount").addKeyValue("error", e.getMessage())
              .log("saving the access statistics failed");
        }
      }
      try {
        dir.close();
      } catch (Exception e) {
        log.atWarn().addKeyValue("op", "unmount").addKeyValue("error", e.getMessage())
            .log("releasing the data directory lock failed");
      }
      metrics.close();
      log.atInfo().addKeyValue("op", "unmount").addKeyValue("clean", !failed).log("dynamicfs stopped");
    }

    synchronized boolean failed() {
      return failed;
    }
  }

  /** The peers of --cluster. */
  List<io.dynamicfs.cluster.node.Endpoint> clusterPeers() throws FsException {
    List<io.dynamicfs.cluster.node.Endpoint> out = new ArrayList<>();
    for (String p : cluster.split(",")) {
      out.add(io.dynamicfs.cluster.node.Endpoint.parse("--cluster", p.trim()));
    }
    return out;
  }

  /** The arguments to hand a background child: everything but the background itself. */
  List<String> childArguments(Path ready) {
    List<String> a = new ArrayList<>();
    if (cluster != null) {
      a.addAll(List.of("mount", "--cluster", cluster, "--client-address", clientAddress, "--token-file",
          uncheckedToken().toAbsolutePath().toString(), "--async-metadata", asyncMetadata,
          mountPoint.toAbsolutePath().toString()));
      if (blockTls) {
        a.add("--block-tls");
      }
    } else {
      a.addAll(List.of("mount", data.toAbsolutePath().toString(), mountPoint.toAbsolutePath().toString()));
    }
    a.addAll(Arrays.asList("--foreground", "--ready-file", ready.toString(),
        "--block-size", Long.toString(blockSize), "--compression", compression,
        "--cache-memory", Long.toString(cacheMemory), "--fuse-preset", fusePreset));
    if (cacheDir != null) {
      a.addAll(List.of("--cache-dir", cacheDir.toAbsolutePath().toString(), "--cache-size", Long.toString(cacheSize),
          "--cache-admission", cacheAdmission));
    }
    if (config != null) {
      a.add("--config");
      a.add(config.toAbsolutePath().toString());
    }
    for (String t : tiers) {
      a.add("--tier");
      a.add(t);
    }
    if (!fuseOptions.isEmpty()) {
      a.add("-o");
      a.add(String.join(",", fuseOptions));
    }
    if (debugFuse) {
      a.add("--debug-fuse");
    }
    if (debugSlowTier != null) {
      a.add("--debug-slow-tier");
      a.add(debugSlowTier);
    }
    a.addAll(ops.childArguments());
    a.addAll(policy.childArguments());
    return a;
  }

  long cacheMemory() {
    return cacheMemory;
  }

  private Path uncheckedToken() {
    try {
      return TokenFiles.resolve(tokenFile);
    } catch (FsException e) {
      throw new IllegalStateException(e); // checked in call() before a child is started
    }
  }

  /**
   * JVM options of the mount daemon. The heap is committed and touched up front: growing it lazily
   * page-faults fresh memory under every new 1 MiB block buffer, which measured 2-3x slower cold reads
   * right after mounting. 8 MiB regions keep 1 MiB block arrays out of G1's humongous path.
   */
  static List<String> daemonJvmOptions(long cacheBytes) {
    long heapMiB = cacheBytes / (1 << 20) + 512;
    return List.of("-Xms" + heapMiB + "m", "-Xmx" + heapMiB + "m", "-XX:+AlwaysPreTouch", "-XX:+UseG1GC",
        "-XX:G1HeapRegionSize=8m", Daemonizer.JIT, Daemonizer.ON_OOM);
  }
}
