package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Inode number → a path that reaches it (through the first directory entry naming it), built by one scan
 * of the directory entries. For reports (fsck, scrub, unreadable blocks), where naming the file matters
 * more than the cost of the scan.
 */
public final class PathIndex {
  private final Map<Long, Long> parentOf = new HashMap<>();
  private final Map<Long, String> nameOf = new HashMap<>();

  /** Records one entry; the first entry naming a child wins. */
  public void add(long parent, String name, long child) {
    parentOf.putIfAbsent(child, parent);
    nameOf.putIfAbsent(child, name);
  }

  public static PathIndex scan(MetadataStore meta) throws FsException {
    PathIndex p = new PathIndex();
    meta.forEachDirent(p::add);
    return p;
  }

  /** The first parent recorded for {@code ino}, or null. */
  public Long parentOf(long ino) {
    return parentOf.get(ino);
  }

  /** The path of an inode, or "inode N" when no entry reaches it. */
  public String pathOf(long ino) {
    if (ino == FileSystem.ROOT_INO) {
      return "/";
    }
    List<String> parts = new ArrayList<>();
    long cur = ino;
    for (int depth = 0; depth < 4096 && cur != FileSystem.ROOT_INO; depth++) {
      String n = nameOf.get(cur);
      Long p = parentOf.get(cur);
      if (n == null || p == null) {
        return "inode " + ino;
      }
      parts.add(n);
      cur = p;
    }
    if (cur != FileSystem.ROOT_INO) {
      return "inode " + ino;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = parts.size() - 1; i >= 0; i--) {
      sb.append('/').append(parts.get(i));
    }
    return sb.toString();
  }
}
