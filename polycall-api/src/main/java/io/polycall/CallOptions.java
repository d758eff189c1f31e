package io.polycall;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-call settings: a deadline, metadata (trace ids, tokens) and the caller's verified {@link
 * Identity}. Immutable; derive with {@code withX}. The deadline is absolute ({@link
 * System#nanoTime} based), so it survives being passed down through nested calls unchanged.
 *
 * <p>The identity is set only by code that verified a credential (a transport, the authentication
 * interceptor); whatever a remote peer sends arrives as metadata, never as an identity.
 */
public record CallOptions(long deadlineNanoTime, Map<String, String> metadata, Identity identity) {

  /** No deadline, no metadata, anonymous. */
  public static final CallOptions DEFAULT =
      new CallOptions(Long.MAX_VALUE, Map.of(), Identity.ANONYMOUS);

  public CallOptions {
    metadata = Map.copyOf(metadata);
    Objects.requireNonNull(identity, "identity");
  }

  /** Options with a deadline and metadata, anonymous. */
  public CallOptions(long deadlineNanoTime, Map<String, String> metadata) {
    this(deadlineNanoTime, metadata, Identity.ANONYMOUS);
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
    return new CallOptions(Math.min(deadline, deadlineNanoTime), metadata, identity);
  }

  public CallOptions withoutDeadline() {
    return new CallOptions(Long.MAX_VALUE, metadata, identity);
  }

  public CallOptions withMetadata(String key, String value) {
    Map<String, String> m = new HashMap<>(metadata);
    m.put(key, value);
    return new CallOptions(deadlineNanoTime, m, identity);
  }

  /** Nanoseconds left before the deadline (negative once past); Long.MAX_VALUE without one. */
  /** The same options on behalf of {@code newIdentity}. */
  public CallOptions withIdentity(Identity newIdentity) {
    return new CallOptions(deadlineNanoTime, metadata, newIdentity);
  }

  /** The same options without the metadata entry {@code key} (e.g. a token already consumed). */
  public CallOptions withoutMetadata(String key) {
    if (!metadata.containsKey(key)) {
      return this;
    }
    Map<String, String> m = new HashMap<>(metadata);
    m.remove(key);
    return new CallOptions(deadlineNanoTime, m, identity);
  }

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
