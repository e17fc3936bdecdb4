package io.dynamicfs.policy.act;

/**
 * What the applications are doing to the mount, for the executor's back-off: requests in flight now, and
 * monotonic totals of reads and writes completed and their time. Implemented where every kernel request
 * passes (the CLI's metered filesystem); the executor takes the mean latency between two looks.
 */
public interface Foreground {
  /** Nothing measured: never busy. */
  Foreground NONE = new Foreground() {
    @Override
    public long inFlight() {
      return 0;
    }

    @Override
    public long completed() {
      return 0;
    }

    @Override
    public long totalNanos() {
      return 0;
    }
  };

  /** Requests (any operation) being served now. */
  long inFlight();

  /** Reads and writes completed since the mount. */
  long completed();

  /** Their summed latency in nanoseconds. */
  long totalNanos();
}
