package io.dynamicfs.policy.trace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A text trace of one integer key per line (the LIRS traces): blank lines and the LIRS separator {@code *}
 * are skipped, anything else that is not an integer fails with its line number. Time is the access's index.
 */
final class TextKeyTrace implements TraceReader {
  private final String name;
  private final BufferedReader in;
  private final int blockBytes;
  private long line;
  private long time = -1;
  private long key;

  TextKeyTrace(String name, InputStream in, int blockBytes) {
    this.name = name;
    this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII), 1 << 16);
    this.blockBytes = blockBytes;
  }

  @Override
  public boolean next() throws IOException {
    String s;
    while ((s = in.readLine()) != null) {
      line++;
      s = s.strip();
      if (s.isEmpty() || s.equals("*")) {
        continue;
      }
      try {
        key = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IOException(name + ": line " + line + " is not an integer key: '"
            + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'", e);
      }
      time++;
      return true;
    }
    return false;
  }

  @Override
  public long time() {
    return time;
  }

  @Override
  public long key() {
    return key;
  }

  @Override
  public int bytes() {
    return blockBytes;
  }

  @Override
  public boolean write() {
    return false;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
