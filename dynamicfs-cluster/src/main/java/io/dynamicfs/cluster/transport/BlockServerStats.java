package io.dynamicfs.cluster.transport;

import java.util.concurrent.atomic.LongAdder;

/**
 * Running totals of one block server since it started, for metrics: requests run, requests answered with an
 * error, request payload bytes received and answer payload bytes sent. Safe from any thread.
 */
public final class BlockServerStats {
  private final LongAdder requests = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder bytesIn = new LongAdder();
  private final LongAdder bytesOut = new LongAdder();

  void request(int payloadBytes) {
    requests.increment();
    bytesIn.add(payloadBytes);
  }

  void answer(BlockOps.Answer a) {
    bytesOut.add(a.payload().length);
    if (a.type() == BlockFrame.Type.ERROR) {
      errors.increment();
    }
  }

  public long requests() {
    return requests.sum();
  }

  public long errors() {
    return errors.sum();
  }

  public long bytesIn() {
    return bytesIn.sum();
  }

  public long bytesOut() {
    return bytesOut.sum();
  }
}
