package io.polycall.grpc.internal;

import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BatchInvoker;
import java.time.Duration;
import java.util.List;

/**
 * What the router needs of one remote node: call a function there, learn what it hosts, ask its
 * health. The production implementation talks gRPC ({@link GrpcPeerConnection}); unit tests use
 * fakes. Thread-safe; every method blocks until the node answers or its time runs out.
 */
public interface PeerConnection extends AutoCloseable {

  /**
   * Calls {@code qualifiedName} on the node with the caller's deadline and metadata. Blocking; an
   * interrupt cancels the call on the node.
   *
   * @throws NodeUnavailableException when the node could not be reached or dropped the call (the
   *     function may or may not have run)
   * @throws StatusException the function's own failure, as the node reported it
   */
  Value call(String qualifiedName, Value[] args, CallOptions options)
      throws NodeUnavailableException;

  /**
   * Calls {@code qualifiedName} once per argument array, in one round trip where the transport can;
   * one outcome per call, in order, a failed call failing only its own outcome. Blocking.
   *
   * @throws NodeUnavailableException when the node could not be reached or dropped the batch
   */
  default List<BatchInvoker.Outcome> callAll(
      String qualifiedName, List<Value[]> calls, CallOptions options)
      throws NodeUnavailableException {
    List<BatchInvoker.Outcome> out = new java.util.ArrayList<>(calls.size());
    for (Value[] args : calls) {
      try {
        out.add(new BatchInvoker.Outcome(call(qualifiedName, args, options), Status.OK));
      } catch (StatusException e) {
        out.add(new BatchInvoker.Outcome(null, e.status()));
      }
    }
    return out;
  }

  /** What the node hosts itself (never what it reaches through its own peers), and its node id. */
  Advertisement listLocal(Duration timeout) throws NodeUnavailableException;

  /** The node's answer to a gRPC health check. */
  Health checkHealth(Duration timeout);

  /**
   * A health check's outcome.
   *
   * @param serving the node said SERVING
   * @param answered the node answered (false: timeout, refused), so a NOT_SERVING is definite
   * @param detail why not serving; empty when serving
   */
  record Health(boolean serving, boolean answered, String detail) {
    public static final Health SERVING = new Health(true, true, "");

    public static Health notServing(String detail) {
      return new Health(false, true, detail);
    }

    public static Health noAnswer(String detail) {
      return new Health(false, false, detail);
    }
  }

  /** Idempotent. */
  @Override
  void close();

  /** A node's answer to ListFunctions(local_only). Functions carry the bridge name "remote". */
  record Advertisement(String nodeId, List<FunctionInfo> functions) {
    public Advertisement {
      functions = List.copyOf(functions);
    }
  }

  /** The node could not be reached, or the connection broke during the call. */
  final class NodeUnavailableException extends Exception {
    public NodeUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
