package io.polycall;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-call settings: a deadline and metadata (trace ids, tokens). Immutable; derive with {@code
 * withX}. The deadline is absolute ({@link System#nanoTime} based), so it survives being passed
 * down through nested calls unchanged.
 */
public record CallOptions(long deadlineNanoTime, Map<String, String> metadata) {

  /** No deadline, no metadata. */
  public static final CallOptions DEFAULT = new CallOptions(Long.MAX_VALUE, Map.of());

  public CallOptions {
    metadata = Map.copyOf(metadata);
  }

  public boolean hasDeadline() {
    return deadlineNanoTime != Long.MAX_VALUE;
  }

  /** Options whose deadline is {@code timeout} from now (or the current one if sooner). */
  public CallOptions withDeadlineAfter(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    long now = System.nanoTime();
    long nanos = timeout.isNegative() ? 0 : saturatedNanos(timeout);
    long deadline = now + nanos < now ? Long.MAX_VALUE - 1 : now + nanos;
    return new CallOptions(Math.min(deadline, deadlineNanoTime), metadata);
  }

  public CallOptions withoutDeadline() {
    return new CallOptions(Long.MAX_VALUE, metadata);
  }

  public CallOptions withMetadata(String key, String value) {
    Map<String, String> m = new HashMap<>(metadata);
    m.put(key, value);
    return new CallOptions(deadlineNanoTime, m);
  }

  /** Nanoseconds left before the deadline (negative once past); Long.MAX_VALUE without one. */
  public long remainingNanos() {
    return hasDeadline() ? deadlineNanoTime - System.nanoTime() : Long.MAX_VALUE;
  }

  public boolean isExpired() {
    return hasDeadline() && remainingNanos() <= 0;
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 2;
    }
  }
}
