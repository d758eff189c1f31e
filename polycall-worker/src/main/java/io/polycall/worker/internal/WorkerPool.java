package io.polycall.worker.internal;

import io.polycall.CallContext;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Registry;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BatchInvoker;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Distance;
import io.polycall.wire.proto.Announce;
import io.polycall.wire.proto.FunctionDecl;
import io.polycall.wire.proto.Withdraw;
import io.polycall.worker.BatchCall;
import io.polycall.worker.CallHandler;
import io.polycall.worker.Connection;
import io.polycall.worker.ConnectionListener;
import io.polycall.worker.WorkerSecrets;
import io.polycall.worker.WorkerSpec;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The processes of one {@link WorkerSpec}: spawns them, restarts them with backoff when they die,
 * registers the functions they announce, and dispatches each call to the least busy ready process
 * that hosts the function.
 *
 * <p>Thread-safe. Calls block the calling (virtual) thread until the worker answers, the deadline
 * passes, or the worker dies; a dead worker's calls fail with UNAVAILABLE naming its exit code or
 * signal.
 */
public final class WorkerPool {
  private static final System.Logger LOG = System.getLogger("io.polycall.worker");
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  /** A process that stayed up this long resets the backoff: its death is not a crash loop. */
  private static final long STABLE_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final WorkerSpec spec;
  private final Registry registry;
  private final Caller caller;
  private final WorkerSecrets secrets;
  private final Path socket;
  private final WorkerProcess[] slots;
  private final int[] failures;
  private final Map<String, BoundFunction> registered = new ConcurrentHashMap<>();
  private final AtomicInteger spawned = new AtomicInteger();
  private volatile boolean stopping;

  public WorkerPool(
      WorkerSpec spec, Registry registry, Caller caller, WorkerSecrets secrets, Path socket) {
    this.spec = spec;
    this.registry = registry;
    this.caller = caller;
    this.secrets = secrets;
    this.socket = socket;
    this.slots = new WorkerProcess[spec.processes()];
    this.failures = new int[spec.processes()];
  }

  public WorkerSpec spec() {
    return spec;
  }

  /** Starts every process; does not wait for them to connect. */
  public void start() {
    for (int i = 0; i < slots.length; i++) {
      spawn(i);
    }
  }

