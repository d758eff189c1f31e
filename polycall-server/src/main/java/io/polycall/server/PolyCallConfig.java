package io.polycall.server;

import io.polycall.Status;
import io.polycall.server.internal.ConfigReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A node's configuration, read from YAML: the Java classes, native libraries and worker pools whose
 * functions it registers, and the interceptors every call passes through. {@link Node#start} builds
 * a running {@link io.polycall.core.PolyCall} from it.
 *
 * <pre>{@code
 * interceptors: [logging]              # optional; 'logging' logs every call (INFO) and failure
 * jvm:                                 # optional; classes with @PolyFunction methods
 *   - class: io.polycall.server.examples.MathFunctions   # instance methods: made with new X()
 *   - io.polycall.server.examples.StatsFunctions         # a bare name is the same as class: X
 * native:                              # optional; shared libraries (the native bridge)
 *   - library: m                       # a name (libm.so.6 found for you) or a path
 *     functions:                       # native declarations, see io.polycall.ffi
 *       - "math.cos(x: f64) -> f64 [critical, pure]"
 *       - declare: "math.pow(x: f64, y: f64) -> f64 [pure]"
 *         doc: x raised to the power y # optional: what 'describe' shows
 *         version: 2                   # optional: registers math.pow@2
 *   - library: ${polycall.testlib.dir}/libpolycalltest.so  # ${name}: system property, then env
 *     optional: true                   # skip it (and its functions) when it cannot be loaded
 *     functions: [...]
 * workers:                             # optional; pools of Python or Node worker processes
 *   - name: pystats                    # the pool's name: worker ids pystats-0, log lines
 *     language: python                 # python | node
 *     files: [workers/stats.py]        # and/or modules: [package.module]
 *     processes: 2                     # optional, default 1; calls go to the least busy
 *     max_in_flight: 64                # optional, default 64 calls per process
 *     env: {OMP_NUM_THREADS: "1"}      # optional, added to the workers' clean environment
 *     python: /usr/bin/python3         # optional; default sdks/python/.venv/bin/python
 *     start_timeout: 20s               # optional; how long a process may take to announce
 *     optional: true                   # skip the pool when its runtime is not installed
 * socket_dir: /run/polycall            # optional; default a fresh owner-only temp directory
 * http:                                # optional; the HTTP gateway, started by 'polycall serve'
 *   listen: 127.0.0.1:8080             # host:port; port 0 picks a free one
 *   max_body_bytes: 16MiB              # optional; larger requests get 413 (also 65536, 512KiB)
 *   idle_timeout: 60s                  # optional; an idle connection is closed
 *   write_timeout: 30s                 # optional; an answer not taken this long drops the client
 * node_id: node-1                      # optional; default $HOSTNAME (the pod name), else node-PID
 * peers:                               # optional; other nodes whose functions this node calls
 *   static: [10.0.0.2:7443]            # host:port of their gRPC servers
 *   dns: polycall-peers:7443           # and/or a name resolving to many (a headless service)
 *   health_interval: 5s                # optional; gRPC health checks of every peer
 *   refresh_interval: 10s              # optional; re-resolve dns, re-list each peer's functions
 *   retry_budget: {max_tokens: 10, token_ratio: 0.1}  # optional; retries of idempotent calls
 *   tls: {ca: ca.pem, cert: node.pem, key: node.key, server_name: polycall}  # optional; TLS/mTLS
 *   token_file: /var/run/secrets/polycall/token  # optional; this node's JWT on secured peers
 * grpc:                                # optional; the gRPC server, started by 'polycall serve'
 *   listen: 127.0.0.1:50051            # host:port; port 0 picks a free one
 *   tls:                               # optional; PEM files, relative to the config's directory
 *     cert: certs/node.crt             # the server's certificate chain
 *     key: certs/node.key              # its private key (PKCS#8)
 *     client_ca: certs/ca.crt          # optional; mutual TLS: client certificates' CA
 *     require_client_auth: true        # optional; default true when client_ca is set
 *   max_message_bytes: 4MiB            # optional; larger requests get RESOURCE_EXHAUSTED
 *   keepalive:                         # optional
 *     time: 2h                         # ping a connection idle this long (gRPC's default)
 *     timeout: 20s                     # drop it when the ping is not answered in time
 *     permit_time: 5m                  # clients may ping no more often than this
 *     permit_without_calls: false      # may clients ping while no call is open
 *     max_idle: 30m                    # close connections without calls for this long
 * security:                            # optional; docs/security.md
 *   authentication:
 *     jwt:                             # bearer tokens in the 'authorization' metadata
 *       audience: polycall             # required: the aud tokens must name
 *       issuer: https://id.example     # optional: the iss tokens must name
 *       jwks_file: keys/jwks.json      # RS256/ES256/HS256 keys, re-read when it changes
 *       hs256_secret_file: keys/hs256  # and/or one HS256 secret (32 bytes or more)
 *       clock_skew: 30s                # optional, default 30s, at most 5m
 *       roles_claim: roles             # optional, default roles
 *   policy: policy.yaml                # who may call what; re-read when it changes
 *   local_identity: app                # optional: in-process calls run as local:app
 * }</pre>
 *
 * <p>A class registers its static {@code @PolyFunction} methods, and its instance ones on an
 * instance made with its public no-arg constructor. A relative library path is relative to the
 * config file's directory.
 *
 * <p>Reading checks everything that can be checked without running anything: the shape of the file
 * (unknown keys, wrong types, missing keys) is INVALID_ARGUMENT, a class missing from the class
 * path FAILED_PRECONDITION. Each message names the file, the line, the key path ({@code
 * native[0].functions[1]}) and what to change. Native declarations are checked when {@link
 * Node#start} binds them, with the same kind of message.
 *
 * <p>Immutable and thread-safe.
 */
public final class PolyCallConfig {
  /** The resource holding the example config, bundled from {@code examples/polycall.yaml}. */
  public static final String BUILT_IN_RESOURCE = "/io/polycall/server/polycall.yaml";

  private final String source;
  private final Path baseDir;
  private final List<String> interceptors;
  private final List<JvmClass> jvm;
  private final List<NativeLibrarySpec> natives;
  private final List<WorkerPoolSpec> workers;
  private final Path socketDir;
  private final HttpSpec http;
  // Not final only so that withSafeguards can derive without a copy constructor of its own;
  // never changed after construction.
  private Safeguards safeguards;
  private final String nodeId;
  private final GrpcSpec grpc;
  private final PeersSpec peers;
  private final AuthSpec auth;

  /**
   * A Java class to register.
   *
   * @param where file, line and key path, for messages: {@code polycall.yaml:7 jvm[0]}
   */
  public record JvmClass(String className, String where) {
    public JvmClass {
      Objects.requireNonNull(className, "className");
    }
  }

  /**
   * A shared library and the functions to register from it.
   *
   * @param library a name ({@code m}), a file name ({@code libz.so.1}) or a path, before {@code
   *     ${...}} substitution
   * @param optional when true, a library that cannot be loaded is skipped instead of failing
   */
  public record NativeLibrarySpec(
      String library, boolean optional, List<NativeFunctionSpec> functions, String where) {
    public NativeLibrarySpec {
      Objects.requireNonNull(library, "library");
      functions = List.copyOf(functions);
    }
  }

  /**
   * One native function.
   *
   * @param declaration in the native bridge's syntax: {@code math.cos(x: f64) -> f64 [pure]}
   * @param doc what {@code describe} shows; empty for none
   * @param version the version to register, or 0 for the default (1)
   */
  public record NativeFunctionSpec(String declaration, String doc, int version, String where) {
    public NativeFunctionSpec {
      Objects.requireNonNull(declaration, "declaration");
      doc = doc == null ? "" : doc;
    }
  }

  /**
   * A pool of worker processes (Python or Node) whose functions the node registers.
   *
   * @param language {@code python} or {@code node}
   * @param modules Python module names, or Node module paths (relative to the config's directory)
   * @param files source files, relative to the config's directory
   * @param runtime the Python interpreter ({@code python}) or the Node worker script ({@code node})
   *     as written in the config; null for the default
   * @param optional when true, a pool whose runtime is not installed is skipped
   * @param sandbox the resource limits its processes start with ({@link Sandbox#NONE}: the node's)
   * @param sharedRings whether processes that offer shared-memory rings get them (spec/WIRE.md)
   */
  public record WorkerPoolSpec(
      String name,
      String language,
      List<String> modules,
      List<String> files,
      int processes,
      int maxInFlight,
      Map<String, String> env,
      String runtime,
      Duration startTimeout,
      boolean optional,
      String where,
      Sandbox sandbox,
      boolean sharedRings) {
    /** Processes per pool when the config does not say. */
    public static final int DEFAULT_PROCESSES = 1;

    /** Calls in flight per process when the config does not say. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;

    /** How long a process may take to connect and announce when the config does not say. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(20);

    public WorkerPoolSpec {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(language, "language");
      modules = List.copyOf(modules);
      files = List.copyOf(files);
      env = Map.copyOf(env);
      Objects.requireNonNull(startTimeout, "startTimeout");
      Objects.requireNonNull(sandbox, "sandbox");
    }

    /** A pool without resource limits of its own, with shared-memory rings (the default). */
    public WorkerPoolSpec(
        String name,
        String language,
        List<String> modules,
        List<String> files,
        int processes,
        int maxInFlight,
        Map<String, String> env,
        String runtime,
        Duration startTimeout,
        boolean optional,
        String where) {
      this(
          name,
          language,
          modules,
          files,
          processes,
          maxInFlight,
          env,
          runtime,
          startTimeout,
          optional,
          where,
          Sandbox.NONE,
          true);
    }
  }

  /**
   * The HTTP gateway's settings ({@code http:}).
   *
   * @param where file, line and key path, for messages
   */
  public record HttpSpec(
      String host,
      int port,
      long maxBodyBytes,
      Duration idleTimeout,
      Duration writeTimeout,
      String where) {
    public HttpSpec {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      Objects.requireNonNull(writeTimeout, "writeTimeout");
    }

    /** Listening on {@code host:port} with the gateway's default limits. */
    public static HttpSpec of(String host, int port, String where) {
      return new HttpSpec(
          host,
          port,
          io.polycall.gateway.HttpGateway.DEFAULT_MAX_BODY_BYTES,
          io.polycall.gateway.HttpGateway.DEFAULT_IDLE_TIMEOUT,
          io.polycall.gateway.HttpGateway.DEFAULT_WRITE_TIMEOUT,
          where);
    }

    public HttpSpec withListen(String newHost, int newPort) {
      return new HttpSpec(newHost, newPort, maxBodyBytes, idleTimeout, writeTimeout, where);
    }
  }

  /**
   * The other nodes this node attaches (the remote bridge). Empty when neither {@code static} nor
   * {@code dns} is given.
   *
   * @param staticPeers {@code host:port} of each node's gRPC server
   * @param dns a name resolving to every node, with the port: {@code polycall-peers:7443}; null
   * @param healthInterval how often each peer's gRPC health service is asked
   * @param refreshInterval how often {@code dns} is resolved and each peer's functions listed
   * @param retryMaxTokens gRPC-style retry throttling: the bucket's size
   * @param retryTokenRatio what each success puts back in the bucket
   * @param tls how to reach peers over TLS; null for plaintext
   * @param tokenFile a file with the bearer token this node presents on its peers; null for none
   */
  public record PeersSpec(
      List<String> staticPeers,
      String dns,
      Duration healthInterval,
      Duration refreshInterval,
      int retryMaxTokens,
      double retryTokenRatio,
      PeersTls tls,
      Path tokenFile,
      String where) {
    public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(10);
    public static final PeersSpec NONE =
        new PeersSpec(
            List.of(),
            null,
            DEFAULT_HEALTH_INTERVAL,
            DEFAULT_REFRESH_INTERVAL,
            10,
            0.1,
            null,
            null,
            "");

    public PeersSpec {
      staticPeers = List.copyOf(staticPeers);
      Objects.requireNonNull(healthInterval, "healthInterval");
      Objects.requireNonNull(refreshInterval, "refreshInterval");
    }

    public boolean isEmpty() {
      return staticPeers.isEmpty() && dns == null;
    }

    /** The same settings with more static peers (from {@code serve --peer}). */
    public PeersSpec withMorePeers(List<String> more) {
      List<String> all = new java.util.ArrayList<>(staticPeers);
      more.stream().filter(p -> !all.contains(p)).forEach(all::add);
      return new PeersSpec(
          all,
          dns,
          healthInterval,
          refreshInterval,
          retryMaxTokens,
          retryTokenRatio,
          tls,
          tokenFile,
          where);
    }
  }

  /**
   * TLS toward peers ({@code peers.tls}).
   *
   * @param ca the CA their certificates chain to; null for the JDK's trust store
   * @param cert this node's certificate for mutual TLS (its identity on its peers); null for none
   * @param key the key of {@code cert}
   * @param serverName the name in the peers' certificates when it is not the address dialled; null
   */
  public record PeersTls(Path ca, Path cert, Path key, String serverName) {}

  /**
   * The gRPC server's settings ({@code grpc:}). Durations left null keep gRPC's defaults.
   *
   * @param maxMessageBytes the largest request message; larger ones are RESOURCE_EXHAUSTED
   * @param where file, line and key path, for messages
   */
  public record GrpcSpec(
      String host,
      int port,
      GrpcTlsSpec tls,
      int maxMessageBytes,
      Duration keepaliveTime,
      Duration keepaliveTimeout,
      Duration permitKeepaliveTime,
      boolean permitKeepaliveWithoutCalls,
      Duration maxConnectionIdle,
      String where) {
    public GrpcSpec {
      Objects.requireNonNull(host, "host");
    }

    /** Listening on {@code host:port}, plaintext, with gRPC's defaults. */
    public static GrpcSpec of(String host, int port, String where) {
      return new GrpcSpec(
          host,
          port,
          null,
          io.polycall.grpc.GrpcServer.DEFAULT_MAX_MESSAGE_BYTES,
          null,
          null,
          null,
          false,
          null,
          where);
    }

    public GrpcSpec withListen(String newHost, int newPort) {
      return new GrpcSpec(
          newHost,
          newPort,
          tls,
          maxMessageBytes,
          keepaliveTime,
          keepaliveTimeout,
          permitKeepaliveTime,
          permitKeepaliveWithoutCalls,
          maxConnectionIdle,
          where);
    }
  }

  /**
   * TLS files of the gRPC server, resolved against the config's directory.
   *
   * @param clientCa CA of client certificates (mutual TLS), or null
   * @param requireClientAuth refuse clients without a certificate (only with a clientCa)
   */
  public record GrpcTlsSpec(Path cert, Path key, Path clientCa, boolean requireClientAuth) {
    public GrpcTlsSpec {
      Objects.requireNonNull(cert, "cert");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Who may call ({@code security.authentication}, {@code security.policy}, {@code
   * security.local_identity}); {@link #NO_AUTH} when the config has none of them.
   *
   * @param jwt how bearer tokens are checked; null: no tokens accepted
   * @param policy the policy file; null: no authorization stage
   * @param localIdentity the name in-process calls run as ({@code local:NAME}); null: none
   * @param where file, line and key path of the section, for messages
   */
  public record AuthSpec(
      io.polycall.security.JwtSettings jwt, Path policy, String localIdentity, String where) {
    /** Whether any of authentication, policy or local identity is configured. */
    public boolean isConfigured() {
      return jwt != null || policy != null || localIdentity != null;
    }
  }

  /** No authentication, no policy: every call goes through (loopback-only nodes). */
  public static final AuthSpec NO_AUTH = new AuthSpec(null, null, null, "");

  /**
   * The resource limits a worker process starts with: {@code security.sandbox:} for every pool,
   * {@code workers[i].sandbox:} for one pool (its keys override the security defaults one by one).
   * 0 leaves that limit as the node's own. Applied by launching the worker through {@code prlimit}.
   *
   * @param memoryBytes address space (RLIMIT_AS): an allocation past it fails (MemoryError)
   * @param cpuSeconds CPU time (RLIMIT_CPU): past it the kernel kills the process, which the
   *     supervisor restarts; counts over the process's whole life
   * @param openFiles file descriptors (RLIMIT_NOFILE)
   */
  public record Sandbox(long memoryBytes, long cpuSeconds, long openFiles) {
    /** With {@code security:} configured and no sandbox keys: 8 GiB, no CPU limit, 1024 files. */
    public static final Sandbox DEFAULTS = new Sandbox(8L << 30, 0, 1024);

    /** Without {@code security:}: the node's own limits. */
    public static final Sandbox NONE = new Sandbox(0, 0, 0);

    public Sandbox {
      if (memoryBytes < 0 || cpuSeconds < 0 || openFiles < 0) {
        throw new IllegalArgumentException("sandbox limits must be 0 (none) or more");
      }
    }

    public boolean isEmpty() {
      return memoryBytes == 0 && cpuSeconds == 0 && openFiles == 0;
    }
  }

  /**
   * The parts of {@code security:} that guard calls and processes (the audit log, input limits,
   * rate limits, the worker sandbox, the native allow-list); authentication and policy are in
   * {@link AuthSpec}.
   *
   * @param audit the audit log's settings, or null for no audit log
   * @param limits the input limits of every function without its own
   * @param functionLimits per-function input limits by glob, in config order
   * @param rateLimits token buckets, or null for none
   * @param sandbox the default sandbox of worker pools
   * @param nativeAllow globs of the native libraries that may be loaded (name, file name or path);
   *     empty: none
   */
  public record Safeguards(
      io.polycall.security.AuditConfig audit,
      io.polycall.security.InputLimits limits,
      Map<String, io.polycall.security.InputLimits> functionLimits,
      io.polycall.security.RateLimits rateLimits,
      Sandbox sandbox,
      List<String> nativeAllow,
      String where) {
    public Safeguards {
      Objects.requireNonNull(limits, "limits");
      functionLimits =
          java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(functionLimits));
      Objects.requireNonNull(sandbox, "sandbox");
      nativeAllow = List.copyOf(nativeAllow);
    }
  }

  /** Made by {@link #load} and {@link #parse}; public for tests and programmatic use. */
  public PolyCallConfig(
      String source,
      Path baseDir,
      List<String> interceptors,
      List<JvmClass> jvm,
      List<NativeLibrarySpec> natives) {
    this(source, baseDir, interceptors, jvm, natives, List.of(), null);
  }

  /**
   * Made by {@link #load} and {@link #parse}; public for tests and programmatic use.
   *
   * @param socketDir where the node's socket goes; null for a fresh owner-only temp directory
   */
  public PolyCallConfig(
      String source,
      Path baseDir,
      List<String> interceptors,
      List<JvmClass> jvm,
      List<NativeLibrarySpec> natives,
      List<WorkerPoolSpec> workers,
      Path socketDir) {
    this.source = Objects.requireNonNull(source, "source");
    this.baseDir = Objects.requireNonNull(baseDir, "baseDir");
    this.interceptors = List.copyOf(interceptors);
    this.jvm = List.copyOf(jvm);
    this.natives = List.copyOf(natives);
    this.workers = List.copyOf(workers);
    this.socketDir = socketDir;
    this.http = null;
    this.nodeId = defaultNodeId();
    this.peers = PeersSpec.NONE;
    this.grpc = null;
    this.auth = NO_AUTH;
    this.safeguards = null;
  }

  private PolyCallConfig(PolyCallConfig base, HttpSpec http, String nodeId, PeersSpec peers) {
    this(base, http, nodeId, peers, base.grpc);
  }

  private PolyCallConfig(
      PolyCallConfig base, HttpSpec http, String nodeId, PeersSpec peers, GrpcSpec grpc) {
    this.source = base.source;
    this.baseDir = base.baseDir;
    this.interceptors = base.interceptors;
    this.jvm = base.jvm;
    this.natives = base.natives;
    this.workers = base.workers;
    this.socketDir = base.socketDir;
    this.http = http;
    this.nodeId = nodeId == null || nodeId.isBlank() ? defaultNodeId() : nodeId;
    this.peers = Objects.requireNonNull(peers, "peers");
    this.grpc = grpc;
    this.auth = base.auth;
    this.safeguards = base.safeguards;
  }

  private PolyCallConfig(PolyCallConfig base, AuthSpec auth) {
    this.source = base.source;
    this.baseDir = base.baseDir;
    this.interceptors = base.interceptors;
    this.jvm = base.jvm;
    this.natives = base.natives;
    this.workers = base.workers;
    this.socketDir = base.socketDir;
    this.http = base.http;
    this.nodeId = base.nodeId;
    this.peers = base.peers;
    this.grpc = base.grpc;
    this.auth = Objects.requireNonNull(auth, "auth");
    this.safeguards = base.safeguards;
  }

  /** This config with the audit, limits, rate limits, sandbox and native settings of security:. */
  public PolyCallConfig withSafeguards(Safeguards newSafeguards) {
    PolyCallConfig c = new PolyCallConfig(this, auth);
    c.safeguards = newSafeguards;
    return c;
  }

  /**
   * The audit log, input limits, rate limits, worker sandbox and native allow-list of {@code
   * security:}, or null when the config has no {@code security:} section.
   */
  public Safeguards safeguards() {
    return safeguards;
  }

  /** This config with {@code newAuth} as its authentication and policy settings. */
  public PolyCallConfig withAuth(AuthSpec newAuth) {
    return new PolyCallConfig(this, newAuth);
  }

  /** Authentication, policy and local identity ({@link #NO_AUTH} when none is configured). */
  public AuthSpec auth() {
    return auth;
  }

  /** This config with the gRPC server's settings (null: no gRPC server). */
  public PolyCallConfig withGrpc(GrpcSpec newGrpc) {
    return new PolyCallConfig(this, http, nodeId, peers, newGrpc);
  }

  /** The gRPC server's settings, or null when the config has no {@code grpc:} section. */
  public GrpcSpec grpc() {
    return grpc;
  }

  /** This config with the HTTP gateway's settings (null: no gateway). */
  public PolyCallConfig withHttp(HttpSpec newHttp) {
    return new PolyCallConfig(this, newHttp, nodeId, peers);
  }

  /** This config with another node id (null: the default). */
  public PolyCallConfig withNodeId(String newNodeId) {
    return new PolyCallConfig(this, http, newNodeId, peers);
  }

  /** This config with other peer settings (for {@code serve --peer}). */
  public PolyCallConfig withPeers(PeersSpec newPeers) {
    return new PolyCallConfig(this, http, nodeId, newPeers);
  }

  /** The node's id, as it names itself to peers and in messages. */
  public String nodeId() {
    return nodeId;
  }

  /** The other nodes this node attaches; {@link PeersSpec#isEmpty} when none. */
  public PeersSpec peers() {
    return peers;
  }

  /** In Kubernetes the pod's name, which is what an operator sees in kubectl. */
  private static String defaultNodeId() {
    String host = System.getenv("HOSTNAME");
    return host != null && !host.isBlank() ? host : "node-" + ProcessHandle.current().pid();
  }

  /**
   * Reads a config file.
   *
   * @throws io.polycall.StatusException NOT_FOUND if the file does not exist; INVALID_ARGUMENT or
   *     FAILED_PRECONDITION for a bad config, as the class comment says
   */
  public static PolyCallConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw Status.NOT_FOUND
          .withDescription("config file " + file + " does not exist; check the path")
          .asException();
    } catch (IOException e) {
      throw Status.FAILED_PRECONDITION
          .withDescription("cannot read config file " + file + ": " + e)
          .withCause(e)
          .asException();
    }
    Path abs = file.toAbsolutePath();
    return parse(text, file.toString(), abs.getParent());
  }

  /**
   * Reads config text.
   *
   * @param source names the text in messages, usually its file name
   * @param baseDir where relative library paths start
   */
  public static PolyCallConfig parse(String yaml, String source, Path baseDir) {
    return ConfigReader.read(yaml, source, baseDir);
  }

  /**
   * The example config bundled in this jar ({@code examples/polycall.yaml} in the sources). Its
   * relative paths start at the repository's {@code examples/} when the repository is found.
   */
  public static PolyCallConfig builtIn() {
    try (InputStream in = PolyCallConfig.class.getResourceAsStream(BUILT_IN_RESOURCE)) {
      if (in == null) {
        throw Status.INTERNAL
            .withDescription(
                "the built-in config " + BUILT_IN_RESOURCE + " is missing from the jar")
            .asException();
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      // Its worker files live beside the example in the repository; without one, nothing does.
      Path base =
          io.polycall.server.internal.WorkerRuntimes.repoRoot()
              .map(r -> r.resolve("examples"))
              .filter(Files::isDirectory)
              .orElse(Path.of("").toAbsolutePath());
      return parse(text, "built-in example config", base);
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("cannot read the built-in config")
          .withCause(e)
          .asException();
    }
  }

  /** The file name (or description) the config was read from. */
  public String source() {
    return source;
  }

  public Path baseDir() {
    return baseDir;
  }

  /** Interceptor names, in chain order: the first sees a call first. */
  public List<String> interceptors() {
    return interceptors;
  }

  public List<JvmClass> jvm() {
    return jvm;
  }

  public List<NativeLibrarySpec> natives() {
    return natives;
  }

  /** Worker pools, in config order. */
  public List<WorkerPoolSpec> workers() {
    return workers;
  }

  /** Where the node's socket goes (resolved against the config's directory), or null. */
  public Path socketDir() {
    return socketDir;
  }

  /** The HTTP gateway's settings, or null when the config has no {@code http:} section. */
  public HttpSpec http() {
    return http;
  }

  @Override
  public String toString() {
    return "PolyCallConfig["
        + source
        + ": "
        + jvm.size()
        + " classes, "
        + natives.size()
        + " libraries, "
        + workers.size()
        + " worker pools, interceptors "
        + interceptors
        + "]";
  }
}
