package io.polycall.security;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token buckets per subject and per function, by glob (first match in config order wins). Each
 * matching subject (or function) gets a bucket of its own with the rate of its pattern: {@code *}
 * gives every subject the same allowance, not one shared bucket. A quota is a bucket with a long
 * period: {@code rate: 10000/d, burst: 10000} allows 10,000 calls a day.
 *
 * @param subjects bucket per subject, by glob over the subject ({@code anonymous} when none)
 * @param functions bucket per function, by glob over its name (or {@code name@version})
 */
public record RateLimits(Map<String, Rate> subjects, Map<String, Rate> functions) {

  /**
   * A bucket's refill rate and size.
   *
   * @param perSecond tokens added per second (one call takes one)
   * @param burst the bucket's size: calls that may go at once after a quiet spell
   */
  public record Rate(double perSecond, long burst) {
    public Rate {
      if (!(perSecond > 0) || burst < 1) {
        throw new IllegalArgumentException("rate must be positive and burst 1 or more");
      }
    }

    @Override
    public String toString() {
      return (perSecond == Math.rint(perSecond) ? Long.toString((long) perSecond) : perSecond)
          + "/s, burst "
          + burst;
    }
  }

  public RateLimits {
    subjects = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(subjects));
    functions = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(functions));
  }
}
