package io.polycall;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of a call: a code with gRPC's canonical numbers, a human-readable description, an
 * optional cause, and a cross-language stack.
 *
 * <p>Immutable and thread-safe. Derive new statuses with {@link #withDescription}, {@link
 * #withCause} and {@link #withFrames}; the shared constants ({@link #OK}, {@link #NOT_FOUND}, ...)
 * carry no description.
 *
 * <p>Which code to use when (the same guidance as gRPC's):
 *
 * <ul>
 *   <li>{@code INVALID_ARGUMENT}: the arguments are wrong whatever the state of the system (bad
 *       type, overflow, wrong arity). {@code OUT_OF_RANGE} when the value is well-typed but past a
 *       limit a caller could iterate up to.
 *   <li>{@code FAILED_PRECONDITION}: the system is not in a state to run the call (a library that
 *       is not allowed, a handle already closed); retrying will not help until the state changes.
 *   <li>{@code UNAVAILABLE}: transient; a crashed worker, a node that is down. Safe to retry an
 *       idempotent function.
 *   <li>{@code ABORTED}: a concurrency conflict; retry at a higher level.
 * </ul>
 */
public final class Status {

  /** Canonical codes. The numbers are frozen: they are gRPC's and travel on every wire. */
  public enum Code {
    OK(0),
    CANCELLED(1),
    UNKNOWN(2),
    INVALID_ARGUMENT(3),
    DEADLINE_EXCEEDED(4),
    NOT_FOUND(5),
    ALREADY_EXISTS(6),
    PERMISSION_DENIED(7),
    RESOURCE_EXHAUSTED(8),
    FAILED_PRECONDITION(9),
    ABORTED(10),
    OUT_OF_RANGE(11),
    UNIMPLEMENTED(12),
    INTERNAL(13),
    UNAVAILABLE(14),
    DATA_LOSS(15),
    UNAUTHENTICATED(16);

    private static final Code[] BY_NUMBER = values();

    private final int number;

    Code(int number) {
      this.number = number;
    }

    /** The gRPC number of this code. */
    public int number() {
      return number;
    }

    /** The code for a gRPC number; unknown numbers map to {@link #UNKNOWN}, as gRPC does. */
    public static Code ofNumber(int number) {
      return number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : UNKNOWN;
    }

    /** A fresh status with this code and no description. */
    public Status toStatus() {
      return STATUSES[ordinal()];
    }
  }

  /**
   * One frame of a cross-language stack. {@code line} is 0 when unknown.
   *
   * @param language "java", "c", "python", "javascript", ...
   */
  public record StackFrame(String language, String function, String file, int line) {
    public StackFrame {
      Objects.requireNonNull(language, "language");
      Objects.requireNonNull(function, "function");
      file = file == null ? "" : file;
    }

    @Override
    public String toString() {
      String where = file.isEmpty() ? "" : " (" + file + (line > 0 ? ":" + line : "") + ")";
      return "[" + language + "] " + function + where;
    }
  }

  private static final Status[] STATUSES = new Status[Code.values().length];

  static {
    for (Code c : Code.values()) {
      STATUSES[c.ordinal()] = new Status(c, null, null, List.of());
    }
  }

  public static final Status OK = Code.OK.toStatus();
  public static final Status CANCELLED = Code.CANCELLED.toStatus();
  public static final Status UNKNOWN = Code.UNKNOWN.toStatus();
  public static final Status INVALID_ARGUMENT = Code.INVALID_ARGUMENT.toStatus();
  public static final Status DEADLINE_EXCEEDED = Code.DEADLINE_EXCEEDED.toStatus();
  public static final Status NOT_FOUND = Code.NOT_FOUND.toStatus();
  public static final Status ALREADY_EXISTS = Code.ALREADY_EXISTS.toStatus();
  public static final Status PERMISSION_DENIED = Code.PERMISSION_DENIED.toStatus();
  public static final Status RESOURCE_EXHAUSTED = Code.RESOURCE_EXHAUSTED.toStatus();
  public static final Status FAILED_PRECONDITION = Code.FAILED_PRECONDITION.toStatus();
  public static final Status ABORTED = Code.ABORTED.toStatus();
  public static final Status OUT_OF_RANGE = Code.OUT_OF_RANGE.toStatus();
  public static final Status UNIMPLEMENTED = Code.UNIMPLEMENTED.toStatus();
  public static final Status INTERNAL = Code.INTERNAL.toStatus();
  public static final Status UNAVAILABLE = Code.UNAVAILABLE.toStatus();
  public static final Status DATA_LOSS = Code.DATA_LOSS.toStatus();
  public static final Status UNAUTHENTICATED = Code.UNAUTHENTICATED.toStatus();

  private final Code code;
  private final String description;
  private final Throwable cause;
  private final List<StackFrame> frames;

  private Status(Code code, String description, Throwable cause, List<StackFrame> frames) {
    this.code = Objects.requireNonNull(code, "code");
    this.description = description;
    this.cause = cause;
    this.frames = frames;
  }

  public Code code() {
    return code;
  }

  /** The message for a human, or null. */
  public String description() {
    return description;
  }

  /** The Java cause, or null. Not carried over a wire; its frames are, through {@link #frames}. */
  public Throwable cause() {
    return cause;
  }

  /** The cross-language stack, innermost frame first. */
  public List<StackFrame> frames() {
    return frames;
  }

  public boolean isOk() {
    return code == Code.OK;
  }

  public Status withDescription(String description) {
    return Objects.equals(this.description, description)
        ? this
        : new Status(code, description, cause, frames);
  }

  /** This status with {@code more} appended to the description after a colon. */
  public Status augmentDescription(String more) {
    if (more == null) {
      return this;
    }
    return withDescription(description == null ? more : description + ": " + more);
  }

  /**
   * This status with a Java cause. Unless frames were set explicitly, the cause's Java stack
   * becomes the cross-language stack.
   */
  public Status withCause(Throwable cause) {
    List<StackFrame> f = frames.isEmpty() && cause != null ? javaFrames(cause) : frames;
    return new Status(code, description, cause, f);
  }

  public Status withFrames(List<StackFrame> frames) {
    return new Status(code, description, cause, List.copyOf(frames));
  }

  /** This status with {@code outer} frames added after the existing (inner) ones. */
  public Status withOuterFrames(List<StackFrame> outer) {
    if (outer.isEmpty()) {
      return this;
    }
    List<StackFrame> all = new ArrayList<>(frames.size() + outer.size());
    all.addAll(frames);
    all.addAll(outer);
    return new Status(code, description, cause, Collections.unmodifiableList(all));
  }

  public StatusException asException() {
    return new StatusException(this);
  }

  /**
   * The status a throwable stands for: its own if it is a {@link StatusException}, {@code
   * CANCELLED} for an interrupt, {@code INVALID_ARGUMENT} for an {@link IllegalArgumentException}
   * or {@link NullPointerException} escaping user code, otherwise {@code UNKNOWN}; the message
   * names the exception class so the caller can tell what happened.
   */
  public static Status fromThrowable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StatusException se) {
        return se.status();
      }
    }
    Code code =
        switch (t) {
          case InterruptedException e -> Code.CANCELLED;
          case IllegalArgumentException e -> Code.INVALID_ARGUMENT;
          case UnsupportedOperationException e -> Code.UNIMPLEMENTED;
          default -> Code.UNKNOWN;
        };
    String msg = t.getMessage();
    String desc = t.getClass().getName() + (msg == null ? "" : ": " + msg);
    return code.toStatus().withDescription(desc).withCause(t);
  }

  /** Java frames of a throwable, first the throwable's own, innermost first. */
  public static List<StackFrame> javaFrames(Throwable t) {
    StackTraceElement[] trace = t.getStackTrace();
    List<StackFrame> out = new ArrayList<>(Math.min(trace.length, 64));
    for (int i = 0; i < trace.length && i < 64; i++) {
      StackTraceElement e = trace[i];
      out.add(
          new StackFrame(
              "java",
              e.getClassName() + "." + e.getMethodName(),
              e.getFileName(),
              Math.max(e.getLineNumber(), 0)));
    }
    return List.copyOf(out);
  }

  @Override
  public String toString() {
    return description == null ? code.name() : code.name() + ": " + description;
  }

  /** Code and description equality; causes and frames are diagnostics, not identity. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Status s && s.code == code && Objects.equals(s.description, description);
  }

  @Override
  public int hashCode() {
    return code.hashCode() * 31 + Objects.hashCode(description);
  }
}
