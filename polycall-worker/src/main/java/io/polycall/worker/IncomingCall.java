package io.polycall.worker;

import io.polycall.Value;
import java.util.List;
import java.util.Map;

/**
 * A call the other side sent, as a {@link CallHandler} sees it. Immutable but for {@link
 * #isCancelled()}, which turns true when the caller sends {@code Cancel} or the deadline passes.
 */
public final class IncomingCall {
  private final long callId;
  private final String function;
  private final List<Value> args;
  private final long timeoutNanos;
  private final Map<String, String> metadata;
  private final Connection connection;
  private volatile boolean cancelled;

  IncomingCall(
      long callId,
      String function,
      List<Value> args,
      long timeoutNanos,
      Map<String, String> metadata,
      Connection connection) {
    this.callId = callId;
    this.function = function;
    this.args = List.copyOf(args);
    this.timeoutNanos = timeoutNanos;
    this.metadata = Map.copyOf(metadata);
    this.connection = connection;
  }

  /** The caller's id for this call (0 for a call inside a {@code Batch}). */
  public long callId() {
    return callId;
  }

  /** {@code "name"} or {@code "name@version"}. */
  public String function() {
    return function;
  }

  public List<Value> args() {
    return args;
  }

  /** The time the caller allows, from when the frame was read; 0 means no deadline. */
  public long timeoutNanos() {
    return timeoutNanos;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** The connection the call came on: call back through it for nested calls. */
  public Connection connection() {
    return connection;
  }

  /** Whether the caller no longer wants the result (Cancel, deadline, or the connection closed). */
  public boolean isCancelled() {
    return cancelled;
  }

  void cancel() {
    cancelled = true;
  }

  @Override
  public String toString() {
    return "IncomingCall#" + callId + " " + function + args;
  }
}
