package io.polycall.core;

import io.polycall.Call;
import io.polycall.CallInterceptor;
import io.polycall.StatusException;
import io.polycall.Value;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Logs each call: function, bridge, outcome and duration, through {@link System.Logger}. Calls that
 * succeed log at {@code DEBUG} by default (so production logs stay quiet), failures at {@code
 * WARNING}. Thread-safe.
 */
public final class LoggingInterceptor implements CallInterceptor {
  private final Logger log;
  private final Level okLevel;

  public LoggingInterceptor() {
    this(System.getLogger("io.polycall.calls"), Level.DEBUG);
  }

  public LoggingInterceptor(Logger log, Level okLevel) {
    this.log = log;
    this.okLevel = okLevel;
  }

  @Override
  public Value intercept(Chain chain) {
    Call call = chain.call();
    long t0 = System.nanoTime();
    try {
      Value v = chain.proceed(call);
      if (log.isLoggable(okLevel)) {
        log.log(
            okLevel,
            "call {0} [{1}] OK in {2} us",
            call.function().qualifiedName(),
            call.function().bridge(),
            micros(t0));
      }
      return v;
    } catch (StatusException e) {
      log.log(
          levelOf(e.status().code()),
          "call {0} [{1}] failed in {2} us: {3}",
          call.function().qualifiedName(),
          call.function().bridge(),
          micros(t0),
          e.status());
      throw e;
    }
  }

  private static Level levelOf(io.polycall.Status.Code code) {
    return switch (code) {
      case UNKNOWN, INTERNAL, UNAVAILABLE, DATA_LOSS, RESOURCE_EXHAUSTED -> Level.WARNING;
      default -> Level.INFO;
    };
  }

  private static String micros(long t0) {
    return String.format("%.1f", (System.nanoTime() - t0) / 1000.0);
  }
}
