package io.polycall.worker;

import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Registry;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Bridge;
import io.polycall.wire.WireLimits;
import io.polycall.wire.proto.Hello;
import io.polycall.worker.internal.SharedRings;
import io.polycall.worker.internal.WorkerPool;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Runs worker processes (Python, Node) and the node's Unix socket. Workers connect to the socket,
 * prove who they are with their per-process secret, and announce their functions, which appear in
 * the registry under the pool's language like any other function; clients (the Python and Node
 * SDKs' {@code connect}) use the same socket to call any function of the node.
 *
 * <pre>
 *   hub.sock in a 0700 directory
 *     <- worker py-0  (secret, Announce)   calls: hub -> worker, nested: worker -> hub -> any bridge
 *     <- worker py-1
 *     <- client       (role CLIENT)        calls: client -> hub -> any bridge
 * </pre>
 *
 * {@snippet :
 * try (PolyCall pc = PolyCall.create();
 *      WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc, socketDir))) {
 *   workers.add(WorkerSpec.python("py", python, List.of("stats")).withProcesses(2));
 *   workers.awaitReady(Duration.ofSeconds(20));
 *   pc.call("stats.mean", Value.ndarray(1, 2, 3));
 * }
 * }
 *
 * <p>Thread-safe. {@link #close} drains and stops every worker; it is idempotent.
 */
public final class WorkerSupervisor implements Bridge {
  private static final System.Logger LOG = System.getLogger("io.polycall.worker");
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  private final Registry registry;
  private final Caller caller;
  private final SocketDirectory directory;
  private final boolean ownsDirectory;
  private final Path socket;
  private final ServerSocketChannel server;
  private final WorkerSecrets secrets = new WorkerSecrets();
  private final WireLimits limits;
  private final Map<String, WorkerPool> pools = new ConcurrentHashMap<>();
  private final List<Connection> clients = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Duration pingInterval;
  private final String nodeId = "node-" + ProcessHandle.current().pid();
  private volatile Path ringDirectory; // where ring files go, found at the first use

  private WorkerSupervisor(
      Registry registry,
      Caller caller,
      SocketDirectory directory,
      boolean ownsDirectory,
      WireLimits limits,
      Duration pingInterval)
      throws IOException {
    this.registry = registry;
    this.caller = caller;
    this.directory = directory;
    this.ownsDirectory = ownsDirectory;
    this.limits = limits;
    this.pingInterval = pingInterval;
    this.socket = directory.socket("hub.sock");
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    registerBuiltins();
    Thread.ofVirtual().name("polycall-hub-accept").start(this::acceptLoop);
    Thread.ofVirtual().name("polycall-hub-health").start(this::healthLoop);
  }

  /**
   * Opens the node's socket in a fresh owner-only directory under the system temp dir.
   *
   * @param caller how calls from workers and clients enter the node (its interceptor chain)
   */
  public static WorkerSupervisor start(Registry registry, Caller caller) throws IOException {
    return new WorkerSupervisor(
        registry,
        caller,
        SocketDirectory.create(Path.of(System.getProperty("java.io.tmpdir")), "polycall-"),
        true,
        WireLimits.DEFAULT,
        Duration.ofSeconds(2));
  }

  /**
   * Opens the node's socket in {@code directory}: created owner-only (0700) if missing; an existing
   * directory that others may enter is refused. The directory stays after {@link #close}; only the
   * socket is removed.
   */
  public static WorkerSupervisor start(Registry registry, Caller caller, Path directory)
      throws IOException {
    return new WorkerSupervisor(
        registry,
        caller,
        SocketDirectory.at(directory),
        false,
        WireLimits.DEFAULT,
        Duration.ofSeconds(2));
  }

  @Override
  public String name() {
    return "workers";
  }

  /** The socket workers and clients connect to. */
  public Path socketPath() {
    return socket;
  }

  /** Starts a pool of worker processes. Its functions appear once a process announces them. */
  public void add(WorkerSpec spec) {
    if (closed.get()) {
      throw Status.FAILED_PRECONDITION
          .withDescription("the worker supervisor is closed")
          .asException();
    }
    WorkerPool pool = new WorkerPool(spec, registry, caller, secrets, socket);
    if (pools.putIfAbsent(spec.name(), pool) != null) {
      throw Status.ALREADY_EXISTS
          .withDescription("a worker pool named " + spec.name() + " exists")
          .asException();
    }
    pool.start();
  }

  /** Waits until every process of every pool has announced; false if the time ran out. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (WorkerPool p : pools.values()) {
      if (!p.awaitReady(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        return false;
      }
    }
    return true;
  }

  /** Waits until every process of one pool has announced; false if the time ran out. */
  public boolean awaitReady(String pool, Duration timeout) throws InterruptedException {
    WorkerPool p = pools.get(pool);
    if (p == null) {
      throw Status.NOT_FOUND.withDescription("no worker pool named " + pool).asException();
    }
    return p.awaitReady(timeout);
  }

  /** The live process ids of a pool. */
  public List<Long> pids(String pool) {
    WorkerPool p = pools.get(pool);
    return p == null ? List.of() : p.pids();
  }

  /** How many processes a pool has started in all, restarts included. */
  public int spawnCount(String pool) {
    WorkerPool p = pools.get(pool);
    return p == null ? 0 : p.spawnCount();
  }

  /**
   * What the shared-memory rings of each connected process of a pool carried so far (WIRE.md,
   * shm-rings/1), for tests and benchmarks.
   */
  public List<Connection.RingStats> ringStats(String pool) {
    WorkerPool p = pools.get(pool);
    return p == null ? List.of() : p.ringStats();
  }

  /** Functions every peer can use: discovery for clients that have no registry of their own. */
  private void registerBuiltins() {
    Signature sig = Signature.parse("polycall.functions(pattern: string) -> list<string>");
    FunctionInfo info =
        new FunctionInfo(
            sig,
            1,
            "jvm",
            Set.of("pure"),
            "Names of the functions matching a glob, with their signatures.");
    if (registry.lookup("polycall.functions").isPresent()) {
      return;
    }
    try {
      registry.register(
          BoundFunction.of(
              info,
              (args, ctx) -> {
                String glob = ((Value.Str) args[0]).value();
                List<Value> out = new ArrayList<>();
                for (FunctionInfo f : registry.list(glob)) {
                  out.add(Value.str(f.signature().toString()));
                }
                return new Value.Seq(out);
              }));
    } catch (StatusException e) {
      // Another supervisor of the same node registered it first.
    }
  }

  private void acceptLoop() {
    while (!closed.get()) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (IOException e) {
        if (!closed.get()) {
          LOG.log(Level.ERROR, "hub socket accept failed: " + e.getMessage());
        }
        return;
      }
      Thread.ofVirtual().name("polycall-hub-handshake").start(() -> handshake(ch));
    }
  }

  private void handshake(SocketChannel ch) {
    // A peer that connects and says nothing must not hold a thread forever.
    Thread watchdog =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(HANDSHAKE_TIMEOUT);
                    ch.close();
                  } catch (InterruptedException | IOException e) {
                    // handshake finished first
                  }
                });
    Handshake.Accepted accepted;
    try {
      accepted = Handshake.accept(ch, secrets, true, limits, nodeId, this::ringsFor);
    } catch (StatusException e) {
      LOG.log(Level.WARNING, "refused a connection: {0}", e.status());
      return;
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "handshake failed: {0}", e.toString());
      closeQuietly(ch);
      return;
    } finally {
      watchdog.interrupt();
    }
    Connection.Builder b =
        Connection.builder(ch)
            .reader(accepted.reader())
            .limits(accepted.limits())
            .rings(accepted.rings());
    if (accepted.role() == io.polycall.wire.proto.Role.WORKER) {
      String id = accepted.workerId();
      WorkerPool pool = pools.get(poolOf(id));
      if (pool == null) {
        LOG.log(Level.WARNING, "worker {0} has no pool; closing", id);
        closeQuietly(ch, accepted.rings());
        return;
      }
      try {
        pool.attach(id, b);
      } catch (StatusException e) {
        LOG.log(Level.WARNING, "worker {0}: {1}", id, e.status());
        closeQuietly(ch, accepted.rings());
      }
      return;
    }
    Identity client = peerIdentity(ch);
    Connection c =
        b.name("client-" + accepted.hello().getPid())
            .handler(
                call -> {
                  CallOptions o = CallOptions.DEFAULT.withIdentity(client);
                  if (call.timeoutNanos() > 0) {
                    o = o.withDeadlineAfter(Duration.ofNanos(call.timeoutNanos()));
                  }
                  for (var e : call.metadata().entrySet()) {
                    o = o.withMetadata(e.getKey(), e.getValue());
                  }
                  return caller.call(call.function(), call.args(), o);
                })
            .listener(
                new ConnectionListener() {
                  @Override
                  public void onClosed(Connection connection, Status reason) {
                    clients.remove(connection);
                  }
                })
            .start();
    clients.add(c);
  }

  private static String poolOf(String workerId) {
    return workerId.substring(0, Math.max(0, workerId.lastIndexOf('-')));
  }

  /**
   * Shared-memory rings for a peer that offers them (WIRE.md, shm-rings/1): for clients and for
   * workers of pools that allow them, unless system property {@code polycall.rings} is {@code
   * false} (read at each handshake, so a benchmark can compare both in one run).
   */
  private SharedRings ringsFor(Hello hello) throws IOException {
    if (!Boolean.parseBoolean(System.getProperty("polycall.rings", "true"))) {
      return null;
    }
    if (hello.getRole() == io.polycall.wire.proto.Role.WORKER) {
      WorkerPool pool = pools.get(poolOf(hello.getWorkerId()));
      if (pool == null || !pool.spec().sharedRings()) {
        return null;
      }
    }
    Path dir = ringDirectory;
    if (dir == null) {
      dir = ringDirectory = SharedRings.directory(directory.path());
    }
    return SharedRings.create(dir, SharedRings.DEFAULT_RING_BYTES);
  }

  /**
   * A client of the socket is the Unix user the kernel says it is (SO_PEERCRED): subject {@code
   * unix:USER}. The socket directory is owner-only, so this is the node's own user unless the
   * directory was shared on purpose.
   */
  private static Identity peerIdentity(SocketChannel ch) {
    try {
      UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
      return new Identity(
          "unix:" + p.user().getName(),
          Identity.UNIX,
          java.util.Map.of("group", p.group().getName()));
    } catch (IOException | UnsupportedOperationException e) {
      return Identity.ANONYMOUS;
    }
  }

  private void healthLoop() {
    while (!closed.get()) {
      try {
        Thread.sleep(pingInterval);
      } catch (InterruptedException e) {
        return;
      }
      for (WorkerPool p : pools.values()) {
        p.pingAll(pingInterval);
      }
    }
  }

  private static void closeQuietly(SocketChannel ch, SharedRings rings) {
    if (rings != null) {
      rings.close();
    }
    closeQuietly(ch);
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  /** Drains every worker (up to 5 seconds), kills what remains, and removes the socket. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (WorkerPool p : pools.values()) {
      p.shutdown(Duration.ofSeconds(5));
    }
    clients.forEach(Connection::shutdownNow);
    try {
      server.close();
      if (ownsDirectory) {
        directory.close();
      } else {
        java.nio.file.Files.deleteIfExists(socket);
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not remove the hub socket: " + e.getMessage());
    }
  }
}
