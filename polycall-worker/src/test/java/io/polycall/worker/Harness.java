package io.polycall.worker;

import io.polycall.wire.WireLimits;
import io.polycall.wire.proto.Role;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A hub socket in a fresh 0700 directory, and helpers to connect real peers to it: both ends are
 * real {@link Connection}s over a real Unix-domain socket, or one end is a raw channel a test
 * scripts byte by byte.
 */
final class Harness implements AutoCloseable {
  static final long WAIT_SECONDS = 30;

  final SocketDirectory dir;
  final UnixDomainSocketAddress address;
  final ServerSocketChannel server;
  final WorkerSecrets secrets = new WorkerSecrets();
  WireLimits limits = WireLimits.DEFAULT;

  /** Shared-memory rings of this many bytes each way for every connection; 0 for none. */
  int ringBytes;

  /** How long callers poll the ring (Connection.Builder#spinNanos). */
  long spinNanos = Connection.SPIN_NANOS;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  Harness() throws IOException {
    dir = SocketDirectory.create(null, "polycall-test-");
    address = UnixDomainSocketAddress.of(dir.socket("hub.sock"));
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(address);
  }

  /** Both ends of one connection. */
  record Pair(Connection hub, Connection worker, SocketChannel workerChannel) {}

  /** Connects a worker with a registered secret; the hub and worker run the given handlers. */
  Pair connect(String workerId, CallHandler hubHandler, CallHandler workerHandler)
      throws Exception {
    return connect(workerId, hubHandler, workerHandler, ConnectionListener.none());
  }

  Pair connect(
      String workerId,
      CallHandler hubHandler,
      CallHandler workerHandler,
      ConnectionListener hubListener)
      throws Exception {
    byte[] secret = secrets.register(workerId);
    CompletableFuture<Connection> hub = acceptOne(hubHandler, hubListener);
    SocketChannel ch = connectRaw();
    Handshake.Welcomed w =
        Handshake.connect(ch, PeerCredentials.worker(workerId, secret), ringBytes > 0);
    Connection worker =
        track(
            Connection.builder(ch)
                .name("worker-" + workerId)
                .reader(w.reader())
                .limits(w.limits())
                .rings(w.rings())
                .spinNanos(spinNanos)
                .handler(workerHandler)
                .start());
    return new Pair(await(hub), worker, ch);
  }

  /** Accepts one connection, runs the hub handshake and starts a Connection on it. */
  CompletableFuture<Connection> acceptOne(CallHandler handler, ConnectionListener listener) {
    CompletableFuture<Connection> hub = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                SocketChannel ch = server.accept();
                Handshake.Accepted a =
                    Handshake.accept(
                        ch,
                        secrets,
                        true,
                        limits,
                        "test-hub",
                        ringBytes > 0 ? Handshake.RingFactory.in(dir.path(), ringBytes) : null);
                hub.complete(
                    track(
                        Connection.builder(ch)
                            .name("hub")
                            .reader(a.reader())
                            .limits(a.limits())
                            .rings(a.rings())
                            .spinNanos(spinNanos)
                            .handler(handler)
                            .listener(listener)
                            .start()));
              } catch (Throwable t) {
                hub.completeExceptionally(t);
              }
            });
    return hub;
  }

  /** A raw connected channel, for tests that script the peer's bytes. */
  SocketChannel connectRaw() throws IOException {
    SocketChannel ch = SocketChannel.open(address);
    toClose.add(ch);
    return ch;
  }

  /** A raw channel that completed the handshake as a client. */
  Handshake.Welcomed rawClient(SocketChannel ch) throws IOException {
    return Handshake.connect(
        ch, new PeerCredentials(Role.CLIENT, "", null, "test", "0", ProcessHandle.current().pid()));
  }

  private <T extends AutoCloseable> T track(T t) {
    synchronized (toClose) {
      toClose.add(t);
    }
    return t;
  }

  static <T> T await(CompletableFuture<T> f)
      throws InterruptedException, ExecutionException, TimeoutException {
    return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    List<AutoCloseable> all;
    synchronized (toClose) {
      all = new ArrayList<>(toClose);
    }
    for (AutoCloseable c : all) {
      c.close();
    }
    for (AutoCloseable c : all) {
      if (c instanceof Connection conn) {
        conn.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
      }
    }
    server.close();
    dir.close();
  }

  /**
   * The functions both sides of the connection tests serve: "add" (sum of i64 args), "countdown"
   * (re-entrant: calls itself back across the connection), "big" (n zero bytes), "block" (counts
   * {@code started} down, waits until interrupted, then counts {@code interrupted} down) and "fail"
   * (FAILED_PRECONDITION).
   */
  static CallHandler testFunctions(
      java.util.concurrent.CountDownLatch started,
      java.util.concurrent.CountDownLatch interrupted) {
    return call ->
        switch (call.function()) {
          case "add" -> {
            long sum = 0;
            for (io.polycall.Value v : call.args()) {
              sum += ((io.polycall.Value.Int) v).value();
            }
            yield io.polycall.Value.i64(sum);
          }
          case "countdown" -> {
            long n = ((io.polycall.Value.Int) call.args().getFirst()).value();
            if (n == 0) {
              yield io.polycall.Value.i64(0);
            }
            io.polycall.Value rest =
                await(call.connection().call("countdown", List.of(io.polycall.Value.i64(n - 1))));
            yield io.polycall.Value.i64(1 + ((io.polycall.Value.Int) rest).value());
          }
          case "big" ->
              io.polycall.Value.bytes(
                  new byte[(int) ((io.polycall.Value.Int) call.args().getFirst()).value()]);
          case "block" -> {
            started.countDown();
            try {
              new java.util.concurrent.CountDownLatch(1).await();
              yield io.polycall.Value.NULL;
            } catch (InterruptedException e) {
              interrupted.countDown();
              throw e;
            }
          }
          case "fail" ->
              throw io.polycall.Status.FAILED_PRECONDITION
                  .withDescription("told to fail")
                  .asException();
          default ->
              throw io.polycall.Status.NOT_FOUND
                  .withDescription("no function " + call.function())
                  .asException();
        };
  }

  /**
   * {@link #testFunctions(java.util.concurrent.CountDownLatch,
   * java.util.concurrent.CountDownLatch)} with latches nobody reads.
   */
  static CallHandler testFunctions() {
    return testFunctions(
        new java.util.concurrent.CountDownLatch(1), new java.util.concurrent.CountDownLatch(1));
  }
}
