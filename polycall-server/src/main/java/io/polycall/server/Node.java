package io.polycall.server;

import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.core.LoggingInterceptor;
import io.polycall.core.PolyCall;
import io.polycall.core.PolyFunction;
import io.polycall.ffi.NativeBridge;
import io.polycall.ffi.NativeLibrary;
import io.polycall.gateway.HttpGateway;
import io.polycall.grpc.GrpcServer;
import io.polycall.grpc.GrpcTls;
import io.polycall.grpc.RemoteBridge;
import io.polycall.security.AuditLog;
import io.polycall.security.AuthenticationInterceptor;
import io.polycall.security.AuthorizationInterceptor;
import io.polycall.security.LimitsInterceptor;
import io.polycall.security.ListenerSafety;
import io.polycall.security.LocalCaller;
import io.polycall.security.RateLimitInterceptor;
import io.polycall.server.PolyCallConfig.JvmClass;
import io.polycall.server.PolyCallConfig.NativeFunctionSpec;
import io.polycall.server.PolyCallConfig.NativeLibrarySpec;
import io.polycall.server.PolyCallConfig.Safeguards;
import io.polycall.server.PolyCallConfig.WorkerPoolSpec;
import io.polycall.server.internal.Substitution;
import io.polycall.server.internal.WorkerRuntimes;
import io.polycall.spi.BoundFunction;
import io.polycall.worker.WorkerSpec;
import io.polycall.worker.WorkerSupervisor;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts a PolyCall node from a {@link PolyCallConfig}: installs its interceptors, registers its
 * Java classes, binds its native libraries and starts its worker pools (waiting until each pool's
 * processes have announced their functions).
 *
 * {@snippet :
 * try (PolyCall pc = Node.start(PolyCallConfig.load(Path.of("polycall.yaml")))) {
 *   Value r = pc.call("math.add", 1L, 2L);
 * }
 * }
 *
 * <p>Start is all or nothing: when one entry fails, what was already set up is closed and the
 * failure is thrown with the file, line and key path of the entry. Stateless and thread-safe; the
 * returned node is the caller's to close.
 */
public final class Node {
  private static final System.Logger LOG = System.getLogger(Node.class.getName());

  private Node() {}

  /**
   * A node that serves its Unix socket: workers and clients (the SDKs' {@code connect}) use {@link
   * #socketPath}. Closing it closes the node, which drains the workers; idempotent.
   */
  public record Serving(PolyCall node, Path socketPath, HttpGateway http, GrpcServer grpc)
      implements AutoCloseable {
    public Serving(PolyCall node, Path socketPath) {
      this(node, socketPath, null, null);
    }

    public Serving(PolyCall node, Path socketPath, HttpGateway http) {
      this(node, socketPath, http, null);
    }

    /**
     * Stops the gRPC server (health turns NOT_SERVING, calls in flight finish) and the HTTP
     * gateway, then closes the node.
     */
    @Override
    public void close() {
      try {
        if (grpc != null) {
          grpc.close();
        }
      } finally {
        try {
          if (http != null) {
            http.close();
          }
        } finally {
          node.close();
        }
      }
    }
  }

  /**
   * A running node with everything the config declares registered. It opens a Unix socket only when
   * the config has worker pools.
   *
   * @throws StatusException INVALID_ARGUMENT for a class without {@code @PolyFunction} methods or a
   *     malformed native declaration; FAILED_PRECONDITION for a class that cannot be instantiated,
   *     a library that cannot be loaded (unless optional), a symbol it lacks, a worker runtime that
   *     is not installed (unless optional) or a pool that does not announce in time
   */
  public static PolyCall start(PolyCallConfig config) {
    return start(config, false).node();
  }

  /**
   * Like {@link #start}, and the node's Unix socket is open whether or not there are workers, for
   * clients to call the node's functions.
   */
  public static Serving serve(PolyCallConfig config) {
    return start(config, true, false);
  }

  /**
   * Like {@link #serve}; with {@code insecure}, network listeners bound beyond loopback start even
   * without authentication (logged at WARNING), as {@code polycall serve --insecure} asks.
   *
   * @throws StatusException FAILED_PRECONDITION for an exposed listener without authentication
   */
  public static Serving serve(PolyCallConfig config, boolean insecure) {
    return start(config, true, insecure);
  }

  private static Serving start(PolyCallConfig config, boolean socket) {
    return start(config, socket, false);
  }

