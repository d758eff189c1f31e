package io.polycall.server.examples;

import io.polycall.core.PolyFunction;
import io.polycall.core.PolyNamespace;
import java.util.Arrays;

/**
 * Example JVM functions in namespace {@code stats}: static methods, so the config registers them
 * without making an instance. They take ndarrays, which callers may pass as JSON lists. Stateless
 * and thread-safe.
 */
@PolyNamespace("stats")
public final class StatsFunctions {
  private StatsFunctions() {}

  @PolyFunction(tags = "pure", doc = "The arithmetic mean; NaN for an empty array.")
  public static double mean(double[] xs) {
    double sum = 0;
    for (double x : xs) {
      sum += x;
    }
    return xs.length == 0 ? Double.NaN : sum / xs.length;
  }

  @PolyFunction(tags = "pure", doc = "The median; fails for an empty array.")
  public static double median(double[] xs) {
    if (xs.length == 0) {
      throw new IllegalArgumentException("the median of an empty array is undefined");
    }
    double[] s = xs.clone();
    Arrays.sort(s);
    int m = s.length / 2;
    return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  @PolyFunction(tags = "pure", doc = "Each element scaled by k, as a new array.")
  public static double[] scale(double[] xs, double k) {
    double[] out = new double[xs.length];
    for (int i = 0; i < xs.length; i++) {
      out[i] = xs[i] * k;
    }
    return out;
  }

  /** A summary, returned as a struct: records map to {@code struct Summary{...}}. */
  public record Summary(long count, double min, double max, double mean) {}

  @PolyFunction(tags = "pure", doc = "Count, min, max and mean in one struct.")
  public static Summary summary(double[] xs) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double x : xs) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    return new Summary(xs.length, min, max, mean(xs));
  }
}
