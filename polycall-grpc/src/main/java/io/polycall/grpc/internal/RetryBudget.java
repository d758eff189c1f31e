package io.polycall.grpc.internal;

/**
 * Limits retries the way gRPC's retry throttling does: a bucket of {@code maxTokens} tokens, one
 * taken by each failure that could be retried and {@code tokenRatio} given back by each success;
 * retries are allowed only while more than half the bucket is left. A burst of failures (a
 * partition, every node overloaded) so quickly stops retries from doubling the load, and a run of
 * successes earns them back. Thread-safe and lock-free.
 */
public final class RetryBudget {
  // Tokens are kept in thousandths, so ratios such as 0.1 add up exactly, as in grpc-java.
  private static final int SCALE = 1000;

  private final int maxTokens;
  private final int ratio;
  private final int threshold;
  private final java.util.concurrent.atomic.AtomicInteger tokens;

  public RetryBudget(int maxTokens, double tokenRatio) {
    if (maxTokens < 1 || maxTokens > 1000) {
      throw new IllegalArgumentException("max_tokens must be between 1 and 1000, was " + maxTokens);
    }
    if (!(tokenRatio > 0) || tokenRatio > maxTokens) {
      throw new IllegalArgumentException(
          "token_ratio must be above 0 and at most max_tokens, was " + tokenRatio);
    }
    this.maxTokens = maxTokens * SCALE;
    this.ratio = (int) Math.round(tokenRatio * SCALE);
    this.threshold = this.maxTokens / 2;
    this.tokens = new java.util.concurrent.atomic.AtomicInteger(this.maxTokens);
  }

  /** The default of the config: 10 tokens, 0.1 back per success. */
  public static RetryBudget ofDefaults() {
    return new RetryBudget(10, 0.1);
  }

  /** A call failed in a way a retry could fix; true if a retry is still allowed. */
  public boolean onFailure() {
    int now = tokens.updateAndGet(t -> Math.max(0, t - SCALE));
    return now > threshold;
  }

  /** Whether a retry is allowed now, taking no token (for failures already paid for). */
  public boolean allowsRetry() {
    return tokens.get() > threshold;
  }

  public void onSuccess() {
    tokens.updateAndGet(t -> Math.min(maxTokens, t + ratio));
  }

  /** The tokens left, for status pages and tests. */
  public double tokens() {
    return tokens.get() / (double) SCALE;
  }
}
