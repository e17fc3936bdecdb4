package io.dynamicfs.policy.tier;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * S3-FIFO (Yang et al., SOSP 2023) counted in bytes: new keys enter a small FIFO (10 % of the bytes); one
 * read again while there moves on to the main FIFO, the others leave, remembered in a ghost FIFO; a missed
 * key found in the ghost goes straight to main. Main is a FIFO with re-insertion: a key read since it was
 * last examined (a 2-bit frequency) goes round again with its frequency lowered, otherwise it leaves.
 */
public final class S3FifoTier extends ByteTier {
  private static final class Entry {
    final long key;
    final int bytes;
    int freq;
    boolean main;

    Entry(long key, int bytes) {
      this.key = key;
      this.bytes = bytes;
    }
  }

  private final long smallTarget;
  private final Map<Long, Entry> entries = new HashMap<>();
  private final ArrayDeque<Entry> small = new ArrayDeque<>();
  private final ArrayDeque<Entry> main = new ArrayDeque<>();
  private final LinkedHashMap<Long, Integer> ghost = new LinkedHashMap<>();
  private long smallBytes;
  private long mainBytes;
  private long ghostBytes;

  public S3FifoTier(long capacity, TierMoves moves) {
    super("S3-FIFO", capacity, moves);
    this.smallTarget = Math.max(1, capacity / 10);
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    Entry e = entries.get(key);
    if (e != null) {
      e.freq = Math.min(3, e.freq + 1);
      return true;
    }
    if (bytes > capacity) {
      return false;
    }
    while (used + bytes > capacity) {
      evict(now);
    }
    e = new Entry(key, bytes);
    Integer ghostBytesOfKey = ghost.remove(key);
    if (ghostBytesOfKey != null) {
      ghostBytes -= ghostBytesOfKey;
      e.main = true;
      main.addLast(e);
      mainBytes += bytes;
    } else {
      small.addLast(e);
      smallBytes += bytes;
    }
    entries.put(key, e);
    promote(key, bytes, now);
    return false;
  }

  private void evict(long now) {
    if (smallBytes >= smallTarget || main.isEmpty()) {
      evictSmall(now);
    } else {
      evictMain(now);
    }
  }

  private void evictSmall(long now) {
    while (!small.isEmpty()) {
      Entry e = small.pollFirst();
      smallBytes -= e.bytes;
      if (e.freq > 0) {
        e.freq = 0;
        e.main = true;
        main.addLast(e);
        mainBytes += e.bytes;
        if (mainBytes > capacity - smallTarget) {
          evictMain(now);
          return;
        }
      } else {
        entries.remove(e.key);
        ghost.put(e.key, e.bytes);
        ghostBytes += e.bytes;
        while (ghostBytes > capacity - smallTarget && !ghost.isEmpty()) {
          var it = ghost.entrySet().iterator();
          ghostBytes -= it.next().getValue();
          it.remove();
        }
        demote(e.key, e.bytes, now);
        return;
      }
    }
    evictMain(now);
  }

  private void evictMain(long now) {
    while (!main.isEmpty()) {
      Entry e = main.pollFirst();
      if (e.freq > 0) {
        e.freq--;
        main.addLast(e);
      } else {
        mainBytes -= e.bytes;
        entries.remove(e.key);
        demote(e.key, e.bytes, now);
        return;
      }
    }
  }

  @Override
  public double score(long key, long now) {
    Entry e = entries.get(key);
    if (e != null) {
      return (e.main ? 1.5 : 1.0) + e.freq / 8.0;
    }
    return ghost.containsKey(key) ? 0.5 : 0;
  }
}
