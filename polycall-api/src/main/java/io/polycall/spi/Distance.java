package io.polycall.spi;

/**
 * How far a call travels to reach a function, nearest first. When the same {@code name@version} is
 * registered at several distances, the registry answers with the nearest and keeps the others
 * behind it: a function that a remote node also offers is still called in process, and the remote
 * one answers again when the local one is unregistered (a worker pool drained, a peer's function
 * used as a fallback). At one distance a {@code name@version} has one owner.
 *
 * <p>The order of the constants is the order of preference ({@link #compareTo}).
 */
public enum Distance {
  /** In this JVM: a Java method, a native symbol, a WebAssembly export. */
  IN_PROCESS,
  /** A worker process of this node (Python, Node), over a Unix socket. */
  WORKER,
  /** Another node, over the network. */
  REMOTE;

  /** True if a function at this distance is preferred over one at {@code other}. */
  public boolean isNearerThan(Distance other) {
    return compareTo(other) < 0;
  }
}
