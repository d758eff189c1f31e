package io.polycall.grpc.internal;

import io.polycall.CallContext;
import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.grpc.internal.PeerConnection.NodeUnavailableException;
import io.polycall.spi.BatchInvoker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks the node that runs a remote call and retries where that is safe.
 *
 * <pre>
 *   hosts of name@version ── skip unhealthy ── least outstanding (ties: random) ── call
 *        │                                                                          │
 *        │        UNAVAILABLE and tagged idempotent and the budget allows ◄─────────┘
 *        └──────── next least-outstanding healthy node not tried yet
 * </pre>
 *
 * A node that drops a call is marked unhealthy at once (the health task brings it back), so the
 * calls after it go elsewhere without waiting for the next check. A failure that is the function's
 * own (INVALID_ARGUMENT, ...) is returned as it is and never retried. Thread-safe; {@link #invoke}
 * blocks for the call.
 */
public final class Router {
  /** As gRPC's retry policy caps maxAttempts at 5. */
  static final int MAX_ATTEMPTS = 5;

  private final RetryBudget budget;
  private volatile Map<String, List<Peer>> hosts = Map.of();

  public Router(RetryBudget budget) {
    this.budget = budget;
  }

  /** Replaces the hosts of every function ({@code name@version} to the nodes that host it). */
  public synchronized void hosts(Map<String, List<Peer>> byQualifiedName) {
    this.hosts = Map.copyOf(byQualifiedName);
  }

  public List<Peer> hostsOf(String qualifiedName) {
    return hosts.getOrDefault(qualifiedName, List.of());
  }

  public RetryBudget budget() {
    return budget;
  }

  public Value invoke(FunctionInfo info, Value[] args, CallContext context) throws Throwable {
    String fn = info.qualifiedName();
    rejectCallbacks(fn, args);
    return route(info, context, peer -> peer.connection().call(fn, args, context.options()));
  }

  /**
   * Runs many calls of one function on one node, in one round trip: the batch is routed (and, for
   * an idempotent function, retried) as a whole; each call's own failure stays in its outcome.
   */
  public List<BatchInvoker.Outcome> invokeAll(
      FunctionInfo info, List<Value[]> calls, CallContext context) throws Throwable {
    String fn = info.qualifiedName();
    for (Value[] args : calls) {
      rejectCallbacks(fn, args);
    }
    return route(info, context, peer -> peer.connection().callAll(fn, calls, context.options()));
  }

  /** One try on one node. */
  @FunctionalInterface
  private interface Attempt<T> {
    T run(Peer peer) throws PeerConnection.NodeUnavailableException;
  }

  private <T> T route(FunctionInfo info, CallContext context, Attempt<T> attempt) throws Throwable {
    String fn = info.qualifiedName();
    List<Peer> all = hostsOf(fn);
    if (all.isEmpty()) {
      throw Status.UNAVAILABLE
          .withDescription("no node hosts " + fn + " any more; list functions again")
          .asException();
    }
    boolean idempotent = info.hasTag(FunctionInfo.TAG_IDEMPOTENT);
    List<Peer> tried = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    List<Peer> withdrawnFrom = new ArrayList<>();
    while (true) {
      Peer peer = pick(all, tried);
      if (peer == null) {
        if (!withdrawnFrom.isEmpty() && failures.isEmpty()) {
          throw Status.NOT_FOUND
              .withDescription(
                  fn
                      + " is no longer hosted by "
                      + withdrawnFrom
                      + " (withdrawn since the last refresh of the peers)")
              .asException();
        }
        throw noNodeLeft(fn, all, tried, failures);
      }
      tried.add(peer);
      CallOptions options = context.options();
      if (options.isExpired()) {
        throw Status.DEADLINE_EXCEEDED
            .withDescription("deadline passed before " + fn + " could be sent to " + peer)
            .asException();
      }
      peer.begin();
      try {
        T result = attempt.run(peer);
        budget.onSuccess();
        return result;
      } catch (NodeUnavailableException e) {
        // The node, not the function, failed: stop sending it calls until it passes a check.
        // A node dying with many calls in flight is one failure for the retry budget, paid by
        // the call that noticed first, so that all of its calls can go elsewhere.
        boolean first = peer.takeOut("a call failed: " + e.getMessage());
        failures.add(peer + ": " + e.getMessage());
        if (!retry(idempotent, all, tried, context, first)) {
          throw unavailable(fn, peer, e.getMessage(), idempotent, tried, all, e);
        }
      } catch (StatusException e) {
        if (isWithdrawn(info, e.status())) {
          // The node dropped the function since the last refresh: it did not run, so another
          // host may run it, whatever its tags. The next refresh settles the registry.
          withdraw(fn, peer);
          withdrawnFrom.add(peer);
          continue;
        }
        if (e.status().code() != Status.Code.UNAVAILABLE) {
          throw e;
        }
        // The node answered, but the function there is unavailable (its worker is down, ...).
        failures.add(peer + ": " + e.status().description());
        if (!retry(idempotent, all, tried, context, true)) {
          throw unavailable(fn, peer, e.status().description(), idempotent, tried, all, e);
        }
      } finally {
        peer.end();
      }
    }
  }

  /**
   * The node's registry no longer has the function (its NOT_FOUND, as RealRegistry words it), as
   * opposed to a NOT_FOUND the function itself returned.
   */
  private static boolean isWithdrawn(FunctionInfo info, Status s) {
    if (s.code() != Status.Code.NOT_FOUND) {
      return false;
    }
    String d = s.description();
    return d.startsWith("no function named " + info.name())
        || d.startsWith("function " + info.name() + " has no version");
  }

  /** Stops routing {@code fn} to {@code peer} until the next refresh says otherwise. */
  private void withdraw(String fn, Peer peer) {
    synchronized (this) {
      List<Peer> now = hosts.getOrDefault(fn, List.of());
      if (!now.contains(peer)) {
        return;
      }
      java.util.Map<String, List<Peer>> next = new java.util.HashMap<>(hosts);
      List<Peer> less = new ArrayList<>(now);
      less.remove(peer);
      next.put(fn, List.copyOf(less));
      hosts = Map.copyOf(next);
    }
  }

  private boolean retry(
      boolean idempotent, List<Peer> all, List<Peer> tried, CallContext ctx, boolean charge) {
    boolean allowed = charge ? budget.onFailure() : budget.allowsRetry();
    return idempotent
        && allowed
        && tried.size() < MAX_ATTEMPTS
        && !ctx.isCancelled()
        && !ctx.options().isExpired()
        && pick(all, tried) != null;
  }

  /**
   * The healthy node not tried yet with the fewest calls in flight; ties broken at random. When no
   * host is healthy at all, every host is a candidate (Envoy's panic routing): a health check can
   * be wrong, and trying is better than failing a call that might succeed.
   */
  static Peer pick(List<Peer> all, List<Peer> tried) {
    boolean panic = all.stream().noneMatch(Peer::isHealthy);
    Peer best = null;
    int ties = 0;
    for (Peer p : all) {
      if ((!panic && !p.isHealthy()) || tried.contains(p)) {
        continue;
      }
      if (best == null || p.outstanding() < best.outstanding()) {
        best = p;
        ties = 1;
      } else if (p.outstanding() == best.outstanding()
          && ThreadLocalRandom.current().nextInt(++ties) == 0) {
        best = p; // reservoir sampling over the tied nodes: each equally likely
      }
    }
    return best;
  }

  private StatusException unavailable(
      String fn,
      Peer peer,
      String why,
      boolean idempotent,
      List<Peer> tried,
      List<Peer> all,
      Throwable cause) {
    String retryNote;
    if (!idempotent) {
      retryNote = "; " + fn + " is not tagged idempotent, so it was not retried on another node";
    } else if (tried.size() > 1) {
      retryNote = "; also tried " + tried.subList(0, tried.size() - 1);
    } else if (pick(all, tried) != null) {
      retryNote = "; the retry budget is spent, so it was not retried";
    } else {
      retryNote = "; no other healthy node hosts it";
    }
    return Status.UNAVAILABLE
        .withDescription(peer + " failed calling " + fn + ": " + why + retryNote)
        .withCause(cause)
        .asException();
  }

  private static StatusException noNodeLeft(
      String fn, List<Peer> all, List<Peer> tried, List<String> failures) {
    if (!failures.isEmpty()) {
      return Status.UNAVAILABLE
          .withDescription("every node hosting " + fn + " failed: " + String.join("; ", failures))
          .asException();
    }
    List<String> reasons = new ArrayList<>();
    for (Peer p : all) {
      reasons.add(p + " (" + p.unhealthyReason() + ")");
    }
    return Status.UNAVAILABLE
        .withDescription(
            "no healthy node hosts "
                + fn
                + ": "
                + String.join(", ", reasons)
                + "; calls resume when one passes its health check")
        .asException();
  }

  /**
   * A {@code fn} value names a callback in this node's registry, which the remote node cannot reach
   * (it would need a connection back to us): fail clearly instead of NOT_FOUND over there.
   */
  private static void rejectCallbacks(String fn, Value[] args) {
    for (int i = 0; i < args.length; i++) {
      if (containsFn(args[i])) {
        throw Status.UNIMPLEMENTED
            .withDescription(
                "args["
                    + i
                    + "] of "
                    + fn
                    + " is a function value; fn arguments do not cross to a remote node yet,"
                    + " pass data instead or run "
                    + fn
                    + " on this node")
            .asException();
      }
    }
  }

  private static boolean containsFn(Value v) {
    return switch (v) {
      case Value.Fn f -> true;
      case Value.Seq s -> s.items().stream().anyMatch(Router::containsFn);
      case Value.Struct s -> s.fields().values().stream().anyMatch(Router::containsFn);
      case Value.Dict d -> d.entries().values().stream().anyMatch(Router::containsFn);
      default -> false;
    };
  }
}
