package io.polycall.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * Latency and throughput of a call, measured the way the cross-language harness reports them: a
 * warm-up, then {@code n} timed calls one at a time, summarized as percentiles. Not JMH: these
 * calls cross processes, so each takes microseconds and the timer's cost is noise.
 */
public final class Latency {
  /** One measured operation. */
  @FunctionalInterface
  public interface Op {
    void run() throws Exception;
  }

  /** Percentiles in microseconds, and calls per second for the measured run. */
  public record Summary(
      String name, int calls, double p50, double p90, double p99, double perSecond) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%-44s p50 %8.2f us  p90 %8.2f us  p99 %8.2f us  %10.0f calls/s  (n=%d)",
          name,
          p50,
          p90,
          p99,
          perSecond,
          calls);
    }
  }

  private Latency() {}

  public static Summary measure(String name, int warmup, int n, Op op) throws Exception {
    for (int i = 0; i < warmup; i++) {
      op.run();
    }
    long[] nanos = new long[n];
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      op.run();
      nanos[i] = System.nanoTime() - t0;
    }
    long total = System.nanoTime() - start;
    Arrays.sort(nanos);
    return new Summary(
        name,
        n,
        nanos[n / 2] / 1e3,
        nanos[(int) (n * 0.9)] / 1e3,
        nanos[Math.min(n - 1, (int) (n * 0.99))] / 1e3,
        n / (total / 1e9));
  }
}
