package io.polycall.security;

import io.polycall.Call;
import io.polycall.CallInterceptor;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.security.internal.ArgsDigest;
import io.polycall.security.internal.AuditEntry;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Records every call in the {@link AuditLog}: it runs outermost, opens a {@link CallRecord} that
 * the security stages after it fill in, lets the call run, and appends one record with who called
 * what, what was decided, how it ended, how long it took and a SHA-256 of the arguments.
 *
 * <p>The arguments are hashed before the call runs (a function may write into an ndarray it was
 * given). With {@code fail_closed}, calls are refused with UNAVAILABLE while the log cannot be
 * written, and a call whose own record cannot be written fails with UNAVAILABLE although it ran.
 * Thread-safe; made by {@link AuditLog#interceptor()}.
 */
final class AuditInterceptor implements CallInterceptor {
  /** Longest status message kept in a record; the rest is cut (the full one went to the caller). */
  static final int MAX_MESSAGE_CHARS = 512;

  private final AuditLog log;
  private final boolean failClosed;

  /**
   * The last function called and its qualified name ({@code FunctionInfo.qualifiedName()} builds a
   * new String each time): the same String object call after call lets the formatter reuse its
   * JSON. Racy by design: a thread may see an older pair and build the name itself.
   */
  private Named lastFunction = new Named(null, "");

  private record Named(io.polycall.FunctionInfo info, String name) {}

  AuditInterceptor(AuditLog log) {
    this.log = log;
    this.failClosed = log.config().failClosed();
  }

  @Override
  public Value intercept(Chain chain) {
    Call call = chain.call();
    Instant time = Instant.now();
    long t0 = System.nanoTime();
    ArgsDigest digest = ArgsDigest.acquire();
    byte[] sha;
    long payloadBytes;
    try {
      sha = digest.digest(call.args());
      payloadBytes = digest.lastSize();
    } finally {
      digest.release();
    }
    CallRecord record = CallRecord.open();
    if (failClosed) {
      String failure = log.failure();
      if (failure != null) {
        StatusException refused = unavailable(failure, false);
        record.decide("audit", false, "audit log unavailable");
        // Waiting for this record lets the writer try the disk again now: once it can write, the
        // failure clears and the next call runs.
        log.append(entry(call, record, time, t0, refused.status(), payloadBytes, sha), true);
        throw refused;
      }
    }
    Value result;
    try {
      result = ScopedValue.where(CallRecord.scope(), record).call(() -> chain.proceed(call));
    } catch (RuntimeException | Error e) {
      AuditEntry entry = entry(call, record, time, t0, Status.fromThrowable(e), payloadBytes, sha);
      log.append(entry, failClosed);
      if (failClosed && entry.error() != null) {
        StatusException u = unavailable(entry.error(), true);
        u.addSuppressed(e);
        throw u;
      }
      throw e;
    }
    AuditEntry entry = entry(call, record, time, t0, Status.OK, payloadBytes, sha);
    log.append(entry, failClosed);
    if (failClosed && entry.error() != null) {
      throw unavailable(entry.error(), true);
    }
    return result;
  }

  private static StatusException unavailable(String why, boolean ran) {
    return Status.UNAVAILABLE
        .withDescription(
            "audit log unavailable: "
                + why
                + (ran
                    ? "; the call ran but its audit record could not be written"
                    : "; the call was not run")
                + " (security.audit.fail_closed is true); free space or fix the log file's"
                + " permissions, then retry")
        .asException();
  }

  private String functionName(io.polycall.FunctionInfo info) {
    Named last = lastFunction;
    if (last.info() == info) {
      return last.name();
    }
    String name = info.qualifiedName();
    lastFunction = new Named(info, name);
    return name;
  }

  private AuditEntry entry(
      Call call,
      CallRecord record,
      Instant time,
      long t0,
      Status status,
      long payloadBytes,
      byte[] sha) {
    long duration = System.nanoTime() - t0;
    Identity id = record.identity();
    if (!id.isAuthenticated()) {
      id = call.options().identity();
    }
    String message = status.description() == null ? "" : status.description();
    if (message.length() > MAX_MESSAGE_CHARS) {
      message = message.substring(0, MAX_MESSAGE_CHARS) + "...";
    }
    String decision = record.decision();
    return new AuditEntry(
        time,
        traceId(call.options().metadata()),
        id.subject(),
        id.method(),
        functionName(call.function()),
        call.function().bridge(),
        decision.isEmpty() ? "none" : decision,
        record.reason(),
        status.code().name(),
        status.code().number(),
        message,
        duration,
        payloadBytes,
        sha);
  }

  /**
   * The W3C trace id of {@code traceparent} ({@code 00-<32 hex>-<16 hex>-<2 hex>}), else a {@code
   * trace_id} entry, else a fresh random one (so that every record can still be correlated).
   */
  static String traceId(Map<String, String> metadata) {
    if (!metadata.isEmpty()) {
      String tp = metadata.get("traceparent");
      if (tp != null && tp.length() >= 55 && tp.charAt(2) == '-' && tp.charAt(35) == '-') {
        boolean hex = true;
        for (int i = 3; i < 35 && hex; i++) {
          char c = tp.charAt(i);
          hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }
        if (hex) {
          return tp.substring(3, 35);
        }
      }
      String t = metadata.get("trace_id");
      if (t != null && !t.isEmpty() && t.length() <= 128) {
        return t;
      }
    }
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return hex16(r.nextLong()) + hex16(r.nextLong());
  }

  private static String hex16(long v) {
    String s = Long.toHexString(v);
    return "0".repeat(16 - s.length()) + s;
  }
}
