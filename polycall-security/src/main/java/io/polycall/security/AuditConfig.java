package io.polycall.security;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how the audit log is written.
 *
 * @param file the current log file; rotated files sit beside it as {@code file.1} (newest) to
 *     {@code file.N}
 * @param fsync when records are forced to the disk
 * @param fsyncInterval for {@link Fsync#INTERVAL}: the longest a written record may stay unforced
 * @param rotateBytes the size past which the file is rotated; 0 never rotates
 * @param keep how many rotated files are kept (older ones are deleted); 0 keeps none
 * @param failClosed when true, a call returns only once its record is written (forced too under
 *     {@link Fsync#EVERY_RECORD}) and calls are refused with UNAVAILABLE while the log cannot be
 *     written; when false, a failure is logged and counted and calls go on
 * @param queueCapacity records that may wait for the writer; a caller that finds the queue full
 *     writes it itself, or waits for the batch being written (audit is never dropped to keep up)
 */
public record AuditConfig(
    Path file,
    Fsync fsync,
    Duration fsyncInterval,
    long rotateBytes,
    int keep,
    boolean failClosed,
    int queueCapacity) {

  /** When records are forced to the disk ({@code fsync:} in the config). */
  public enum Fsync {
    /** Each group of records is forced before any of its calls is acknowledged. */
    EVERY_RECORD,
    /** Forced at most {@code fsyncInterval} after being written (default, 1 s). */
    INTERVAL,
    /** Never forced by PolyCall (the kernel writes back on its own; forced at close). */
    NEVER
  }

  public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofSeconds(1);
  public static final long DEFAULT_ROTATE_BYTES = 100L << 20;
  public static final int DEFAULT_KEEP = 10;
  public static final int DEFAULT_QUEUE_CAPACITY = 65_536;

  public AuditConfig {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(fsync, "fsync");
    Objects.requireNonNull(fsyncInterval, "fsyncInterval");
    if (rotateBytes < 0 || keep < 0 || queueCapacity < 1) {
      throw new IllegalArgumentException(
          "rotateBytes and keep must be 0 or more, queueCapacity 1 or more");
    }
  }

  /** Defaults: fsync every second, rotate at 100 MiB, keep 10 files, fail open. */
  public static AuditConfig of(Path file) {
    return new AuditConfig(
        file,
        Fsync.INTERVAL,
        DEFAULT_FSYNC_INTERVAL,
        DEFAULT_ROTATE_BYTES,
        DEFAULT_KEEP,
        false,
        DEFAULT_QUEUE_CAPACITY);
  }

  public AuditConfig withFsync(Fsync newFsync, Duration interval) {
    return new AuditConfig(file, newFsync, interval, rotateBytes, keep, failClosed, queueCapacity);
  }

  public AuditConfig withRotation(long newRotateBytes, int newKeep) {
    return new AuditConfig(
        file, fsync, fsyncInterval, newRotateBytes, newKeep, failClosed, queueCapacity);
  }

  public AuditConfig withFailClosed(boolean newFailClosed) {
    return new AuditConfig(
        file, fsync, fsyncInterval, rotateBytes, keep, newFailClosed, queueCapacity);
  }

  public AuditConfig withQueueCapacity(int capacity) {
    return new AuditConfig(file, fsync, fsyncInterval, rotateBytes, keep, failClosed, capacity);
  }
}
