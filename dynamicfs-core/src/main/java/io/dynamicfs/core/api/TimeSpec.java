package io.dynamicfs.core.api;

/** A time for utimens: a value, "now" (UTIME_NOW) or "leave alone" (UTIME_OMIT). */
public record TimeSpec(Kind kind, long epochNanos) {
  public enum Kind { VALUE, NOW, OMIT }

  public static final TimeSpec NOW = new TimeSpec(Kind.NOW, 0);
  public static final TimeSpec OMIT = new TimeSpec(Kind.OMIT, 0);

  public static TimeSpec of(long epochNanos) {
    return new TimeSpec(Kind.VALUE, epochNanos);
  }
}
