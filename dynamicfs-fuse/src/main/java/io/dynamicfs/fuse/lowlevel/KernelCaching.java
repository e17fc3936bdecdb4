package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.fuse.FusePreset;

/**
 * What the adapter tells the kernel it may cache: the preset's values, with the timeouts overridable by
 * the system properties {@code dfs.fuse.lowlevel.attrTimeout}, {@code entryTimeout} and
 * {@code negativeTimeout} (seconds), the writeback cache by {@code dfs.fuse.lowlevel.writebackCache}
 * (true/false).
 */
record KernelCaching(double attrTimeout, double entryTimeout, double negativeTimeout,
    FusePreset.KeepCache keepCache, boolean autoInvalData, boolean writebackCache) {

  /**
   * {@code soleWriter}: the engine is the data's only writer and reports the changes no request made, so
   * {@link FusePreset#BALANCED} keeps attributes and names {@link FusePreset#SOLE_WRITER_TIMEOUT} seconds.
   */
  static KernelCaching of(FusePreset p, boolean soleWriter) {
    String wb = System.getProperty("dfs.fuse.lowlevel.writebackCache");
    boolean longer = soleWriter && p == FusePreset.BALANCED;
    double attr = longer ? FusePreset.SOLE_WRITER_TIMEOUT : p.attrTimeout();
    double entry = longer ? FusePreset.SOLE_WRITER_TIMEOUT : p.entryTimeout();
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
