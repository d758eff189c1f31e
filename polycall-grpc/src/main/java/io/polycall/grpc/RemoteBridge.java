package io.polycall.grpc;

import io.polycall.FunctionInfo;
import io.polycall.Registry;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.grpc.internal.GrpcPeerConnection;
import io.polycall.grpc.internal.Peer;
import io.polycall.grpc.internal.PeerConnection;
import io.polycall.grpc.internal.RetryBudget;
import io.polycall.grpc.internal.Router;
import io.polycall.spi.BatchInvoker;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Bridge;
import io.polycall.spi.Distance;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Attaches other nodes: their functions appear in this node's registry with bridge {@code remote}
 * (behind any local function of the same {@code name@version}, see {@link Distance}) and calls to
 * them are routed to a node that hosts them, least outstanding requests first, skipping nodes that
 * fail the standard gRPC health check; a function tagged {@code idempotent} is retried on another
 * node within a {@linkplain RetryBudget retry budget}.
 *
 * <p>Nodes come from a static list of {@code host:port} and from a DNS name that resolves to many
 * addresses (a Kubernetes headless service), resolved again every refresh interval. Each refresh
 * also asks every node what it hosts ({@code ListFunctions} with {@code local_only}), so a call is
 * never routed through a second hop; a node that answers with this node's own id is ignored (a
 * headless service lists the node itself).
 *
 * {@snippet :
 * RemoteBridge remote = RemoteBridge.builder(pc.registry(), "node-1")
 *     .peers(List.of("10.0.0.2:7443"))
 *     .dns("polycall-peers.default.svc.cluster.local:7443")
 *     .build();
 * remote.start();
 * pc.call("py.stats.mean", xs);   // runs wherever it is hosted
 * }
 *
 * <p>Thread-safe. {@link #start} and {@link #refresh} block for one round of discovery; {@link
 * #close} is idempotent.
 */
public final class RemoteBridge implements Bridge {
  private static final System.Logger LOG = System.getLogger(RemoteBridge.class.getName());
  public static final String NAME = "remote";

  private final Registry registry;
  private final String selfId;
  private final List<String> staticPeers;
  private final String dns;
  private final Duration healthInterval;
  private final Duration refreshInterval;
  private final Function<String, PeerConnection> connector;
  private final Resolver resolver;
  private final Path tokenFile;
  private volatile String token;
  private final Router router;
  private final Map<String, Peer> peers = new ConcurrentHashMap<>();
  private final Map<String, BoundFunction> registered = new HashMap<>();
  private final Object syncLock = new Object();
  private ScheduledExecutorService timer;
  private volatile boolean closed;

  private RemoteBridge(Builder b) {
    this.registry = b.registry;
    this.selfId = b.selfId;
    this.staticPeers = List.copyOf(b.peers);
    this.dns = b.dns;
    this.healthInterval = b.healthInterval;
    this.refreshInterval = b.refreshInterval;
    this.tokenFile = b.tokenFile;
    this.connector =
        b.tokenFile == null
            ? b.connector
            : a -> {
              PeerConnection c = b.connector.apply(a);
              if (c instanceof GrpcPeerConnection g) {
                g.tokenSource(() -> token);
              }
              return c;
            };
    this.resolver = b.resolver;
    this.router = new Router(b.budget);
  }

  /**
   * @param registry where remote functions are registered
   * @param selfId this node's id, so that the node never routes to itself
   */
  public static Builder builder(Registry registry, String selfId) {
    return new Builder(registry, selfId);
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Runs the first discovery round (blocking), then refreshes and checks health periodically. */
  public synchronized void start() {
    if (timer != null) {
      return;
    }
    timer =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("polycall-remote").factory());
    refresh();
    timer.scheduleWithFixedDelay(
        this::safeRefresh,
        refreshInterval.toMillis(),
        refreshInterval.toMillis(),
        TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(
        this::safeCheckHealth,
        healthInterval.toMillis(),
        healthInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * One discovery round, now: resolves the addresses, checks every node's health, learns what each
   * hosts and updates the registry. Blocks until every node answered or timed out.
   */
  public void refresh() {
    synchronized (syncLock) {
      if (closed) {
        return;
      }
      readToken();
      updatePeers(resolve());
      checkHealth();
      List<Thread> threads = new ArrayList<>();
      for (Peer p : peers.values()) {
        threads.add(Thread.ofVirtual().name("polycall-remote-list").start(() -> learn(p)));
      }
      joinAll(threads);
      syncRegistry();
    }
  }

  /** Tokens expire and are replaced in place (a Kubernetes projected token): read each round. */
  private void readToken() {
    if (tokenFile == null) {
      return;
    }
    try {
      String t = java.nio.file.Files.readString(tokenFile).strip();
      token = t.isEmpty() ? null : t;
    } catch (java.io.IOException e) {
      LOG.log(
          Level.WARNING,
          "cannot read the peers token file {0}: {1}; keeping the token read before",
          tokenFile,
          e.toString());
    }
  }

  /** Checks every node's health now, in parallel; blocks until each answered or timed out. */
  public void checkHealth() {
    List<Thread> threads = new ArrayList<>();
    for (Peer p : peers.values()) {
      threads.add(Thread.ofVirtual().name("polycall-remote-health").start(() -> check(p)));
    }
    joinAll(threads);
  }

  /** What this bridge knows of each node, for status pages and tests. */
  public List<PeerStatus> peers() {
    List<PeerStatus> out = new ArrayList<>();
    for (Peer p : peers.values()) {
      out.add(
          new PeerStatus(
              p.address(),
              p.nodeId(),
              p.isHealthy(),
              p.unhealthyReason(),
              p.outstanding(),
              p.functions().keySet().stream().sorted().toList()));
    }
    out.sort(java.util.Comparator.comparing(PeerStatus::address));
    return out;
  }

  /** The tokens left in the retry budget. */
  public double retryTokens() {
    return router.budget().tokens();
  }

  /**
   * One node as this bridge sees it.
   *
   * @param unhealthyReason why it is skipped, or null when healthy
   * @param functions what it hosts, as {@code name@version}
   */
  public record PeerStatus(
      String address,
      String nodeId,
      boolean healthy,
      String unhealthyReason,
      int outstanding,
      List<String> functions) {}

  /** Withdraws every remote function from the registry and closes the channels. Idempotent. */
  @Override
  public void close() {
    synchronized (syncLock) {
      if (closed) {
        return;
      }
      closed = true;
      for (BoundFunction f : registered.values()) {
        registry.unregister(f);
      }
      registered.clear();
      router.hosts(Map.of());
      peers.values().forEach(p -> p.connection().close());
      peers.clear();
    }
    synchronized (this) {
      if (timer != null) {
        timer.shutdownNow();
      }
    }
  }

  // ---- discovery -------------------------------------------------------------------------------

  /** Static peers as written, then the DNS name's addresses (as ip:port), without duplicates. */
  private Set<String> resolve() {
    Set<String> out = new LinkedHashSet<>(staticPeers);
    if (dns != null) {
      HostPort hp = HostPort.parse(dns);
      try {
        for (InetAddress a : resolver.resolve(hp.host())) {
          out.add(HostPort.format(a.getHostAddress(), hp.port()));
        }
      } catch (UnknownHostException e) {
        // Pods not ready yet, or a DNS outage: keep the nodes we had rather than drop them all.
        LOG.log(Level.WARNING, "cannot resolve peers {0}: {1}", dns, e.getMessage());
        peers.keySet().stream().filter(a -> !staticPeers.contains(a)).forEach(out::add);
      }
    }
    return out;
  }

  private void updatePeers(Set<String> addresses) {
    for (String a : addresses) {
      peers.computeIfAbsent(a, k -> new Peer(k, connector.apply(k)));
    }
    for (String a : List.copyOf(peers.keySet())) {
      if (!addresses.contains(a)) {
        Peer gone = peers.remove(a);
        LOG.log(Level.INFO, "{0} left the peer list", gone);
        gone.connection().close();
      }
    }
  }

  private void learn(Peer p) {
    try {
      PeerConnection.Advertisement ad = p.connection().listLocal(probeTimeout(refreshInterval));
      p.nodeId(ad.nodeId());
      Map<String, FunctionInfo> byName = new LinkedHashMap<>();
      for (FunctionInfo f : ad.functions()) {
        byName.put(f.qualifiedName(), f);
      }
      p.functions(byName);
    } catch (PeerConnection.NodeUnavailableException e) {
      // Keep what it hosted: calls to it fail with UNAVAILABLE naming it (or go to another
      // node), which says more than NOT_FOUND would.
      p.markUnhealthy("cannot list its functions: " + e.getMessage());
    }
  }

  private void check(Peer p) {
    PeerConnection.Health h = p.connection().checkHealth(probeTimeout(healthInterval));
    boolean was = p.isHealthy();
    if (h.serving()) {
      p.markHealthy();
    } else if (h.answered()) {
      p.markUnhealthy("health check: " + h.detail());
    } else {
      p.missedHealthCheck("health check: " + h.detail());
    }
    if (was != p.isHealthy()) {
      LOG.log(
          p.isHealthy() ? Level.INFO : Level.WARNING,
          p.isHealthy() ? "{0} is healthy" : "{0} is out of rotation: {1}",
          p,
          p.unhealthyReason());
    }
  }

  /** The interval, within 1 to 5 s: a first connection on a busy machine takes a while. */
  private static Duration probeTimeout(Duration interval) {
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      return Duration.ofSeconds(1);
    }
    return interval.compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : interval;
  }

  /** Puts the union of what the nodes host into the registry and the router. */
  private void syncRegistry() {
    Map<String, List<Peer>> hosts = new HashMap<>();
    Map<String, FunctionInfo> infos = new HashMap<>();
    for (Peer p : peers.values()) {
      if (!selfId.isEmpty() && selfId.equals(p.nodeId())) {
        continue; // ourselves, through the headless service
      }
      for (Map.Entry<String, FunctionInfo> e : p.functions().entrySet()) {
        hosts.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(p);
        infos.putIfAbsent(e.getKey(), e.getValue());
      }
    }
    router.hosts(hosts);
    for (String qn : List.copyOf(registered.keySet())) {
      BoundFunction had = registered.get(qn);
      FunctionInfo now = infos.get(qn);
      if (now == null || !now.equals(had.info())) {
        registry.unregister(had);
        registered.remove(qn);
      }
    }
    for (Map.Entry<String, FunctionInfo> e : infos.entrySet()) {
      if (registered.containsKey(e.getKey())) {
        continue;
      }
      FunctionInfo info = e.getValue();
      BoundFunction f = new BoundFunction(info, new RemoteInvoker(info), null, Distance.REMOTE);
      try {
        registry.register(f);
        registered.put(e.getKey(), f);
      } catch (StatusException ex) {
        LOG.log(Level.WARNING, "cannot register remote {0}: {1}", e.getKey(), ex.status());
      }
    }
  }

  /** Calls go through the router; a batch of one function goes to one node in one round trip. */
  private final class RemoteInvoker implements BatchInvoker {
    private final FunctionInfo info;

    RemoteInvoker(FunctionInfo info) {
      this.info = info;
    }

    @Override
    public io.polycall.Value invoke(io.polycall.Value[] args, io.polycall.CallContext ctx)
        throws Throwable {
      return router.invoke(info, args, ctx);
    }

    @Override
    public List<Outcome> invokeAll(List<io.polycall.Value[]> calls, io.polycall.CallContext ctx)
        throws Throwable {
      return router.invokeAll(info, calls, ctx);
    }
  }

  private void safeRefresh() {
    try {
      refresh();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "peer refresh failed", e);
    }
  }

  private void safeCheckHealth() {
    try {
      checkHealth();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "peer health check failed", e);
    }
  }

  private static void joinAll(List<Thread> threads) {
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Name to addresses; {@link InetAddress#getAllByName} but in tests. */
  @FunctionalInterface
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** {@code host:port}, with IPv6 hosts in brackets. */
  record HostPort(String host, int port) {
    static HostPort parse(String s) {
      int colon = s.lastIndexOf(':');
      if (colon <= 0 || colon == s.length() - 1) {
        throw Status.INVALID_ARGUMENT
            .withDescription("peer '" + s + "' must be host:port, such as 10.0.0.2:7443")
            .asException();
      }
      String host = s.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(s.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw Status.INVALID_ARGUMENT
            .withDescription("peer '" + s + "' has a bad port; use 1 to 65535")
            .asException();
      }
      return new HostPort(host, port);
    }

    static String format(String host, int port) {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** Settings of a {@link RemoteBridge}; the defaults are the config's. */
  public static final class Builder {
    private final Registry registry;
    private final String selfId;
    private List<String> peers = List.of();
    private String dns;
    private Duration healthInterval = Duration.ofSeconds(5);
    private Duration refreshInterval = Duration.ofSeconds(10);
    private RetryBudget budget = RetryBudget.ofDefaults();
    private Function<String, PeerConnection> connector = GrpcPeerConnection::plaintext;
    private Resolver resolver = InetAddress::getAllByName;
    private Path tokenFile;

    private Builder(Registry registry, String selfId) {
      this.registry = Objects.requireNonNull(registry, "registry");
      this.selfId = selfId == null ? "" : selfId;
    }

    /** Nodes as {@code host:port}. */
    public Builder peers(List<String> hostPorts) {
      hostPorts.forEach(HostPort::parse);
      this.peers = List.copyOf(hostPorts);
      return this;
    }

    /** A DNS name whose every address is a node, as {@code name:port}; resolved every refresh. */
    public Builder dns(String nameAndPort) {
      if (nameAndPort != null) {
        HostPort.parse(nameAndPort);
      }
      this.dns = nameAndPort;
      return this;
    }

    public Builder healthInterval(Duration interval) {
      this.healthInterval = positive(interval, "health_interval");
      return this;
    }

    public Builder refreshInterval(Duration interval) {
      this.refreshInterval = positive(interval, "refresh_interval");
      return this;
    }

    /** gRPC's retry throttling: {@code maxTokens} tokens, {@code tokenRatio} back per success. */
    public Builder retryBudget(int maxTokens, double tokenRatio) {
      this.budget = new RetryBudget(maxTokens, tokenRatio);
      return this;
    }

    /**
     * Reach the nodes over TLS: trust {@code caCert} (PEM; null for the JDK's trust store) and, for
     * mutual TLS, present {@code clientCert} and {@code clientKey} (the node's identity on its
     * peers). {@code serverName} is the name their certificates carry when it is not the address
     * dialled (peers found through DNS are dialled by IP); null for the address's host.
     */
    public Builder tls(Path caCert, Path clientCert, Path clientKey, String serverName) {
      io.grpc.ChannelCredentials creds = GrpcClient.tlsCredentials(caCert, clientCert, clientKey);
      this.connector = a -> GrpcPeerConnection.secure(a, creds, serverName);
      return this;
    }

    /**
     * A file holding the bearer token (a JWT) this node presents on its peers, read again every
     * refresh, for peers whose {@code security:} requires authentication. A call that carries its
     * own caller's {@code authorization} forwards that instead.
     */
    public Builder tokenFile(Path file) {
      this.tokenFile = file;
      return this;
    }

    /** How to reach a node ({@code host:port} to a connection); plaintext gRPC by default. */
    public Builder connector(Function<String, PeerConnection> connector) {
      this.connector = Objects.requireNonNull(connector, "connector");
      return this;
    }

    /** For tests: how the DNS name is resolved (a headless service scaling up and down). */
    Builder resolver(Resolver r) {
      this.resolver = Objects.requireNonNull(r, "resolver");
      return this;
    }

    public RemoteBridge build() {
      return new RemoteBridge(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, was " + d);
      }
      return d;
    }
  }
}
