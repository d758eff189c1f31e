package io.polycall.worker;

import io.polycall.Value;

/**
 * Runs the calls that the other side of a {@link Connection} sends.
 *
 * <p>Each call runs on its own virtual thread while the connection keeps reading, so a handler may
 * block, and may itself call back over the same connection ({@code call.connection().call(...)}):
 * nested and re-entrant calls work. A handler must therefore be thread-safe.
 *
 * <p>What the handler returns becomes the {@code Result}'s value; what it throws becomes the {@code
 * Result}'s status through {@link io.polycall.Status#fromThrowable} (a {@link
 * io.polycall.StatusException} keeps its status). A function the handler does not host should throw
 * {@code NOT_FOUND}. When the caller cancels or the deadline passes, the handler's thread is
 * interrupted and {@link IncomingCall#isCancelled()} turns true.
 */
@FunctionalInterface
public interface CallHandler {

  /** The result of {@code call}; may block. */
  Value onCall(IncomingCall call) throws Exception;

  /** A handler that hosts nothing: every call is NOT_FOUND. */
  static CallHandler none() {
    return call -> {
      throw io.polycall.Status.NOT_FOUND
          .withDescription("no function " + call.function() + " here")
          .asException();
    };
  }
}
