package io.polycall.security;

import io.polycall.Call;
import io.polycall.CallInterceptor;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.security.RateLimits.Rate;
import io.polycall.security.internal.Glob;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Refuses calls past their subject's or their function's token bucket with RESOURCE_EXHAUSTED and a
 * retry hint. It runs after authentication, so the subject is the verified one.
 *
 * <p>The retry hint is part of the status message as {@code retry_after_ms=N}: the time until the
 * bucket holds a token again. {@link #retryAfterMillis} reads it back, for the HTTP gateway's
 * {@code Retry-After} header and gRPC clients' backoff. A call refused by one bucket takes no token
 * from the other. Thread-safe; one bucket costs one uncontended lock per call.
 */
public final class RateLimitInterceptor implements CallInterceptor {
  private static final Pattern RETRY = Pattern.compile("retry_after_ms=(\\d+)");

  private final List<Map.Entry<Glob, Rate>> subjects = new ArrayList<>();
  private final List<Map.Entry<Glob, Rate>> functions = new ArrayList<>();
  private final Map<String, Bucket> subjectBuckets = new ConcurrentHashMap<>();
  private final Map<String, Bucket> functionBuckets = new ConcurrentHashMap<>();
  private final LongSupplier nanoClock;
  private final int maxBuckets;

  /** Buckets kept per kind before full ones are dropped (see {@link #sweep}). */
  static final int MAX_BUCKETS = 100_000;

  public RateLimitInterceptor(RateLimits limits) {
    this(limits, System::nanoTime);
  }

  /** With a clock for tests ({@link System#nanoTime} semantics). */
  public RateLimitInterceptor(RateLimits limits, LongSupplier nanoClock) {
    this(limits, nanoClock, MAX_BUCKETS);
  }

  RateLimitInterceptor(RateLimits limits, LongSupplier nanoClock, int maxBuckets) {
    limits.subjects().forEach((k, v) -> subjects.add(Map.entry(Glob.text(k), v)));
    limits.functions().forEach((k, v) -> functions.add(Map.entry(Glob.function(k), v)));
    this.nanoClock = nanoClock;
    this.maxBuckets = maxBuckets;
  }

  /** Buckets held now, subjects and functions (for tests and metrics). */
  int bucketCount() {
    return subjectBuckets.size() + functionBuckets.size();
  }

  /**
   * Drops the buckets that are full again: a full bucket behaves exactly like a new one, so
   * dropping it changes no decision, and memory stays bounded however many subjects call (a bucket
   * per subject would otherwise grow with every name a token issuer ever signed).
   */
  private void sweep(Map<String, Bucket> buckets) {
    long now = nanoClock.getAsLong();
    buckets.values().removeIf(b -> b == Bucket.UNLIMITED || b.isFull(now));
  }

  /** The {@code retry_after_ms} hint of a RESOURCE_EXHAUSTED status, if it has one. */
  public static OptionalLong retryAfterMillis(Status status) {
    if (status.code() != Status.Code.RESOURCE_EXHAUSTED || status.description() == null) {
      return OptionalLong.empty();
    }
    Matcher m = RETRY.matcher(status.description());
    return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  @Override
  public Value intercept(Chain chain) {
    Call call = chain.call();
    String subject = call.options().identity().subject();
    if (subject.isEmpty()) {
      subject = "anonymous";
    }
    Bucket s =
        subjects.isEmpty() ? null : bucket(subjectBuckets, subjects, subject, subject, subject);
    String name = call.function().name();
    Bucket f =
        functions.isEmpty()
            ? null
            : bucket(
                functionBuckets,
                functions,
                call.function().qualifiedName(),
                name,
                call.function().qualifiedName());
    long now = nanoClock.getAsLong();
    if (s != null) {
      long wait = s.take(now);
      if (wait > 0) {
        throw refuse("subject '" + subject + "'", s, wait);
      }
    }
    if (f != null) {
      long wait = f.take(now);
      if (wait > 0) {
        if (s != null) {
          s.giveBack();
        }
        throw refuse("function " + call.function().qualifiedName(), f, wait);
      }
    }
    return chain.proceed(call);
  }

  private static StatusException refuse(String who, Bucket b, long waitNanos) {
    long ms = Math.max(1, (waitNanos + 999_999) / 1_000_000);
    String why = "rate limit of " + who + " exceeded (" + b.rate + ")";
    CallRecord.current().ifPresent(r -> r.decide("rate", false, why));
    return Status.RESOURCE_EXHAUSTED
        .withDescription(why + "; retry_after_ms=" + ms + "; slow down or ask for a higher limit")
        .asException();
  }

  private Bucket bucket(
      Map<String, Bucket> buckets,
      List<Map.Entry<Glob, Rate>> rules,
      String key,
      String name,
      String qname) {
    Bucket b = buckets.get(key);
    if (b != null) {
      return b;
    }
    if (buckets.size() >= maxBuckets) {
      sweep(buckets);
    }
    for (Map.Entry<Glob, Rate> e : rules) {
      if (e.getKey().matchesFunction(name, qname)) {
        return buckets.computeIfAbsent(key, k -> new Bucket(e.getValue()));
      }
    }
    return buckets.computeIfAbsent(key, k -> Bucket.UNLIMITED);
  }

  /** A token bucket; tokens are kept in nanoseconds of refill to stay exact in integers. */
  static final class Bucket {
    static final Bucket UNLIMITED = new Bucket(null);

    final Rate rate;
    private final long nanosPerToken;
    private final long capacityNanos;
    private long filledNanos;
    private long lastNanos;
    private boolean started;

    Bucket(Rate rate) {
      this.rate = rate;
      this.nanosPerToken = rate == null ? 0 : Math.max(1, Math.round(1e9 / rate.perSecond()));
      this.capacityNanos = rate == null ? 0 : nanosPerToken * rate.burst();
    }

    /** Takes a token: 0 when granted, else nanoseconds until one is available. */
    synchronized long take(long now) {
      if (rate == null) {
        return 0;
      }
      if (!started) {
        started = true;
        filledNanos = capacityNanos;
      } else {
        long elapsed = now - lastNanos;
        if (elapsed > 0) {
          filledNanos = Math.min(capacityNanos, filledNanos + elapsed);
        }
      }
      lastNanos = now;
      if (filledNanos >= nanosPerToken) {
        filledNanos -= nanosPerToken;
        return 0;
      }
      return nanosPerToken - filledNanos;
    }

    /** Whether the bucket would be full at {@code now}: indistinguishable from a new one. */
    synchronized boolean isFull(long now) {
      return rate != null
          && (!started || filledNanos + Math.max(0, now - lastNanos) >= capacityNanos);
    }

    synchronized void giveBack() {
      if (rate != null) {
        filledNanos = Math.min(capacityNanos, filledNanos + nanosPerToken);
      }
    }
  }
}
