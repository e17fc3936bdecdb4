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

  static KernelCaching of(FusePreset p) {
    String wb = System.getProperty("dfs.fuse.lowlevel.writebackCache");
    return new KernelCaching(
        seconds("dfs.fuse.lowlevel.attrTimeout", p.attrTimeout()),
        seconds("dfs.fuse.lowlevel.entryTimeout", p.entryTimeout()),
        seconds("dfs.fuse.lowlevel.negativeTimeout", p.negativeTimeout()),
        p.keepCache(), p.autoInvalData(), wb == null ? p.writebackCache() : Boolean.parseBoolean(wb));
  }

  private static double seconds(String property, double preset) {
    String v = System.getProperty(property);
    return v == null ? preset : Double.parseDouble(v);
  }
}
