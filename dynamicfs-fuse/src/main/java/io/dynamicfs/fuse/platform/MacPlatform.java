package io.dynamicfs.fuse.platform;

import io.dynamicfs.fuse.MountOptions;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * macOS with macFUSE, whose libfuse 2 API has both the path and the low-level interface. Differences
 * from Linux: no {@code subtype}, {@code big_writes} or {@code max_readahead} (Linux-only); a volume name
 * for Finder ({@code volname}); {@code noappledouble} so Finder does not litter {@code ._*} files. Names:
 * macOS hands some names decomposed (NFD), so two names are the same file when their NFC forms are equal.
 * Not run yet: written from macFUSE's mount option documentation.
 */
final class MacPlatform extends PosixPlatform {
  /** Linux-only options that macFUSE refuses, dropped from user extras. */
  private static final Set<String> LINUX_ONLY = Set.of("big_writes", "nonempty", "auto_unmount");
  private static final List<String> LINUX_ONLY_PREFIX = List.of("max_readahead=", "subtype=");

  @Override
  public String name() {
    return "macos";
  }

  @Override
  public List<String> pathApiArguments(MountOptions options) {
    List<String> o = common(options);
    o.add("use_ino");
    o.add("auto_cache");
    o.add("attr_timeout=" + options.attrTimeout());
    o.add("entry_timeout=" + options.entryTimeout());
    o.add("negative_timeout=0");
    o.addAll(extras(options));
    return List.of("-o", String.join(",", o));
  }

  @Override
  public boolean hasLowLevelApi() {
    return true;
  }

  @Override
  public List<String> lowLevelOptions(MountOptions options) {
    List<String> o = common(options);
    if (options.debug()) {
      o.add("debug");
    }
    o.addAll(extras(options));
    return o;
  }

  private static List<String> common(MountOptions options) {
    List<String> o = new ArrayList<>();
    o.add("fsname=" + LinuxPlatform.escapeComma(options.fsName()));
    o.add("volname=DynamicFS");
    o.add("default_permissions");
    if (options.allowOther()) {
      o.add("allow_other");
    }
    o.add("noappledouble");
    o.add("iosize=" + options.maxWrite());
    return o;
  }

  private static List<String> extras(MountOptions options) {
    List<String> o = new ArrayList<>();
    for (String e : options.extra()) {
      for (String one : e.split(",")) {
        if (!one.isEmpty() && !LINUX_ONLY.contains(one) && LINUX_ONLY_PREFIX.stream().noneMatch(one::startsWith)) {
          o.add(one);
        }
      }
    }
    return o;
  }

  @Override
  public String nameKey(String name) {
    return Normalizer.normalize(name, Normalizer.Form.NFC);
  }
}
