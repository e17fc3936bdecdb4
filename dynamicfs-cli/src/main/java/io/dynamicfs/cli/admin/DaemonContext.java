package io.dynamicfs.cli.admin;

import io.dynamicfs.cli.metrics.EngineMetrics;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.policy.mount.MountPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the admin endpoints can see of a running mount: the engine, DATA, the mount point, when it
 * started, the version, the effective configuration (as it should be shown: option name → value), the
 * meters, on a cluster mount the cluster's side (null on a single node), and the policy engine.
 */
public record DaemonContext(DynamicFileSystem fs, Path dataRoot, String uuid, Path mountPoint, long startedMillis,
    String version, Map<String, Object> config, MeterRegistry registry, EngineMetrics engineMetrics,
    ClusterSide cluster, MountPolicy policy) {

  /** What a cluster mount adds to its admin API; the cli's cluster wiring implements it. */
  public interface ClusterSide {
    /** Leader, term, commit index, this mount's replica and its lag, and the nodes (for status). */
    Map<String, Object> status() throws java.io.IOException;

    /** gc: the leader's count of blocks pending deletion and, with {@code apply}, what it reclaimed. */
    Map<String, Object> gc(boolean apply) throws java.io.IOException;

    /** scrub: every node verifies its copies or shards; with {@code repair}, bad and missing ones are rebuilt. */
    Map<String, Object> scrub(boolean repair, long bytesPerSecond) throws java.io.IOException;
  }
}
