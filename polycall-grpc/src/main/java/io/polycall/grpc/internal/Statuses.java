package io.polycall.grpc.internal;

import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.wire.StatusCodec;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * PolyCall status to gRPC status and back. The codes are the same numbers, so the mapping is one to
 * one; the cross-language stack travels in the {@link Rpc#STATUS_TRAILER} trailer because a gRPC
 * status has only a code and a message.
 */
public final class Statuses {
  private Statuses() {}

  /** The gRPC status of {@code s}, same code and description. */
  public static io.grpc.Status toGrpc(Status s) {
    return io.grpc.Status.fromCodeValue(s.code().number()).withDescription(s.description());
  }

  /** Trailers carrying the whole status, frames included. */
  public static Metadata trailersOf(Status s) {
    Metadata m = new Metadata();
    m.put(Rpc.STATUS_TRAILER, StatusCodec.encode(s));
    return m;
  }

  /** The PolyCall status of whatever a call failed with (unwrapping futures' wrappers). */
  public static Status of(Throwable t) {
    Throwable u = unwrap(t);
    if (u instanceof CancellationException) {
      return Status.CANCELLED.withDescription("the call was cancelled by its caller");
    }
    return u instanceof StatusException se ? se.status() : Status.fromThrowable(u);
  }

  public static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * The PolyCall status of a failed gRPC call: the trailer's status when the node sent one (the
   * node's own failures), else the gRPC status, its description prefixed by {@code target} (a
   * transport failure: the node is down, the connection broke), so the caller learns which node.
   */
  public static Status fromGrpc(io.grpc.Status g, Metadata trailers, String target) {
    if (trailers != null) {
      io.polycall.wire.proto.Status wire = trailers.get(Rpc.STATUS_TRAILER);
      if (wire != null) {
        return StatusCodec.decode(wire);
      }
    }
    String desc = g.getDescription();
    Throwable cause = g.getCause();
    if (desc == null && cause != null) {
      desc = cause.toString();
    }
    String prefix = "node " + target;
    Status s =
        Status.Code.ofNumber(g.getCode().value())
            .toStatus()
            .withDescription(desc == null ? prefix : prefix + ": " + desc);
    return cause == null ? s : s.withCause(cause);
  }

  public static StatusException fromGrpc(StatusRuntimeException e, String target) {
    return fromGrpc(e.getStatus(), e.getTrailers(), target).asException();
  }
}
