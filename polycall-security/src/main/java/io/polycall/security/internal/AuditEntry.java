package io.polycall.security.internal;

/**
 * One call's audit record as the caller's thread formatted and hashed it; the writer thread numbers
 * and links it. Handed over once through the writer's queue.
 */
public final class AuditEntry {
  /** The record's body (between {@code "seq":N,} and {@code ,"prev":}), as UTF-8 JSON. */
  final byte[] body;

  /** SHA-256 of {@link #body}, taken on the caller's thread. */
  final byte[] bodySha256;

  /** What a call record says, before it is formatted. */
  record Facts(
      long epochSecond,
      int nano,
      String trace,
      String subject,
      String method,
      String function,
      String bridge,
      String decision,
      String reason,
      String status,
      int code,
      String message,
      long durationNanos,
      long payloadBytes,
      byte[] argsSha256) {}

  /** The caller waiting for this record (fail-closed), or null. */
  volatile Thread waiter;

  /** 0 while queued, 1 once written, 2 when it could not be written. */
  volatile int state;

  volatile String error;

  /** Written to the file (writer thread only). */
  boolean flushed;

  public AuditEntry(
      java.time.Instant time,
      String trace,
      String subject,
      String method,
      String function,
      String bridge,
      String decision,
      String reason,
      String status,
      int code,
      String message,
      long durationNanos,
      long payloadBytes,
      byte[] argsSha256) {
    // Formatted and hashed here, on the caller's thread, so that the writer only links records.
    RecordBody f = RecordBody.get();
    this.body =
        f.call(
            new Facts(
                time.getEpochSecond(),
                time.getNano(),
                trace,
                subject,
                method,
                function,
                bridge,
                decision,
                reason,
                status,
                code,
                message,
                durationNanos,
                payloadBytes,
                argsSha256));
    this.bodySha256 = f.sha256(body);
  }

  /** True once the writer has dealt with it (written or failed). */
  public boolean done() {
    return state != 0;
  }

  /** Why it could not be written, or null. */
  public String error() {
    return state == 2 ? error : null;
  }
}
