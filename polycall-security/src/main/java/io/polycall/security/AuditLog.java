package io.polycall.security;

import io.polycall.CallInterceptor;
import io.polycall.Status;
import io.polycall.security.internal.AuditEntry;
import io.polycall.security.internal.AuditWriter;
import java.io.IOException;

/**
 * The tamper-evident audit log: one JSON Lines record per call decision, each carrying the SHA-256
 * of the record before it, written by one background thread (see {@code docs/audit.md} for the
 * record format and the chain). Install {@link #interceptor()} first in the chain so it sees every
 * decision, refusals included.
 *
 * {@snippet :
 * try (AuditLog audit = AuditLog.open(AuditConfig.of(Path.of("/var/log/polycall/audit.jsonl")));
 *     PolyCall pc = PolyCall.builder().withInterceptor(audit.interceptor()).build()) {
 *   pc.call("math.add", Value.i64(1), Value.i64(2));
 * }
 * }
 *
 * <p>Thread-safe. Appending never waits for the disk unless the config is fail-closed (then a call
 * writes its own record, with those queued before it) or the queue is full (then the caller writes
 * the queue).
 */
public final class AuditLog implements AutoCloseable {
  private final AuditConfig config;
  private final AuditWriter writer;
  private final AuditInterceptor interceptor;

  private AuditLog(AuditConfig config, AuditWriter writer) {
    this.config = config;
    this.writer = writer;
    this.interceptor = new AuditInterceptor(this);
  }

  /**
   * Opens the log, continuing the chain of an existing file (or of its newest rotated file), and
   * writes an {@code open} record.
   *
   * @throws io.polycall.StatusException FAILED_PRECONDITION when the file cannot be opened or
   *     written, or ends with something that is not a record
   */
  public static AuditLog open(AuditConfig config) {
    try {
      return new AuditLog(config, AuditWriter.open(config));
    } catch (IOException | RuntimeException e) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "cannot open the audit log "
                  + config.file()
                  + ": "
                  + e
                  + "; make its directory writable by this user, or point security.audit.file"
                  + " elsewhere")
          .withCause(e)
          .asException();
    }
  }

  /** The interceptor that records every call; install it outermost. */
  public CallInterceptor interceptor() {
    return interceptor;
  }

  public AuditConfig config() {
    return config;
  }

  /** Why the log cannot be written right now, or null while it can. */
  public String failure() {
    return writer.failure();
  }

  /** Records written since the log was opened. */
  public long written() {
    return writer.written();
  }

  /** Records lost because they could not be written (each run of them noted by a gap record). */
  public long dropped() {
    return writer.dropped();
  }

  /** Failed writes. */
  public long failures() {
    return writer.failures();
  }

  /**
   * The hash of the newest record written. A chain can be rewritten whole by someone who can write
   * the file; shipping the head elsewhere now and then (a log collector, a ticket) anchors it.
   */
  public String head() {
    return writer.head();
  }

  void append(AuditEntry entry, boolean await) {
    writer.append(entry, await);
  }

  /** Writes what is queued, forces it and closes the file. Idempotent; blocks until written. */
  @Override
  public void close() {
    writer.close();
  }
}