  private static Serving start(PolyCallConfig config, boolean socket, boolean insecure) {
    if (socket) {
      ListenerSafety.check(listeners(config), config.auth().jwt() != null, insecure);
    }
    PolyCall.Builder builder = PolyCall.builder();
    // audit -> authn -> authz -> limits -> rate limits -> the configured interceptors: every
    // decision is seen by the audit log, and nothing configured runs for a caller who was refused.
    AuthenticationInterceptor authn = authentication(config.auth());
    AuthorizationInterceptor authz = authn == null ? null : authorization(config.auth());
    Safeguards safe = config.safeguards();
    // Opened last of the stages: what can fail above fails before the log's writer thread starts.
    AuditLog audit = openAudit(safe);
    if (audit != null) {
      // Outermost: the audit record sees every decision of the stages after it, refusals too.
      builder.withInterceptor(audit.interceptor());
    }
    if (authn != null) {
      builder.withInterceptor(authn);
      builder.withInterceptor(authz);
    }
    if (safe != null) {
      builder.withInterceptor(new LimitsInterceptor(safe.limits(), safe.functionLimits()));
      if (safe.rateLimits() != null) {
        builder.withInterceptor(new RateLimitInterceptor(safe.rateLimits()));
      }
    }
    for (String name : config.interceptors()) {
      builder.withInterceptor(interceptor(name));
    }
    PolyCall pc = builder.build();
    if (authn != null && config.auth().localIdentity() != null) {
      LOCAL_CALLERS.put(pc, authn.localCaller(pc, config.auth().localIdentity()));
    }
    GrpcServer grpc = null;
    if (audit != null) {
      // Added first, so closed last: the workers' final calls are recorded before the log closes.
      pc.addBridge(closing("audit", audit));
    }
    try {
      for (JvmClass c : config.jvm()) {
        registerClass(pc, c);
      }
      if (!config.natives().isEmpty()) {
        NativeBridge bridge = pc.addBridge(NativeBridge.create(pc.registry()));
        for (NativeLibrarySpec lib : config.natives()) {
          registerLibrary(pc, bridge, lib, config.baseDir(), config.safeguards());
        }
      }
      Path socketPath = null;
      if (socket || !config.workers().isEmpty()) {
        WorkerSupervisor workers = pc.addBridge(openSocket(pc, config));
        socketPath = workers.socketPath();
        startWorkers(workers, config);
      }
      // gRPC before the peers: nodes that list each other as peers find each other serving.
      grpc = socket && config.grpc() != null ? startGrpc(pc, config) : null;
      attachPeers(pc, config);
      HttpGateway http = socket && config.http() != null ? startHttp(pc, config.http()) : null;
      return new Serving(pc, socketPath, http, grpc);
    } catch (RuntimeException | Error e) {
      if (grpc != null) {
        grpc.shutdownNow();
      }
      pc.close();
      throw e;
    }
  }

