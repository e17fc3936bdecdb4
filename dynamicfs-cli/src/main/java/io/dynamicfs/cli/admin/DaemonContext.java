package io.dynamicfs.cli.admin;

import io.dynamicfs.cli.metrics.EngineMetrics;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the admin endpoints can see of a running mount: the engine, DATA, the mount point, when it
 * started, the version, the effective configuration (as it should be shown: option name → value) and the
 * meters.
 */
public record DaemonContext(DynamicFileSystem fs, Path dataRoot, String uuid, Path mountPoint, long startedMillis,
    String version, Map<String, Object> config, MeterRegistry registry, EngineMetrics engineMetrics) {}
