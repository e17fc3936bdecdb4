package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.fuse.FusePreset;
import io.dynamicfs.fuse.KernelInvalidations;

/**
 * What the adapter tells the kernel it may cache: the preset's values, with the timeouts overridable by
 * the system properties {@code dfs.fuse.lowlevel.attrTimeout}, {@code entryTimeout} and
 * {@code negativeTimeout} (seconds), the writeback cache by {@code dfs.fuse.lowlevel.writebackCache}
 * (true/false).
 */
record KernelCaching(double attrTimeout, double entryTimeout, double negativeTimeout,
    FusePreset.KeepCache keepCache, boolean autoInvalData, boolean writebackCache) {

  /**
   * {@code told}: the kernel hears of the changes it did not make (null: it does not). Then
   * {@link FusePreset#BALANCED} keeps names {@link FusePreset#LONG_TIMEOUT} seconds, and attributes too when
   * the source is a single node's engine.
   */
  static KernelCaching of(FusePreset p, KernelInvalidations told) {
    String wb = System.getProperty("dfs.fuse.lowlevel.writebackCache");
    boolean longer = told != null && p == FusePreset.BALANCED;
    double attr = longer && told.singleNodeSource() ? FusePreset.LONG_TIMEOUT : p.attrTimeout();
    double entry = longer ? FusePreset.LONG_TIMEOUT : p.entryTimeout();
    return new KernelCaching(
        seconds("dfs.fuse.lowlevel.attrTimeout", attr),
        seconds("dfs.fuse.lowlevel.entryTimeout", entry),
        seconds("dfs.fuse.lowlevel.negativeTimeout", p.negativeTimeout()),
        p.keepCache(), p.autoInvalData(), wb == null ? p.writebackCache() : Boolean.parseBoolean(wb));
  }

  private static double seconds(String property, double preset) {
    String v = System.getProperty(property);
    return v == null ? preset : Double.parseDouble(v);
  }
}
