package io.dynamicfs.fuse.platform;

import io.dynamicfs.fuse.MountOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux with libfuse 2.9: the options DynamicFS has always mounted with (see {@link MountOptions} for why
 * each), names are case-sensitive byte strings, permissions are the POSIX mode itself.
 */
final class LinuxPlatform extends PosixPlatform {
  private static final Logger log = LoggerFactory.getLogger(LinuxPlatform.class);
  /** Options only the path-based API (fuse.c) understands; fuse_lowlevel_new would reject them. */
  private static final Set<String> HIGH_LEVEL_ONLY = Set.of("use_ino", "readdir_ino", "auto_cache",
      "noauto_cache", "hard_remove", "kernel_cache", "direct_io", "intr", "nopath", "auto_unmount");
  private static final List<String> HIGH_LEVEL_ONLY_PREFIX = List.of("attr_timeout=", "entry_timeout=",
      "negative_timeout=", "ac_attr_timeout=", "umask=", "uid=", "gid=", "intr_signal=", "modules=");
  /** The kernel's read-ahead limit DynamicFS asks for (FUSE defaults to 128 KiB). */
  private static final int MAX_READAHEAD = 1 << 20;

  @Override
  public String name() {
    return "linux";
  }

  @Override
  public List<String> pathApiArguments(MountOptions options) {
    List<String> o = new ArrayList<>();
    o.add("fsname=" + escapeComma(options.fsName()));
    o.add("subtype=dynamicfs");
    o.add("use_ino");
    o.add("big_writes");
    o.add("max_write=" + options.maxWrite());
    o.add("max_read=" + options.maxWrite());
    o.add("max_readahead=" + MAX_READAHEAD);
    o.add("default_permissions");
    o.add("auto_cache");
    o.add("attr_timeout=" + options.attrTimeout());
    o.add("entry_timeout=" + options.entryTimeout());
    o.add("negative_timeout=0");
    if (options.allowOther()) {
      o.add("allow_other");
    }
    o.addAll(options.extra());
    return List.of("-o", String.join(",", o));
  }

  @Override
  public boolean hasLowLevelApi() {
    return true;
  }

  @Override
  public List<String> lowLevelOptions(MountOptions options) {
    List<String> o = new ArrayList<>();
    o.add("fsname=" + escapeComma(options.fsName()));
    o.add("subtype=dynamicfs");
    o.add("default_permissions");
    if (options.allowOther()) {
      o.add("allow_other");
    }
    o.add("big_writes");
    o.add("max_write=" + options.maxWrite());
    o.add("max_read=" + options.maxWrite());
    o.add("max_readahead=" + MAX_READAHEAD);
    if (options.preset().noatime()) {
      o.add("noatime");
    }
    if (options.debug()) {
      o.add("debug");
    }
    for (String e : options.extra()) {
      for (String one : e.split(",")) {
        if (one.isEmpty() || HIGH_LEVEL_ONLY.contains(one)
            || HIGH_LEVEL_ONLY_PREFIX.stream().anyMatch(one::startsWith)) {
          log.debug("ignoring path-API-only fuse option {}", one);
          continue;
        }
        o.add(one);
      }
    }
    return o;
  }

  static String escapeComma(String s) {
    return s.replace(",", "\\,");
  }

  @Override
  public String nameKey(String name) {
    return name;
  }
}
