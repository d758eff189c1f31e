package io.polycall.security.internal;

/**
 * One call's audit record as the caller captured it: the facts only. {@link AuditWriter#append}
 * formats, hashes and links it on the caller's thread, straight into the writer's buffer; a caller
 * that waits for its record (fail-closed) waits on this object.
 */
public final class AuditEntry {
  final long epochSecond;
  final int nano;
  final String trace;
  final String subject;
  final String method;
  final String function;
  final String bridge;
  final String decision;
  final String reason;
  final String status;
  final int code;
  final String message;
  final long durationNanos;
  final long payloadBytes;
  final byte[] argsSha256;

  /** The caller waiting for this record (fail-closed), or null. */
  volatile Thread waiter;

  /** 0 while queued, 1 once written, 2 when it could not be written. */
  volatile int state;

  volatile String error;

  /** Its place in the writer's batch (writer state, set under the writer's lock). */
  int index;

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
    this.epochSecond = time.getEpochSecond();
    this.nano = time.getNano();
    this.trace = trace;
    this.subject = subject;
    this.method = method;
    this.function = function;
    this.bridge = bridge;
    this.decision = decision;
    this.reason = reason;
    this.status = status;
    this.code = code;
    this.message = message;
    this.durationNanos = durationNanos;
    this.payloadBytes = payloadBytes;
    this.argsSha256 = argsSha256;
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
