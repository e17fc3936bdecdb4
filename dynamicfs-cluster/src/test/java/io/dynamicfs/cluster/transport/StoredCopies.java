package io.dynamicfs.cluster.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/** Damages a block's stored copy on disk, as a bad sector would, for scrub and verify tests. */
public final class StoredCopies {
  private StoredCopies() {}

  /**
   * Flips one byte of the stored bytes of {@code data} (which must be incompressible, so they are stored as
   * they are) in the segment files under {@code segments}. Fails when they are not found there.
   */
  public static void damage(Path segments, byte[] data) throws IOException {
    byte[] needle = Arrays.copyOfRange(data, data.length / 2, data.length / 2 + 32);
    List<Path> files;
    try (Stream<Path> s = Files.list(segments)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".dfs")).sorted().toList();
    }
    for (Path f : files) {
      byte[] all = Files.readAllBytes(f);
      for (int i = 0; i + needle.length <= all.length; i++) {
        if (all[i] == needle[0] && Arrays.equals(all, i, i + needle.length, needle, 0, needle.length)) {
          try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (all[i + 5] ^ 0x5a)}), i + 5);
            ch.force(true);
          }
          return;
        }
      }
    }
    throw new IOException("the block's bytes are in no segment file under " + segments);
  }
}
