package io.dynamicfs.core.intent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/** Log files {@code intent-NNNNNNNN.log} in one directory, kept open while in use. */
public final class DirectoryLogStorage implements LogStorage {
  private static final String PREFIX = "intent-";
  private static final String SUFFIX = ".log";

  private final Path dir;
  private final Map<Integer, FileChannel> channels = new ConcurrentHashMap<>();

  public DirectoryLogStorage(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
  }

  Path path(int file) {
    return dir.resolve(String.format("%s%08d%s", PREFIX, file, SUFFIX));
  }

  @Override
  public SortedSet<Integer> list() throws IOException {
    SortedSet<Integer> out = new TreeSet<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        try {
          out.add(Integer.parseInt(n.substring(PREFIX.length(), n.length() - SUFFIX.length())));
        } catch (NumberFormatException e) {
          // not ours
        }
      }
    }
    return out;
  }

  @Override
  public void create(int file) throws IOException {
    FileChannel ch = FileChannel.open(path(file), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    channels.put(file, ch);
    ch.force(true);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // the new name survives a power loss before any record in it is referenced
    }
  }

  private FileChannel channel(int file) throws IOException {
    FileChannel ch = channels.get(file);
    if (ch != null) {
      return ch;
    }
    synchronized (channels) {
      ch = channels.get(file);
      if (ch == null) {
        try {
          ch = FileChannel.open(path(file), StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
          throw new NoSuchFileException(path(file).toString(), null, "intent log file is gone");
        }
        channels.put(file, ch);
      }
      return ch;
    }
  }

  @Override
  public void append(int file, ByteBuffer data) throws IOException {
    FileChannel ch = channel(file);
    long pos = ch.size();
    while (data.hasRemaining()) {
      pos += ch.write(data, pos);
    }
  }

  @Override
  public void sync(int file) throws IOException {
    channel(file).force(false);
  }

  @Override
  public int read(int file, long pos, ByteBuffer dst) throws IOException {
    return channel(file).read(dst, pos);
  }

  @Override
  public long size(int file) throws IOException {
    return channel(file).size();
  }

  @Override
  public void delete(int file) throws IOException {
    FileChannel ch;
    synchronized (channels) {
      ch = channels.remove(file);
    }
    if (ch != null) {
      ch.close();
    }
    Files.deleteIfExists(path(file));
  }

  @Override
  public void close() throws IOException {
    IOException failure = null;
    for (FileChannel ch : channels.values()) {
      try {
        ch.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    channels.clear();
    if (failure != null) {
      throw failure;
    }
  }
}