  /** Waits until every process has announced its functions; false if the time ran out. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (WorkerProcess p : snapshot()) {
        all &= p != null && p.ready && p.isAlive();
      }
      if (all) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  private WorkerProcess[] snapshot() {
    synchronized (slots) {
      return slots.clone();
    }
  }

  private void spawn(int slot) {
    if (stopping) {
      return;
    }
    String id = spec.name() + "-" + slot;
    byte[] secret = secrets.register(id);
    ProcessBuilder pb = new ProcessBuilder(spec.command());
    if (spec.workingDirectory() != null) {
      pb.directory(spec.workingDirectory().toFile());
    }
    // A clean environment: only what a runtime needs to start, the pool's own variables, and the
    // three that tell the worker where to connect and how to prove itself.
    Map<String, String> env = pb.environment();
    Map<String, String> inherited = Map.copyOf(env);
    env.clear();
    for (String keep : List.of("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")) {
      if (inherited.containsKey(keep)) {
        env.put(keep, inherited.get(keep));
      }
    }
    env.putAll(spec.environment());
    env.put("POLYCALL_SOCKET", socket.toString());
    env.put("POLYCALL_WORKER_ID", id);
    env.put("POLYCALL_WORKER_SECRET", WorkerSecrets.toHex(secret));
    env.put("PYTHONUNBUFFERED", "1");
    WorkerProcess p;
    try {
      p = new WorkerProcess(id, pb.start());
    } catch (IOException e) {
      LOG.log(
          Level.ERROR,
          "cannot start worker "
              + id
              + " ("
              + String.join(" ", spec.command())
              + "): "
              + e.getMessage());
      scheduleRestart(slot, null);
      return;
    }
    spawned.incrementAndGet();
    synchronized (slots) {
      slots[slot] = p;
    }
    LOG.log(
        Level.INFO,
        "started worker {0} (pid {1}): {2}",
        id,
        p.process.pid(),
        String.join(" ", spec.command()));
    WorkerProcess started = p;
    p.process.onExit().thenRun(() -> onExit(slot, started));
    Thread.ofVirtual().name("polycall-" + id + "-start-watch").start(() -> watchStart(started));
  }

  /** A process that neither connects nor announces within the start timeout is killed. */
  private void watchStart(WorkerProcess p) {
    try {
      long deadline = System.nanoTime() + spec.startTimeout().toNanos();
      while (!p.ready && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      if (!p.ready && p.isAlive() && !stopping) {
        LOG.log(
            Level.WARNING,
            "worker {0} did not announce within {1}; killing it",
            p.id,
            spec.startTimeout());
        p.kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void onExit(int slot, WorkerProcess p) {
    p.ready = false;
    secrets.release(p.id);
    Connection c = p.connection();
    if (c != null) {
      c.shutdownNow();
    }
    if (stopping) {
      return;
    }
    LOG.log(Level.WARNING, "worker {0} {1}", p.id, p.exitDescription(0));
    scheduleRestart(slot, p);
  }

  private void scheduleRestart(int slot, WorkerProcess dead) {
    if (stopping) {
      return;
    }
    long delay;
    synchronized (failures) {
      if (dead != null && System.nanoTime() - dead.startedNanos > STABLE_NANOS) {
        failures[slot] = 0;
      }
      delay = Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(failures[slot], 10));
      failures[slot]++;
    }
    Thread.ofVirtual()
        .name("polycall-" + spec.name() + "-" + slot + "-restart")
        .start(
            () -> {
              try {
                Thread.sleep(delay);
                spawn(slot);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  /** The process this worker id belongs to, if it is current. */
  WorkerProcess byId(String id) {
    for (WorkerProcess p : snapshot()) {
      if (p != null && p.id.equals(id)) {
        return p;
      }
    }
    return null;
  }

  /** Wires a worker's authenticated connection: nested calls in, announces registered. */
  public Connection attach(String workerId, Connection.Builder builder) {
    WorkerProcess p = byId(workerId);
    if (p == null) {
      throw Status.UNAUTHENTICATED
          .withDescription("no worker " + workerId + " is expected")
          .asException();
    }
    CallHandler nested =
        call -> {
          // A nested call runs as the worker itself, whatever its caller was allowed: a worker
          // never gains the rights of the call that reached it (issue 5, zero trust).
          CallOptions o = CallOptions.DEFAULT.withIdentity(Identity.worker(spec.name(), workerId));
          if (call.timeoutNanos() > 0) {
            o = o.withDeadlineAfter(Duration.ofNanos(call.timeoutNanos()));
          }
          for (var e : call.metadata().entrySet()) {
            o = o.withMetadata(e.getKey(), e.getValue());
          }
          return caller.call(call.function(), call.args(), o);
        };
    Connection c =
        builder
            .name(workerId)
            .handler(nested)
            .listener(
                new ConnectionListener() {
                  @Override
                  public void onAnnounce(Connection connection, Announce announce) {
                    announced(p, announce);
                  }

                  @Override
                  public void onWithdraw(Connection connection, Withdraw withdraw) {
                    Set<String> now = new HashSet<>(p.functions);
                    now.removeAll(withdraw.getNamesList());
                    p.functions = Set.copyOf(now);
                  }

                  @Override
                  public void onClosed(Connection connection, Status reason) {
                    p.ready = false;
                  }
                })
            .start();
    p.connected.complete(c);
    return c;
  }

  private void announced(WorkerProcess p, Announce announce) {
    Set<String> names = new HashSet<>(p.functions);
    for (FunctionDecl d : announce.getFunctionsList()) {
      Signature sig;
      try {
        sig = Signature.parse(d.getSignature());
      } catch (StatusException e) {
        LOG.log(
            Level.WARNING, "worker {0} announced a bad signature, skipped: {1}", p.id, e.status());
        continue;
      }
      names.add(sig.name());
      int version = Math.max(1, d.getVersion());
      registered.computeIfAbsent(
          sig.name() + "@" + version,
          k -> {
            FunctionInfo info =
                new FunctionInfo(
                    sig, version, spec.language(), Set.copyOf(d.getTagsList()), d.getDoc());
            BoundFunction bound =
                BoundFunction.of(info, new PoolInvoker(sig.name())).withDistance(Distance.WORKER);
            try {
              registry.register(bound);
            } catch (StatusException e) {
              LOG.log(
                  Level.WARNING,
                  "worker {0}: cannot register {1}: {2}",
                  p.id,
                  info.qualifiedName(),
                  e.status());
              return null;
            }
            return bound;
          });
    }
    p.functions = Set.copyOf(names);
    p.ready = true;
  }

  /** Calls of one function of the pool: one at a time, or many in one frame per process. */
  private final class PoolInvoker implements BatchInvoker {
    private final String function;

    PoolInvoker(String function) {
      this.function = function;
    }

    @Override
    public Value invoke(Value[] args, CallContext ctx) throws Exception {
      return dispatch(function, args, ctx);
    }

    @Override
    public List<Outcome> invokeAll(List<Value[]> calls, CallContext ctx) throws Exception {
      return dispatchBatch(function, calls, ctx);
    }
  }

  /**
   * Runs many calls of {@code function} as one {@code Batch} frame per ready process that hosts it,
   * the calls split in contiguous runs across those processes. A process that fails as a whole
   * (dies, closes) fails only the calls it was given.
   */
  List<BatchInvoker.Outcome> dispatchBatch(String function, List<Value[]> calls, CallContext ctx)
      throws Exception {
    List<WorkerProcess> hosts = new ArrayList<>();
    for (WorkerProcess p : snapshot()) {
      if (p != null && p.ready && p.isAlive() && p.functions.contains(function)) {
        Connection c = p.connection();
        if (c != null && !c.isShutdown()) {
          hosts.add(p);
        }
      }
    }
    if (hosts.isEmpty()) {
      // None ready: one ordinary call waits for a (re)starting process within the start timeout.
      hosts.add(pick(function, ctx));
      hosts.getFirst().inFlight.decrementAndGet();
    }
    // Split the calls in contiguous runs, each within its process's room under maxInFlight.
    List<WorkerProcess> used = new ArrayList<>(hosts.size());
    List<CompletableFuture<List<BatchInvoker.Outcome>>> futures = new ArrayList<>(hosts.size());
    int[] bounds = new int[hosts.size() + 1];
    int next = 0;
    for (int h = 0; h < hosts.size() && next < calls.size(); h++) {
      WorkerProcess p = hosts.get(h);
      int share = Math.ceilDiv(calls.size() - next, hosts.size() - h);
      int room = reserve(p, share);
      if (room == 0) {
        continue;
      }
      List<BatchCall> chunk = new ArrayList<>(room);
      for (Value[] args : calls.subList(next, next + room)) {
        chunk.add(new BatchCall(function, Arrays.asList(args)));
      }
      CompletableFuture<List<BatchInvoker.Outcome>> f;
      try {
        f = p.connection().batch(chunk);
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      next += room;
      used.add(p);
      futures.add(f);
      bounds[used.size()] = next;
    }
    int parts = used.size();
    List<BatchInvoker.Outcome> out = new ArrayList<>(calls.size());
    int k = 0;
    try {
      for (; k < parts; k++) {
        WorkerProcess p = used.get(k);
        int size = bounds[k + 1] - bounds[k];
        List<BatchInvoker.Outcome> results;
        try {
          results = futures.get(k).get();
        } catch (ExecutionException e) {
          Status s = Status.fromThrowable(e.getCause());
          Connection c = p.connection();
          if (s.code() == Status.Code.UNAVAILABLE
              && (!p.isAlive() || c == null || c.isShutdown())) {
            // Name the exit code or signal when the process died under the batch.
            s =
                p.unavailable(
                        spec.name(),
                        p.exitDescription(900) + " while running a batch of " + function)
                    .withCause(e.getCause());
          }
          results = java.util.Collections.nCopies(size, BatchInvoker.Outcome.ofStatus(s));
        }
        p.inFlight.addAndGet(-size);
        out.addAll(results);
      }
    } catch (InterruptedException e) {
      for (; k < parts; k++) {
        futures.get(k).cancel(true);
        used.get(k).inFlight.addAndGet(-(bounds[k + 1] - bounds[k]));
      }
      Thread.currentThread().interrupt();
      throw Status.CANCELLED
          .withDescription("batch of " + function + " on " + spec.name() + " was cancelled")
          .asException();
    }
    if (out.size() < calls.size()) {
      Status full =
          Status.RESOURCE_EXHAUSTED.withDescription(
              "every process of worker pool "
                  + spec.name()
                  + " already has "
                  + spec.maxInFlight()
                  + " calls in flight; retry later or raise maxInFlight");
      while (out.size() < calls.size()) {
        out.add(BatchInvoker.Outcome.ofStatus(full));
      }
    }
    return out;
  }

  /** Takes up to {@code wanted} places under maxInFlight on {@code p}; how many it got. */
  private int reserve(WorkerProcess p, int wanted) {
    while (true) {
      int now = p.inFlight.get();
      int room = Math.min(wanted, spec.maxInFlight() - now);
      if (room <= 0) {
        return 0;
      }
      if (p.inFlight.compareAndSet(now, now + room)) {
        return room;
      }
    }
  }

  /** Runs one call on the least busy ready process that hosts {@code function}. */
  Value dispatch(String function, Value[] args, CallContext ctx) throws Exception {
    WorkerProcess p = pick(function, ctx);
    Connection c = p.connection();
    long timeout = ctx.options().hasDeadline() ? Math.max(1, ctx.options().remainingNanos()) : 0;
    try {
      // A platform thread reads its own result (no hand-off from the reader thread).
      return c.callAndAwait(function, Arrays.asList(args), timeout, ctx.options().metadata());
    } catch (InterruptedException e) {
      // callAndAwait has cancelled the call.
      Thread.currentThread().interrupt();
      throw Status.CANCELLED
          .withDescription("call to " + function + " on " + p.id + " was cancelled")
          .asException();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof StatusException se
          && se.status().code() == Status.Code.UNAVAILABLE
          && (!p.isAlive() || c.isShutdown())) {
        // Name the exit code or signal when the process died under the call.
        throw p.unavailable(spec.name(), p.exitDescription(900) + " while running " + function)
            .withCause(se)
            .asException();
      }
      throw cause instanceof Exception ex ? ex : new RuntimeException(cause);
    } finally {
      p.inFlight.decrementAndGet();
    }
  }

  private WorkerProcess pick(String function, CallContext ctx) throws InterruptedException {
    long waitUntil =
        System.nanoTime()
            + Math.min(spec.startTimeout().toNanos(), Math.max(0, ctx.options().remainingNanos()));
    while (true) {
      WorkerProcess best = null;
      boolean anyHost = false;
      for (WorkerProcess p : snapshot()) {
        if (p == null || !p.ready || !p.isAlive() || !p.functions.contains(function)) {
          continue;
        }
        Connection c = p.connection();
        if (c == null || c.isShutdown()) {
          continue;
        }
        anyHost = true;
        if (p.inFlight.get() < spec.maxInFlight()
            && (best == null || p.inFlight.get() < best.inFlight.get())) {
          best = p;
        }
      }
      if (best != null) {
        if (best.inFlight.incrementAndGet() <= spec.maxInFlight()) {
          return best;
        }
        best.inFlight.decrementAndGet();
        continue;
      }
      if (anyHost) {
        throw Status.RESOURCE_EXHAUSTED
            .withDescription(
                "every process of worker pool "
                    + spec.name()
                    + " already has "
                    + spec.maxInFlight()
                    + " calls in flight; retry later or raise maxInFlight")
            .asException();
      }
      if (stopping || System.nanoTime() >= waitUntil) {
        throw Status.UNAVAILABLE
            .withDescription(
                "no process of worker pool "
                    + spec.name()
                    + " is ready to run "
                    + function
                    + (stopping ? " (shutting down)" : " (restarting?)"))
            .asException();
      }
      Thread.sleep(5); // a worker is (re)starting: wait for it within the deadline
    }
  }

  /** Pings every ready process; one that misses three pings in a row is killed and restarted. */
  public void pingAll(Duration timeout) {
    for (WorkerProcess p : snapshot()) {
      if (p == null || !p.ready) {
        continue;
      }
      Connection c = p.connection();
      if (c == null) {
        continue;
      }
      try {
        c.ping().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        p.missedPings.set(0);
      } catch (TimeoutException | ExecutionException e) {
        if (p.missedPings.incrementAndGet() >= 3 && !stopping) {
          LOG.log(Level.WARNING, "worker {0} missed 3 pings; killing it", p.id);
          p.kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Process ids of the current processes, for tests and status pages. */
  public List<Long> pids() {
    List<Long> out = new ArrayList<>();
    for (WorkerProcess p : snapshot()) {
      if (p != null && p.isAlive()) {
        out.add(p.process.pid());
      }
    }
    return out;
  }

  /** What the shared-memory rings of each connected process carried so far. */
  public List<Connection.RingStats> ringStats() {
    List<Connection.RingStats> out = new ArrayList<>();
    for (WorkerProcess p : snapshot()) {
      Connection c = p == null ? null : p.connection();
      if (c != null) {
        out.add(c.ringStats());
      }
    }
    return out;
  }

  /** How many processes were started in all, restarts included. */
  public int spawnCount() {
    return spawned.get();
  }

  /**
   * Unregisters the pool's functions, asks every process to drain (GoAway), waits up to {@code
   * grace}, then kills what is left. Idempotent.
   */
  public void shutdown(Duration grace) {
    stopping = true;
    registered.values().forEach(registry::unregister);
    registered.clear();
    WorkerProcess[] ps = snapshot();
    for (WorkerProcess p : ps) {
      if (p != null && p.connection() != null) {
        p.connection().shutdown();
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (WorkerProcess p : ps) {
      if (p == null) {
        continue;
      }
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!p.process.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.process.destroy();
          if (!p.process.waitFor(1, TimeUnit.SECONDS)) {
            p.process.destroyForcibly();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.process.destroyForcibly();
      }
      secrets.remove(p.id);
    }
  }
}