  /**
   * Starts the gRPC server once the local functions are registered, so its first call (and server
   * reflection) sees them. The server logs "gRPC listening on HOST:PORT".
   */
  private static GrpcServer startGrpc(PolyCall pc, PolyCallConfig config) {
    PolyCallConfig.GrpcSpec spec = config.grpc();
    GrpcServer.Builder b =
        GrpcServer.builder(pc)
            .withListenAddress(new java.net.InetSocketAddress(spec.host(), spec.port()))
            .withNodeId(config.nodeId())
            .withMaxMessageBytes(spec.maxMessageBytes())
            .withKeepalive(spec.keepaliveTime(), spec.keepaliveTimeout())
            .withPermitKeepalive(spec.permitKeepaliveTime(), spec.permitKeepaliveWithoutCalls())
            .withMaxConnectionIdle(spec.maxConnectionIdle());
    PolyCallConfig.GrpcTlsSpec tls = spec.tls();
    if (tls != null) {
      b.withTls(new GrpcTls(tls.cert(), tls.key(), tls.clientCa(), tls.requireClientAuth()));
    }
    try {
      return b.start();
    } catch (java.io.UncheckedIOException | IllegalArgumentException e) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              spec.where()
                  + ": "
                  + e.getMessage()
                  + "; check grpc.listen (a port already in use?) and the grpc.tls files")
          .withCause(e)
          .asException();
    }
  }

  /** Starts the HTTP gateway after everything else, so its first request sees every function. */
  private static HttpGateway startHttp(PolyCall pc, PolyCallConfig.HttpSpec spec) {
    HttpGateway http;
    try {
      http =
          HttpGateway.builder(pc)
              .withListen(spec.host(), spec.port())
              .withMaxBodyBytes(spec.maxBodyBytes())
              .withIdleTimeout(spec.idleTimeout())
              .withWriteTimeout(spec.writeTimeout())
              .start();
    } catch (StatusException e) {
      throw located(spec.where(), e);
    }
    LOG.log(
        Level.INFO,
        "HTTP gateway listening on http://{0}:{1,number,#}",
        hostText(http),
        http.port());
    return http;
  }

  private static String hostText(HttpGateway http) {
    String h = http.address().getAddress().getHostAddress();
    return h.contains(":") ? "[" + h + "]" : h;
  }

  /**
   * Attaches the config's peers last, so that the first discovery round (which blocks until each
   * peer answered or timed out) finds the local functions already registered.
   */
  private static void attachPeers(PolyCall pc, PolyCallConfig config) {
    PolyCallConfig.PeersSpec peers = config.peers();
    if (peers.isEmpty()) {
      return;
    }
    RemoteBridge.Builder b =
        RemoteBridge.builder(pc.registry(), config.nodeId())
            .peers(peers.staticPeers())
            .dns(peers.dns())
            .healthInterval(peers.healthInterval())
            .refreshInterval(peers.refreshInterval())
            .retryBudget(peers.retryMaxTokens(), peers.retryTokenRatio())
            .tokenFile(peers.tokenFile());
    PolyCallConfig.PeersTls tls = peers.tls();
    if (tls != null) {
      try {
        b.tls(tls.ca(), tls.cert(), tls.key(), tls.serverName());
      } catch (java.io.UncheckedIOException | IllegalArgumentException e) {
        throw failedPrecondition(
            peers.where() + ".tls", e.getMessage(), "check the peers.tls files (PEM)", e);
      }
    }
    RemoteBridge remote = pc.addBridge(b.build());
    remote.start();
    LOG.log(
        Level.INFO,
        "attached {0} peer(s): {1}",
        remote.peers().size(),
        remote.peers().stream()
            .map(p -> p.nodeId().isEmpty() ? p.address() : p.nodeId() + "@" + p.address())
            .toList());
  }

  /** The local callers of nodes started here, by node (weakly: a closed node may go). */
  private static final java.util.Map<PolyCall, LocalCaller> LOCAL_CALLERS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /**
   * The caller for in-process calls as the config's {@code security.local_identity}; empty when the
   * config names none (or {@code node} was not started by this class). Transports are never handed
   * it: it is not a {@link io.polycall.Caller}.
   */
  public static Optional<LocalCaller> localCaller(PolyCall node) {
    return Optional.ofNullable(LOCAL_CALLERS.get(node));
  }

  /**
   * The network listeners {@code serve} opens that do not authenticate their callers themselves,
   * for the safe-default check. A gRPC server that requires client certificates (mTLS) does.
   */
  static List<ListenerSafety.Listener> listeners(PolyCallConfig config) {
    List<ListenerSafety.Listener> out = new ArrayList<>();
    PolyCallConfig.HttpSpec http = config.http();
    if (http != null) {
      out.add(new ListenerSafety.Listener(http.where(), hostPort(http.host(), http.port())));
    }
    PolyCallConfig.GrpcSpec grpc = config.grpc();
    boolean mtls = grpc != null && grpc.tls() != null && grpc.tls().requireClientAuth();
    if (grpc != null && !mtls) {
      out.add(new ListenerSafety.Listener(grpc.where(), hostPort(grpc.host(), grpc.port())));
    }
    return out;
  }

  private static String hostPort(String host, int port) {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** The listeners beyond loopback that nothing authenticates (what --insecure lets through). */
  public static List<ListenerSafety.Listener> insecureListeners(PolyCallConfig config) {
    if (config.auth().jwt() != null) {
      return List.of();
    }
    return listeners(config).stream().filter(l -> !ListenerSafety.isLoopback(l.address())).toList();
  }

  /** The authentication stage, or null when the config has no security settings. */
  private static AuthenticationInterceptor authentication(PolyCallConfig.AuthSpec auth) {
    if (!auth.isConfigured()) {
      return null;
    }
    try {
      return auth.jwt() == null
          ? AuthenticationInterceptor.localOnly()
          : AuthenticationInterceptor.jwt(auth.jwt());
    } catch (StatusException e) {
      throw located(auth.where() + ".authentication.jwt", e);
    }
  }

  private static AuthorizationInterceptor authorization(PolyCallConfig.AuthSpec auth) {
    try {
      return AuthorizationInterceptor.watching(auth.policy());
    } catch (StatusException e) {
      throw located(auth.where() + ".policy", e);
    }
  }

  private static AuditLog openAudit(Safeguards safe) {
    if (safe == null || safe.audit() == null) {
      return null;
    }
    try {
      return AuditLog.open(safe.audit());
    } catch (StatusException e) {
      throw located(safe.where() + ".audit", e);
    }
  }

  /**
   * A bridge with no functions whose only job is to close {@code resource} with the node: the node
   * closes its bridges in reverse order of addition, which is the order the audit log needs.
   */
  private static io.polycall.spi.Bridge closing(String name, AutoCloseable resource) {
    return new io.polycall.spi.Bridge() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public void close() {
        try {
          resource.close();
        } catch (Exception e) {
          LOG.log(Level.WARNING, "closing " + name + " failed", e);
        }
      }
    };
  }

  private static WorkerSupervisor openSocket(PolyCall pc, PolyCallConfig config) {
    Path dir = config.socketDir();
    try {
      return dir == null
          ? WorkerSupervisor.start(pc.registry(), pc)
          : WorkerSupervisor.start(pc.registry(), pc, dir);
    } catch (IOException e) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              config.source()
                  + (dir == null ? "" : " socket_dir")
                  + ": cannot open the node's socket in "
                  + (dir == null ? "a temporary directory" : dir)
                  + ": "
                  + e
                  + "; name a directory that does not exist yet (it is created owner-only) or"
                  + " one of yours with mode 0700 (chmod 700), with a short path (Unix socket"
                  + " paths are limited to about 100 bytes)")
          .withCause(e)
          .asException();
    }
  }

  /**
   * Starts the pools one after the other, each waited for within its start timeout, so that a pool
   * that does not come up is named in the failure.
   */
  private static void startWorkers(WorkerSupervisor workers, PolyCallConfig config) {
    List<String> skipped = new ArrayList<>();
    for (WorkerPoolSpec pool : config.workers()) {
      Optional<WorkerSpec> spec = WorkerRuntimes.spec(pool, config.baseDir(), skipped);
      if (spec.isEmpty()) {
        // Optional means "if installed": a missing runtime is an expected state, not a warning.
        LOG.log(Level.INFO, "skipping optional worker pool: {0}", skipped.getLast());
        continue;
      }
      try {
        workers.add(spec.get());
      } catch (StatusException e) {
        throw located(pool.where(), e);
      }
      boolean ready;
      try {
        ready = workers.awaitReady(pool.startTimeout());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Status.CANCELLED
            .withDescription("interrupted while worker pool '" + pool.name() + "' was starting")
            .asException();
      }
      if (!ready) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                pool.where()
                    + ": worker pool '"
                    + pool.name()
                    + "' ("
                    + pool.language()
                    + ") did not announce its functions within "
                    + pool.startTimeout().toMillis() / 1000.0
                    + " s; look at the worker log lines (tagged ["
                    + pool.name()
                    + "-0 pid N]) for the reason, such as an import error; check "
                    + (pool.language().equals("python") ? "'python:', " : "'node:', ")
                    + "'modules' and 'files', or raise 'start_timeout'")
            .asException();
      }
    }
  }

  private static io.polycall.CallInterceptor interceptor(String name) {
    return switch (name) {
      // INFO, not LoggingInterceptor's default DEBUG: whoever turns it on in a config wants to see
      // the calls without also configuring a logging backend.
      case "logging" -> new LoggingInterceptor(System.getLogger("io.polycall.calls"), Level.INFO);
      default ->
          throw Status.INVALID_ARGUMENT
              .withDescription("unknown interceptor '" + name + "'; known: [logging]")
              .asException();
    };
  }

  private static void registerClass(PolyCall pc, JvmClass c) {
    Class<?> type;
    try {
      type = Class.forName(c.className(), true, Thread.currentThread().getContextClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw failedPrecondition(
          c.where(), "cannot load class " + c.className() + ": " + e, "check the class path", e);
    }
    boolean statics = false;
    boolean instances = false;
    for (Class<?> k = type; k != null && k != Object.class; k = k.getSuperclass()) {
      for (Method m : k.getDeclaredMethods()) {
        if (m.isAnnotationPresent(PolyFunction.class)) {
          if (Modifier.isStatic(m.getModifiers())) {
            statics = true;
          } else {
            instances = true;
          }
        }
      }
    }
    if (!statics && !instances) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              c.where()
                  + ": class "
                  + c.className()
                  + " has no @PolyFunction methods; annotate the methods to register, or remove"
                  + " the entry")
          .asException();
    }
    try {
      if (statics) {
        pc.jvm().register(type);
      }
      if (instances) {
        pc.jvm().register(newInstance(type, c));
      }
    } catch (StatusException e) {
      throw located(c.where(), e);
    }
  }

  private static Object newInstance(Class<?> type, JvmClass c) {
    Constructor<?> ctor;
    try {
      ctor = type.getDeclaredConstructor();
    } catch (NoSuchMethodException e) {
      throw failedPrecondition(
          c.where(),
          "class "
              + c.className()
              + " has instance @PolyFunction methods but no no-arg constructor",
          "add a public no-arg constructor, or make the methods static",
          e);
    }
    try {
      ctor.setAccessible(true);
      return ctor.newInstance();
    } catch (InvocationTargetException e) {
      throw failedPrecondition(
          c.where(),
          "new " + c.className() + "() threw " + e.getCause(),
          "fix the constructor",
          e.getCause());
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw failedPrecondition(
          c.where(),
          "cannot make an instance of " + c.className() + ": " + e,
          "make the class and its no-arg constructor public (and the class not abstract)",
          e);
    }
  }

  private static void registerLibrary(
      PolyCall pc, NativeBridge bridge, NativeLibrarySpec spec, Path baseDir, Safeguards safe) {
    String name;
    try {
      name = Substitution.apply(spec.library());
    } catch (StatusException e) {
      if (spec.optional()) {
        LOG.log(Level.DEBUG, "skipping optional library {0}: {1}", spec.library(), e.status());
        return;
      }
      throw located(spec.where(), e);
    }
    if (safe != null && !nativeAllowed(safe.nativeAllow(), resolve(name, baseDir))) {
      // Checked before loading: loading a library runs its initializers, which is the risk.
      throw Status.PERMISSION_DENIED
          .withDescription(
              spec.where()
                  + ": native library "
                  + name
                  + " is not allowed by security.native.allow "
                  + safe.nativeAllow()
                  + "; with security configured nothing native loads unless listed: add its name,"
                  + " file name or path (globs such as libpolycall*.so work) to the list")
          .asException();
    }
    NativeLibrary lib;
    try {
      lib = bridge.load(resolve(name, baseDir));
    } catch (StatusException e) {
      if (spec.optional()) {
        // Optional means "if present": a missing library is an expected state, not a warning.
        LOG.log(Level.DEBUG, "skipping optional library {0}: {1}", spec.library(), e.status());
        return;
      }
      throw located(
          spec.where(),
          e,
          "install the library, fix the name or path, or mark it 'optional: true'");
    }
    for (NativeFunctionSpec f : spec.functions()) {
      try {
        if (f.doc().isEmpty() && f.version() == 0) {
          lib.register(f.declaration());
        } else {
          BoundFunction b = lib.bind(f.declaration());
          FunctionInfo info = b.info();
          if (!f.doc().isEmpty()) {
            info = info.withDoc(f.doc());
          }
          if (f.version() != 0) {
            info = info.withVersion(f.version());
          }
          pc.registry().register(new BoundFunction(info, b.invoker(), b.direct()));
        }
      } catch (StatusException e) {
        throw located(f.where(), e, null);
      }
    }
  }

  /** Whether a glob of the allow-list matches the library's name, file name or path. */
  static boolean nativeAllowed(List<String> allow, String library) {
    String file = Path.of(library).getFileName().toString();
    for (String pattern : allow) {
      io.polycall.security.internal.Glob g = io.polycall.security.internal.Glob.text(pattern);
      if (g.matches(library) || g.matches(file)) {
        return true;
      }
    }
    return false;
  }

  /** A relative path (one with a slash) starts at the config's directory; names stay names. */
  private static String resolve(String library, Path baseDir) {
    if (library.indexOf('/') < 0) {
      return library;
    }
    Path p = Path.of(library);
    return p.isAbsolute() ? library : baseDir.resolve(p).normalize().toString();
  }

  private static StatusException located(String where, StatusException e) {
    return located(where, e, null);
  }

  /**
   * The same failure with the config location in front. NOT_FOUND from the native bridge (no such
   * library, no such symbol) becomes FAILED_PRECONDITION: for a config, it is the machine that
   * lacks something, not the caller that asked for a wrong name.
   */
  private static StatusException located(String where, StatusException e, String fix) {
    Status s = e.status();
    Status.Code code =
        s.code() == Status.Code.NOT_FOUND ? Status.Code.FAILED_PRECONDITION : s.code();
    String desc = where + ": " + s.description() + (fix == null ? "" : "; " + fix);
    return code.toStatus().withDescription(desc).withCause(e).withFrames(s.frames()).asException();
  }

  private static StatusException failedPrecondition(
      String where, String problem, String fix, Throwable cause) {
    return Status.FAILED_PRECONDITION
        .withDescription(where + ": " + problem + "; " + fix)
        .withCause(cause)
        .asException();
  }
}
