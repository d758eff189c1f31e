package io.polycall.grpc.internal;

import io.polycall.FunctionInfo;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One remote node as the router sees it: where it is, its id once it told us, whether it passed its
 * last health check, how many calls are in flight to it, and the functions it hosts. Fields are
 * written by the refresh and health tasks and read by calls, without locks.
 */
public final class Peer {
  private final String address;
  private final PeerConnection connection;
  private final AtomicInteger outstanding = new AtomicInteger();
  private volatile String nodeId = "";
  private final java.util.concurrent.atomic.AtomicReference<String> unhealthy =
      new java.util.concurrent.atomic.AtomicReference<>("not checked yet");
  private volatile Map<String, FunctionInfo> functions = Map.of();

  public Peer(String address, PeerConnection connection) {
    this.address = address;
    this.connection = connection;
  }

  public String address() {
    return address;
  }

  public PeerConnection connection() {
    return connection;
  }

  public String nodeId() {
    return nodeId;
  }

  public void nodeId(String id) {
    this.nodeId = id == null ? "" : id;
  }

  public boolean isHealthy() {
    return unhealthy.get() == null;
  }

  /** Why the node is not used, or null when it is healthy. */
  public String unhealthyReason() {
    return unhealthy.get();
  }

  public void markHealthy() {
    unhealthy.set(null);
    missedChecks = 0;
  }

  public void markUnhealthy(String reason) {
    unhealthy.set(reason == null ? "unhealthy" : reason);
  }

  /**
   * Takes a healthy node out of rotation; false if it already was out. When a node dies with many
   * calls in flight, exactly one of them learns it first.
   */
  public boolean takeOut(String reason) {
    return unhealthy.compareAndSet(null, reason == null ? "unhealthy" : reason);
  }

  /**
   * A health check that got no answer (timeout, connection refused). As Kubernetes' probes have a
   * failure threshold, one slow answer on a busy machine does not take a node out of rotation: it
   * takes {@link #FAILURE_THRESHOLD} in a row, or one definite NOT_SERVING ({@link
   * #markUnhealthy}). A node never seen healthy is out at once.
   */
  public void missedHealthCheck(String reason) {
    int missed = ++missedChecks;
    if (missed >= FAILURE_THRESHOLD || unhealthy.get() != null) {
      markUnhealthy(reason);
    }
  }

  /** Consecutive health checks without an answer before a node is taken out. */
  public static final int FAILURE_THRESHOLD = 2;

  private volatile int missedChecks;

  public int outstanding() {
    return outstanding.get();
  }

  void begin() {
    outstanding.incrementAndGet();
  }

  void end() {
    outstanding.decrementAndGet();
  }

  /** What the node hosts, by {@code name@version}. */
  public Map<String, FunctionInfo> functions() {
    return functions;
  }

  public void functions(Map<String, FunctionInfo> byQualifiedName) {
    this.functions = Map.copyOf(byQualifiedName);
  }

  /** How messages name the node: {@code node-2 at 10.0.0.7:7443}. */
  public String describe() {
    return nodeId.isEmpty() ? "node at " + address : "node " + nodeId + " at " + address;
  }

  @Override
  public String toString() {
    return describe();
  }
}
