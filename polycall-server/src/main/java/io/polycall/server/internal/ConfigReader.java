package io.polycall.server.internal;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.security.AuditConfig;
import io.polycall.security.InputLimits;
import io.polycall.security.RateLimits;
import io.polycall.server.PolyCallConfig;
import io.polycall.server.PolyCallConfig.HttpSpec;
import io.polycall.server.PolyCallConfig.JvmClass;
import io.polycall.server.PolyCallConfig.NativeFunctionSpec;
import io.polycall.server.PolyCallConfig.NativeLibrarySpec;
import io.polycall.server.PolyCallConfig.Safeguards;
import io.polycall.server.PolyCallConfig.Sandbox;
import io.polycall.server.PolyCallConfig.WorkerPoolSpec;
import java.io.StringReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a {@link PolyCallConfig} from YAML. It works on SnakeYAML's node tree rather than on plain
 * maps so that every message can give the line of the culprit. Stateless and thread-safe.
 */
public final class ConfigReader {
  /** The interceptors a config may name, with what each does (for the error message). */
  public static final Map<String, String> INTERCEPTORS = Map.of("logging", "logs every call");

  private static final Set<String> TOP_KEYS =
      Set.of(
          "interceptors",
          "jvm",
          "native",
          "workers",
          "socket_dir",
          "http",
          "node_id",
          "peers",
          "grpc",
          "security");
  private static final Set<String> GRPC_KEYS =
      Set.of("listen", "tls", "max_message_bytes", "keepalive");
  private static final Set<String> GRPC_TLS_KEYS =
      Set.of("cert", "key", "client_ca", "require_client_auth");
  private static final Set<String> KEEPALIVE_KEYS =
      Set.of("time", "timeout", "permit_time", "permit_without_calls", "max_idle");
  private static final Set<String> HTTP_KEYS =
      Set.of("listen", "max_body_bytes", "idle_timeout", "write_timeout");
  private static final Set<String> PEERS_KEYS =
      Set.of(
          "static",
          "dns",
          "health_interval",
          "refresh_interval",
          "retry_budget",
          "tls",
          "token_file");
  private static final Set<String> PEERS_TLS_KEYS = Set.of("ca", "cert", "key", "server_name");
  private static final Set<String> BUDGET_KEYS = Set.of("max_tokens", "token_ratio");
  private static final Set<String> JVM_KEYS = Set.of("class");
  private static final Set<String> LIBRARY_KEYS = Set.of("library", "optional", "functions");
  private static final Set<String> FUNCTION_KEYS = Set.of("declare", "doc", "version");
  private static final Set<String> WORKER_KEYS =
      Set.of(
          "name",
          "language",
          "modules",
          "files",
          "processes",
          "max_in_flight",
          "env",
          "python",
          "node",
          "start_timeout",
          "optional",
          "sandbox",
          "shared_rings");

  /** The keys of {@code security:} that {@link #safeguards} reads. */
  private static final Set<String> SAFEGUARD_KEYS =
      Set.of("audit", "limits", "rate_limits", "sandbox", "native");

  /** The keys of {@code security:} that {@link #auth} reads. */
  private static final Set<String> SECURITY_AUTH_KEYS =
      Set.of("authentication", "policy", "local_identity");

  /** Every key of {@code security:}; each group is read by its own method. */
  private static final Set<String> SECURITY_KEYS = union(SECURITY_AUTH_KEYS, SAFEGUARD_KEYS);

  private static final Set<String> AUTHENTICATION_KEYS = Set.of("jwt");
  private static final Set<String> JWT_KEYS =
      Set.of("issuer", "audience", "jwks_file", "hs256_secret_file", "clock_skew", "roles_claim");

  /** The languages a worker pool may run, with the key that names its runtime. */
  private static final Map<String, String> LANGUAGES = Map.of("python", "python", "node", "node");

  private final String source;

  /** security.sandbox, the base of every pool's sandbox (read before the pools). */
  private Sandbox sandboxDefault = Sandbox.NONE;

  private ConfigReader(String source) {
    this.source = source;
  }

  public static PolyCallConfig read(String yaml, String source, Path baseDir) {
    return new ConfigReader(source).read(yaml, baseDir);
  }

  private PolyCallConfig read(String yaml, Path baseDir) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    Node root;
    try {
      root = new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw invalid(
          line,
          "",
          "is not valid YAML: "
              + e.getProblem()
              + (e.getContext() == null ? "" : " " + e.getContext())
              + "; check indentation and quoting (quote declarations that contain ': ' or '#')");
    } catch (YAMLException e) {
      throw invalid(0, "", "is not valid YAML: " + e.getMessage());
    }
    if (root == null) {
      // An empty file is a valid config with nothing in it: a node with no functions.
      return new PolyCallConfig(source, baseDir, List.of(), List.of(), List.of());
    }
    Map<String, Node> top = mapping(root, "", TOP_KEYS, "the top level");
    Safeguards safeguards =
        top.containsKey("security") ? safeguards(top.get("security"), baseDir) : null;
    List<String> interceptors = interceptors(top.get("interceptors"));
    List<JvmClass> jvm = new ArrayList<>();
    Node jvmNode = top.get("jvm");
    if (jvmNode != null) {
      List<Node> items = sequence(jvmNode, "jvm", "a list of class names");
      for (int i = 0; i < items.size(); i++) {
        jvm.add(jvmClass(items.get(i), "jvm[" + i + "]"));
      }
    }
    List<NativeLibrarySpec> natives = new ArrayList<>();
    Node nativeNode = top.get("native");
    if (nativeNode != null) {
      List<Node> items = sequence(nativeNode, "native", "a list of libraries");
      for (int i = 0; i < items.size(); i++) {
        natives.add(library(items.get(i), "native[" + i + "]"));
      }
    }
    List<WorkerPoolSpec> workers = new ArrayList<>();
    Node workersNode = top.get("workers");
    if (workersNode != null) {
      List<Node> items = sequence(workersNode, "workers", "a list of worker pools");
      Map<String, String> names = new HashMap<>();
      for (int i = 0; i < items.size(); i++) {
        WorkerPoolSpec pool = workerPool(items.get(i), "workers[" + i + "]");
        String earlier = names.putIfAbsent(pool.name(), "workers[" + i + "]");
        if (earlier != null) {
          throw invalid(
              line(items.get(i)),
              "workers[" + i + "].name",
              "names pool '"
                  + pool.name()
                  + "' again (first at "
                  + names.get(pool.name())
                  + "); give each pool its own name");
        }
        workers.add(pool);
      }
    }
    Path socketDir = null;
    Node socketNode = top.get("socket_dir");
    if (socketNode != null) {
      String dir = string(socketNode, "socket_dir");
      if (dir.isBlank()) {
        throw invalid(line(socketNode), "socket_dir", "must be a directory path, not blank");
      }
      socketDir = baseDir.resolve(dir).normalize();
    }
    PolyCallConfig config =
        new PolyCallConfig(source, baseDir, interceptors, jvm, natives, workers, socketDir);
    Node httpNode = top.get("http");
    String nodeId = null;
    if (top.get("node_id") != null) {
      nodeId = string(top.get("node_id"), "node_id");
      if (nodeId.isBlank() || !nodeId.matches("[A-Za-z0-9._-]+")) {
        throw invalid(
            line(top.get("node_id")),
            "node_id",
            "must be letters, digits, '.', '_' or '-', such as node-1; was '" + nodeId + "'");
      }
    }
    PolyCallConfig.PeersSpec peers =
        top.get("peers") == null ? PolyCallConfig.PeersSpec.NONE : peers(top.get("peers"), baseDir);
    config = config.withNodeId(nodeId).withPeers(peers);
    config = httpNode == null ? config : config.withHttp(http(httpNode));
    Node grpcNode = top.get("grpc");
    config = grpcNode == null ? config : config.withGrpc(grpc(grpcNode, baseDir));
    Node securityNode = top.get("security");
    Map<String, Node> security =
        securityNode == null
            ? Map.of()
            : mapping(securityNode, "security", SECURITY_KEYS, "the security section");
    config = config.withAuth(auth(security, securityNode, baseDir));
    return safeguards == null ? config : config.withSafeguards(safeguards);
  }

  /** {@code security.authentication}, {@code security.policy}, {@code security.local_identity}. */
  private PolyCallConfig.AuthSpec auth(Map<String, Node> security, Node section, Path baseDir) {
    if (security.keySet().stream().noneMatch(SECURITY_AUTH_KEYS::contains)) {
      return PolyCallConfig.NO_AUTH;
    }
    io.polycall.security.JwtSettings jwt = null;
    Node authn = security.get("authentication");
    if (authn != null) {
      Map<String, Node> a =
          mapping(authn, "security.authentication", AUTHENTICATION_KEYS, "the authentication");
      Node jwtNode =
          required(
              a,
              "jwt",
              authn,
              "security.authentication",
              "how bearer tokens are checked (audience, jwks_file or hs256_secret_file)");
      jwt = jwt(jwtNode, "security.authentication.jwt", baseDir);
    }
    Path policy = null;
    Node policyNode = security.get("policy");
    if (policyNode != null) {
      String file = string(policyNode, "security.policy");
      if (file.isBlank()) {
        throw invalid(line(policyNode), "security.policy", "must be a file path, not blank");
      }
      policy = baseDir.resolve(file).normalize();
    }
    String local = null;
    Node localNode = security.get("local_identity");
    if (localNode != null) {
      local = string(localNode, "security.local_identity");
      if (!local.matches("[A-Za-z0-9_][A-Za-z0-9_.@-]*")) {
        throw invalid(
            line(localNode),
            "security.local_identity",
            "'"
                + local
                + "' is not an identity name; use letters, digits, '_', '.', '@' and '-' (the"
                + " policy names it local:"
                + local
                + ")");
      }
    }
    if (policy == null) {
      // Deny by default: authenticating callers without saying what they may call would let
      // every holder of a valid token call everything.
      throw invalid(
          line(section),
          "security",
          "needs key 'policy': with authentication or a local identity, a policy file says who"
              + " may call what (nothing is allowed without one); see docs/security.md");
    }
    return new PolyCallConfig.AuthSpec(jwt, policy, local, where(line(section), "security"));
  }

  private io.polycall.security.JwtSettings jwt(Node node, String path, Path baseDir) {
    Map<String, Node> m = mapping(node, path, JWT_KEYS, "the JWT settings");
    Node audNode =
        required(m, "audience", node, path, "the audience tokens must name, such as polycall");
    String audience = string(audNode, path + ".audience");
    if (audience.isBlank()) {
      throw invalid(line(audNode), path + ".audience", "must not be blank");
    }
    Path jwks =
        m.containsKey("jwks_file")
            ? baseDir.resolve(string(m.get("jwks_file"), path + ".jwks_file")).normalize()
            : null;
    Path secret =
        m.containsKey("hs256_secret_file")
            ? baseDir
                .resolve(string(m.get("hs256_secret_file"), path + ".hs256_secret_file"))
                .normalize()
            : null;
    if (jwks == null && secret == null) {
      throw invalid(
          line(node),
          path,
          "needs 'jwks_file' or 'hs256_secret_file' (or both): the keys that verify tokens");
    }
    Duration skew = io.polycall.security.JwtSettings.DEFAULT_CLOCK_SKEW;
    if (m.containsKey("clock_skew")) {
      skew = duration(m.get("clock_skew"), path + ".clock_skew");
      if (skew.compareTo(Duration.ofMinutes(5)) > 0) {
        throw invalid(
            line(m.get("clock_skew")),
            path + ".clock_skew",
            "is more than 5m; fix the clocks (NTP) rather than accept tokens that long expired");
      }
    }
    String rolesClaim =
        m.containsKey("roles_claim")
            ? string(m.get("roles_claim"), path + ".roles_claim")
            : "roles";
    String issuer = m.containsKey("issuer") ? string(m.get("issuer"), path + ".issuer") : null;
    return new io.polycall.security.JwtSettings(
        issuer,
        audience,
        jwks,
        secret,
        skew,
        rolesClaim,
        io.polycall.security.JwtSettings.DEFAULT_RELOAD_INTERVAL);
  }

  private PolyCallConfig.GrpcSpec grpc(Node node, Path baseDir) {
    Map<String, Node> m = mapping(node, "grpc", GRPC_KEYS, "the gRPC server's settings");
    Node listenNode = required(m, "listen", node, "grpc", "an address such as 127.0.0.1:50051");
    HostPort listen = hostPort(string(listenNode, "grpc.listen"));
    if (listen == null) {
      throw invalid(
          line(listenNode),
          "grpc.listen",
          "must be host:port such as 127.0.0.1:50051 (port 0 picks a free one), not "
              + kind(listenNode));
    }
    PolyCallConfig.GrpcSpec d =
        PolyCallConfig.GrpcSpec.of(listen.host(), listen.port(), where(line(node), "grpc"));
    PolyCallConfig.GrpcTlsSpec tls = null;
    if (m.containsKey("tls")) {
      Node tn = m.get("tls");
      Map<String, Node> t = mapping(tn, "grpc.tls", GRPC_TLS_KEYS, "the TLS files");
      Path cert =
          file(
              required(t, "cert", tn, "grpc.tls", "the server's PEM certificate chain"),
              "grpc.tls.cert",
              baseDir);
      Path key =
          file(
              required(t, "key", tn, "grpc.tls", "the server's PEM private key"),
              "grpc.tls.key",
              baseDir);
      Path ca =
          t.containsKey("client_ca")
              ? file(t.get("client_ca"), "grpc.tls.client_ca", baseDir)
              : null;
      boolean require = ca != null;
      if (t.containsKey("require_client_auth")) {
        require = bool(t.get("require_client_auth"), "grpc.tls.require_client_auth");
        if (require && ca == null) {
          throw invalid(
              line(t.get("require_client_auth")),
              "grpc.tls.require_client_auth",
              "needs grpc.tls.client_ca: the CA that client certificates must chain to");
        }
      }
      tls = new PolyCallConfig.GrpcTlsSpec(cert, key, ca, require);
    }
    int maxMessage =
        m.containsKey("max_message_bytes")
            ? (int) bytes(m.get("max_message_bytes"), "grpc.max_message_bytes")
            : d.maxMessageBytes();
    Duration time = null;
    Duration timeout = null;
    Duration permit = null;
    boolean withoutCalls = false;
    Duration idle = null;
    if (m.containsKey("keepalive")) {
      Map<String, Node> k =
          mapping(m.get("keepalive"), "grpc.keepalive", KEEPALIVE_KEYS, "the keepalive settings");
      time = k.containsKey("time") ? duration(k.get("time"), "grpc.keepalive.time") : null;
      timeout =
          k.containsKey("timeout") ? duration(k.get("timeout"), "grpc.keepalive.timeout") : null;
      permit =
          k.containsKey("permit_time")
              ? duration(k.get("permit_time"), "grpc.keepalive.permit_time")
              : null;
      withoutCalls =
          k.containsKey("permit_without_calls")
              && bool(k.get("permit_without_calls"), "grpc.keepalive.permit_without_calls");
      idle =
          k.containsKey("max_idle") ? duration(k.get("max_idle"), "grpc.keepalive.max_idle") : null;
    }
    return new PolyCallConfig.GrpcSpec(
        d.host(), d.port(), tls, maxMessage, time, timeout, permit, withoutCalls, idle, d.where());
  }

  /** A file path, relative to the config's directory. */
  private Path file(Node node, String path, Path baseDir) {
    String f = string(node, path);
    if (f.isBlank()) {
      throw invalid(line(node), path, "must be a file path, not blank");
    }
    return baseDir.resolve(f).normalize();
  }

  private HttpSpec http(Node node) {
    Map<String, Node> m = mapping(node, "http", HTTP_KEYS, "the HTTP gateway's settings");
    Node listenNode = required(m, "listen", node, "http", "an address such as 127.0.0.1:8080");
    HostPort listen = hostPort(string(listenNode, "http.listen"));
    if (listen == null) {
      throw invalid(
          line(listenNode),
          "http.listen",
          "must be host:port such as 127.0.0.1:8080 (port 0 picks a free one), not "
              + kind(listenNode));
    }
    HttpSpec spec = HttpSpec.of(listen.host(), listen.port(), where(line(node), "http"));
    long maxBody = spec.maxBodyBytes();
    if (m.containsKey("max_body_bytes")) {
      maxBody = bytes(m.get("max_body_bytes"), "http.max_body_bytes");
    }
    Duration idle =
        m.containsKey("idle_timeout")
            ? duration(m.get("idle_timeout"), "http.idle_timeout")
            : spec.idleTimeout();
    Duration write =
        m.containsKey("write_timeout")
            ? duration(m.get("write_timeout"), "http.write_timeout")
            : spec.writeTimeout();
    return new HttpSpec(spec.host(), spec.port(), maxBody, idle, write, spec.where());
  }

  /** {@code host:port} as given on the command line and in configs. */
  public record HostPort(String host, int port) {}

  /** Parses {@code host:port} ({@code [::1]:8080} for IPv6), or null when malformed. */
  public static HostPort hostPort(String text) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon <= 0 || colon == t.length() - 1) {
      return null;
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(t.substring(colon + 1));
      return port < 0 || port > 65535 || host.isEmpty() ? null : new HostPort(host, port);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A byte count: a whole number, or one with KiB, MiB, GiB (also KB, MB, GB: 1000s). */
  private long bytes(Node node, String path) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("(\\d+)\\s*([KMG]i?B)?").matcher(s.getValue().trim());
      if (m.matches()) {
        try {
          long n = Long.parseLong(m.group(1));
          long unit =
              m.group(2) == null
                  ? 1
                  : switch (m.group(2)) {
                    case "KiB" -> 1L << 10;
                    case "MiB" -> 1L << 20;
                    case "GiB" -> 1L << 30;
                    case "KB" -> 1000L;
                    case "MB" -> 1000_000L;
                    default -> 1000_000_000L;
                  };
          long v = Math.multiplyExact(n, unit);
          if (v >= 1 && v <= Integer.MAX_VALUE - 8) {
            return v;
          }
        } catch (NumberFormatException | ArithmeticException e) {
          // falls through to the message below
        }
      }
    }
    throw invalid(
        line(node),
        path,
        "must be a size from 1 byte to 2 GiB such as 65536, 512KiB or 16MiB, not " + kind(node));
  }

  private PolyCallConfig.PeersSpec peers(Node node, Path baseDir) {
    Map<String, Node> m = mapping(node, "peers", PEERS_KEYS, "the peers section");
    List<String> staticPeers = strings(m.get("static"), "peers.static");
    for (int i = 0; i < staticPeers.size(); i++) {
      hostPort(staticPeers.get(i), m.get("static"), "peers.static[" + i + "]");
    }
    String dns = null;
    if (m.get("dns") != null) {
      dns = string(m.get("dns"), "peers.dns");
      hostPort(dns, m.get("dns"), "peers.dns");
    }
    Duration health = PolyCallConfig.PeersSpec.DEFAULT_HEALTH_INTERVAL;
    if (m.get("health_interval") != null) {
      health = duration(m.get("health_interval"), "peers.health_interval");
    }
    Duration refresh = PolyCallConfig.PeersSpec.DEFAULT_REFRESH_INTERVAL;
    if (m.get("refresh_interval") != null) {
      refresh = duration(m.get("refresh_interval"), "peers.refresh_interval");
    }
    int maxTokens = PolyCallConfig.PeersSpec.NONE.retryMaxTokens();
    double ratio = PolyCallConfig.PeersSpec.NONE.retryTokenRatio();
    Node budget = m.get("retry_budget");
    if (budget != null) {
      Map<String, Node> b = mapping(budget, "peers.retry_budget", BUDGET_KEYS, "the retry budget");
      if (b.get("max_tokens") != null) {
        maxTokens = integer(b.get("max_tokens"), "peers.retry_budget.max_tokens");
        if (maxTokens < 1 || maxTokens > 1000) {
          throw invalid(
              line(b.get("max_tokens")),
              "peers.retry_budget.max_tokens",
              "must be between 1 and 1000, was " + maxTokens);
        }
      }
      if (b.get("token_ratio") != null) {
        Node r = b.get("token_ratio");
        try {
          ratio = Double.parseDouble(string(r, "peers.retry_budget.token_ratio"));
        } catch (NumberFormatException e) {
          ratio = Double.NaN;
        }
        if (!(ratio > 0) || ratio > maxTokens) {
          throw invalid(
              line(r),
              "peers.retry_budget.token_ratio",
              "must be a number above 0 and at most max_tokens, such as 0.1");
        }
      }
    }
    if (staticPeers.isEmpty() && dns == null) {
      throw invalid(
          line(node),
          "peers",
          "names no peer; give static: [host:port, ...] and/or dns: name:port, or remove it");
    }
    PolyCallConfig.PeersTls tls = null;
    Node tn = m.get("tls");
    if (tn != null) {
      Map<String, Node> t = mapping(tn, "peers.tls", PEERS_TLS_KEYS, "TLS toward peers");
      Path ca = t.containsKey("ca") ? file(t.get("ca"), "peers.tls.ca", baseDir) : null;
      Path cert = t.containsKey("cert") ? file(t.get("cert"), "peers.tls.cert", baseDir) : null;
      Path key = t.containsKey("key") ? file(t.get("key"), "peers.tls.key", baseDir) : null;
      if ((cert == null) != (key == null)) {
        throw invalid(line(tn), "peers.tls", "needs both cert and key for mutual TLS, or neither");
      }
      String name =
          t.containsKey("server_name")
              ? string(t.get("server_name"), "peers.tls.server_name")
              : null;
      tls = new PolyCallConfig.PeersTls(ca, cert, key, name);
    }
    Path tokenFile =
        m.containsKey("token_file") ? file(m.get("token_file"), "peers.token_file", baseDir) : null;
    return new PolyCallConfig.PeersSpec(
        staticPeers,
        dns,
        health,
        refresh,
        maxTokens,
        ratio,
        tls,
        tokenFile,
        where(line(node), "peers"));
  }

  private void hostPort(String s, Node node, String path) {
    int colon = s.lastIndexOf(':');
    int port = -1;
    if (colon > 0) {
      try {
        port = Integer.parseInt(s.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
    }
    if (port < 1 || port > 65535) {
      throw invalid(
          line(node),
          path,
          "must be host:port with a port from 1 to 65535, such as node-2:7443; was '" + s + "'");
    }
  }

  private WorkerPoolSpec workerPool(Node node, String path) {
    Map<String, Node> m = mapping(node, path, WORKER_KEYS, "a worker pool entry");
    Node nameNode = required(m, "name", node, path, "the pool's name, such as pystats");
    String name = string(nameNode, path + ".name");
    if (!name.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
      throw invalid(
          line(nameNode),
          path + ".name",
          "'" + name + "' is not a pool name; use letters, digits, '_', '.' and '-'");
    }
    Node langNode = required(m, "language", node, path, "python or node");
    String language = string(langNode, path + ".language");
    if (!LANGUAGES.containsKey(language)) {
      throw invalid(
          line(langNode),
          path + ".language",
          "names an unknown worker language '" + language + "'; known: [node, python]");
    }
    for (String runtimeKey : LANGUAGES.values()) {
      if (!runtimeKey.equals(LANGUAGES.get(language)) && m.containsKey(runtimeKey)) {
        throw invalid(
            line(m.get(runtimeKey)),
            path + "." + runtimeKey,
            "is for "
                + runtimeKey
                + " pools; this pool's language is "
                + language
                + " (its runtime key is '"
                + LANGUAGES.get(language)
                + "')");
      }
    }
    List<String> modules = strings(m.get("modules"), path + ".modules");
    List<String> files = strings(m.get("files"), path + ".files");
    if (modules.isEmpty() && files.isEmpty()) {
      throw invalid(
          line(node),
          path,
          "needs 'modules' or 'files' (or both): the code whose functions the pool serves, such"
              + " as files: [workers/stats.py]");
    }
    int processes = WorkerPoolSpec.DEFAULT_PROCESSES;
    if (m.containsKey("processes")) {
      processes = integer(m.get("processes"), path + ".processes");
      if (processes < 1) {
        throw invalid(line(m.get("processes")), path + ".processes", "must be 1 or more");
      }
    }
    int maxInFlight = WorkerPoolSpec.DEFAULT_MAX_IN_FLIGHT;
    if (m.containsKey("max_in_flight")) {
      maxInFlight = integer(m.get("max_in_flight"), path + ".max_in_flight");
      if (maxInFlight < 1) {
        throw invalid(line(m.get("max_in_flight")), path + ".max_in_flight", "must be 1 or more");
      }
    }
    Map<String, String> env = new LinkedHashMap<>();
    Node envNode = m.get("env");
    if (envNode != null) {
      if (!(envNode instanceof MappingNode mn)) {
        throw invalid(
            line(envNode),
            path + ".env",
            "must be a map of variable names to values, not " + kind(envNode));
      }
      for (NodeTuple t : mn.getValue()) {
        String key = string(t.getKeyNode(), path + ".env");
        if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
          throw invalid(
              line(t.getKeyNode()),
              path + ".env." + key,
              "is not an environment variable name; use letters, digits and '_'");
        }
        Node v = t.getValueNode();
        if (!(v instanceof ScalarNode)) {
          throw invalid(
              line(v), path + ".env." + key, "must be a string or number, not " + kind(v));
        }
        env.put(key, ((ScalarNode) v).getValue());
      }
    }
    String runtimeKey = LANGUAGES.get(language);
    String runtime =
        m.containsKey(runtimeKey) ? string(m.get(runtimeKey), path + "." + runtimeKey) : null;
    Duration startTimeout = WorkerPoolSpec.DEFAULT_START_TIMEOUT;
    if (m.containsKey("start_timeout")) {
      startTimeout = duration(m.get("start_timeout"), path + ".start_timeout");
    }
    boolean optional = m.containsKey("optional") && bool(m.get("optional"), path + ".optional");
    boolean sharedRings =
        !m.containsKey("shared_rings") || bool(m.get("shared_rings"), path + ".shared_rings");
    Sandbox sandbox =
        m.containsKey("sandbox")
            ? sandbox(m.get("sandbox"), path + ".sandbox", sandboxDefault)
            : sandboxDefault;
    return new WorkerPoolSpec(
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
        where(line(nameNode), path),
        sandbox,
        sharedRings);
  }

  private List<String> strings(Node node, String path) {
    if (node == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    List<Node> items = sequence(node, path, "a list of strings");
    for (int i = 0; i < items.size(); i++) {
      out.add(string(items.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  /** {@code 500ms}, {@code 20s}, {@code 1m}, or a whole number of seconds. */
  private Duration duration(Node node, String path) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      String t = s.getValue().trim().toLowerCase(java.util.Locale.ROOT);
      try {
        Duration d;
        if (s.getTag().equals(Tag.INT)) {
          d = Duration.ofSeconds(Long.parseLong(t));
        } else if (t.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2).trim()));
        } else if (t.endsWith("s")) {
          d =
              Duration.ofMillis(
                  Math.round(Double.parseDouble(t.substring(0, t.length() - 1).trim()) * 1000));
        } else if (t.endsWith("m")) {
          d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1).trim()) * 60);
        } else if (t.endsWith("h")) {
          d = Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1).trim()));
        } else {
          d = null;
        }
        if (d != null && d.isPositive()) {
          return d;
        }
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
    }
    throw invalid(
        line(node),
        path,
        "must be a positive duration such as 500ms, 20s or 1m, not " + kind(node));
  }

  private List<String> interceptors(Node node) {
    if (node == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    List<Node> items = sequence(node, "interceptors", "a list such as [logging]");
    for (int i = 0; i < items.size(); i++) {
      String path = "interceptors[" + i + "]";
      String name = string(items.get(i), path);
      if (!INTERCEPTORS.containsKey(name)) {
        throw invalid(
            line(items.get(i)),
            path,
            "names an unknown interceptor '" + name + "'; known: " + INTERCEPTORS.keySet());
      }
      out.add(name);
    }
    return out;
  }

  private JvmClass jvmClass(Node node, String path) {
    Node classNode = node;
    String classPath = path;
    if (node instanceof MappingNode) {
      Map<String, Node> m = mapping(node, path, JVM_KEYS, "a JVM class entry");
      classNode = required(m, "class", node, path, "the fully qualified class name");
      classPath = path + ".class";
    }
    String name = string(classNode, classPath);
    String where = where(line(classNode), classPath);
    try {
      Class.forName(name, false, Thread.currentThread().getContextClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              where
                  + ": class "
                  + name
                  + " is not on the class path; check the spelling (package included) or add"
                  + " its jar to the class path")
          .asException();
    }
    return new JvmClass(name, where);
  }

  private NativeLibrarySpec library(Node node, String path) {
    Map<String, Node> m = mapping(node, path, LIBRARY_KEYS, "a native library entry");
    Node libNode = required(m, "library", node, path, "a library name such as m, or a path");
    String library = string(libNode, path + ".library");
    boolean optional = false;
    Node opt = m.get("optional");
    if (opt != null) {
      optional = bool(opt, path + ".optional");
    }
    Node fnNode = required(m, "functions", node, path, "the list of native declarations");
    List<Node> items = sequence(fnNode, path + ".functions", "a list of native declarations");
    List<NativeFunctionSpec> functions = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      functions.add(function(items.get(i), path + ".functions[" + i + "]"));
    }
    return new NativeLibrarySpec(library, optional, functions, where(line(libNode), path));
  }

  private NativeFunctionSpec function(Node node, String path) {
    if (node instanceof ScalarNode) {
      return new NativeFunctionSpec(string(node, path), "", 0, where(line(node), path));
    }
    Map<String, Node> m =
        mapping(node, path, FUNCTION_KEYS, "a declaration, or a map with declare/doc/version");
    Node decl = required(m, "declare", node, path, "the native declaration");
    String doc = m.containsKey("doc") ? string(m.get("doc"), path + ".doc") : "";
    int version = 0;
    if (m.containsKey("version")) {
      version = integer(m.get("version"), path + ".version");
      if (version < 1) {
        throw invalid(line(m.get("version")), path + ".version", "must be 1 or more");
      }
    }
    return new NativeFunctionSpec(
        string(decl, path + ".declare"), doc, version, where(line(decl), path));
  }

  // ---- security: audit, limits, rate limits, sandbox, native allow-list ------------------------

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return Set.copyOf(u);
  }

  private static final Set<String> AUDIT_KEYS =
      Set.of("file", "fsync", "rotate_bytes", "keep", "fail_closed", "queue");
  private static final Set<String> LIMIT_KEYS =
      Set.of("payload_bytes", "depth", "collection_length", "string_bytes", "ndarray_elements");
  private static final Set<String> RATE_KEYS = Set.of("subjects", "functions");
  private static final Set<String> BUCKET_KEYS = Set.of("rate", "burst");
  private static final Set<String> SANDBOX_KEYS = Set.of("memory", "cpu_seconds", "open_files");

  private Safeguards safeguards(Node node, Path baseDir) {
    Map<String, Node> m = mapping(node, "security", SECURITY_KEYS, "the security section");
    AuditConfig audit = m.containsKey("audit") ? audit(m.get("audit"), baseDir) : null;
    InputLimits limits = InputLimits.DEFAULTS;
    Map<String, InputLimits> functionLimits = new LinkedHashMap<>();
    Node limitsNode = m.get("limits");
    if (limitsNode != null) {
      Set<String> limitKeys = new java.util.HashSet<>(LIMIT_KEYS);
      limitKeys.add("functions");
      Map<String, Node> lm = mapping(limitsNode, "security.limits", limitKeys, "the input limits");
      limits = limits(lm, "security.limits", InputLimits.DEFAULTS);
      Node fn = lm.get("functions");
      if (fn != null) {
        for (Map.Entry<String, Node> e : stringMap(fn, "security.limits.functions").entrySet()) {
          String path = "security.limits.functions." + e.getKey();
          Map<String, Node> fm =
              mapping(e.getValue(), path, LIMIT_KEYS, "the input limits of matching functions");
          functionLimits.put(e.getKey(), limits(fm, path, limits));
        }
      }
    }
    RateLimits rates = null;
    Node rateNode = m.get("rate_limits");
    if (rateNode != null) {
      Map<String, Node> rm =
          mapping(rateNode, "security.rate_limits", RATE_KEYS, "the rate limits");
      rates =
          new RateLimits(
              buckets(rm.get("subjects"), "security.rate_limits.subjects"),
              buckets(rm.get("functions"), "security.rate_limits.functions"));
    }
    sandboxDefault =
        m.containsKey("sandbox")
            ? sandbox(m.get("sandbox"), "security.sandbox", Sandbox.DEFAULTS)
            : Sandbox.DEFAULTS;
    List<String> allow = List.of();
    Node nativeNode = m.get("native");
    if (nativeNode != null) {
      Map<String, Node> nm =
          mapping(nativeNode, "security.native", Set.of("allow"), "the native library settings");
      allow = strings(nm.get("allow"), "security.native.allow");
    }
    return new Safeguards(
        audit, limits, functionLimits, rates, sandboxDefault, allow, where(line(node), "security"));
  }

  private AuditConfig audit(Node node, Path baseDir) {
    String path = "security.audit";
    Map<String, Node> m = mapping(node, path, AUDIT_KEYS, "the audit log settings");
    Node fileNode = required(m, "file", node, path, "the log file, such as audit/audit.jsonl");
    String file = string(fileNode, path + ".file");
    if (file.isBlank()) {
      throw invalid(line(fileNode), path + ".file", "must be a file path, not blank");
    }
    AuditConfig c = AuditConfig.of(baseDir.resolve(file).normalize());
    Node fsync = m.get("fsync");
    if (fsync != null) {
      String v = fsync instanceof ScalarNode sn ? sn.getValue().trim() : "";
      c =
          switch (v) {
            case "every_record" -> c.withFsync(AuditConfig.Fsync.EVERY_RECORD, c.fsyncInterval());
            case "never" -> c.withFsync(AuditConfig.Fsync.NEVER, c.fsyncInterval());
            case "interval" -> c.withFsync(AuditConfig.Fsync.INTERVAL, c.fsyncInterval());
            default -> {
              if (!(fsync instanceof ScalarNode) || !v.matches("[0-9.]+\\s*(ms|s|m)")) {
                throw invalid(
                    line(fsync),
                    path + ".fsync",
                    "must be every_record, interval (every 1s), a duration such as 200ms or 1s,"
                        + " or never, not "
                        + kind(fsync));
              }
              yield c.withFsync(AuditConfig.Fsync.INTERVAL, duration(fsync, path + ".fsync"));
            }
          };
    }
    long rotate = c.rotateBytes();
    if (m.containsKey("rotate_bytes")) {
      rotate = quantity(m.get("rotate_bytes"), path + ".rotate_bytes", true, true);
    }
    int keep = c.keep();
    if (m.containsKey("keep")) {
      keep = integer(m.get("keep"), path + ".keep");
      if (keep < 0) {
        throw invalid(line(m.get("keep")), path + ".keep", "must be 0 or more");
      }
    }
    c = c.withRotation(rotate, keep);
    if (m.containsKey("fail_closed")) {
      c = c.withFailClosed(bool(m.get("fail_closed"), path + ".fail_closed"));
    }
    if (m.containsKey("queue")) {
      int q = integer(m.get("queue"), path + ".queue");
      if (q < 1) {
        throw invalid(line(m.get("queue")), path + ".queue", "must be 1 or more");
      }
      c = c.withQueueCapacity(q);
    }
    return c;
  }

  private InputLimits limits(Map<String, Node> m, String path, InputLimits base) {
    InputLimits l = base;
    if (m.containsKey("payload_bytes")) {
      l = l.withPayloadBytes(quantity(m.get("payload_bytes"), path + ".payload_bytes", true, true));
    }
    if (m.containsKey("depth")) {
      l =
          l.withDepth(
              (int)
                  Math.min(
                      Integer.MAX_VALUE, quantity(m.get("depth"), path + ".depth", false, true)));
    }
    if (m.containsKey("collection_length")) {
      l =
          l.withCollectionLength(
              quantity(m.get("collection_length"), path + ".collection_length", false, true));
    }
    if (m.containsKey("string_bytes")) {
      l = l.withStringBytes(quantity(m.get("string_bytes"), path + ".string_bytes", true, true));
    }
    if (m.containsKey("ndarray_elements")) {
      l =
          l.withNdarrayElements(
              quantity(m.get("ndarray_elements"), path + ".ndarray_elements", false, true));
    }
    return l;
  }

  private Map<String, RateLimits.Rate> buckets(Node node, String path) {
    Map<String, RateLimits.Rate> out = new LinkedHashMap<>();
    if (node == null) {
      return out;
    }
    for (Map.Entry<String, Node> e : stringMap(node, path).entrySet()) {
      String at = path + "." + e.getKey();
      Node v = e.getValue();
      Node rateNode = v;
      Node burstNode = null;
      if (v instanceof MappingNode) {
        Map<String, Node> bm = mapping(v, at, BUCKET_KEYS, "a token bucket {rate, burst}");
        rateNode = required(bm, "rate", v, at, "calls per second, or N/s, N/m, N/h, N/d");
        burstNode = bm.get("burst");
      }
      double[] rate = rate(rateNode, at + (v instanceof MappingNode ? ".rate" : ""));
      long burst = (long) Math.max(1, Math.ceil(rate[1]));
      if (burstNode != null) {
        burst = quantity(burstNode, at + ".burst", false, false);
      }
      out.put(e.getKey(), new RateLimits.Rate(rate[0], burst));
    }
    return out;
  }

  /** {@code 10}, {@code 10/s}, {@code 600/m}, {@code 1000/h}, {@code 10000/d}: [per second, N]. */
  private double[] rate(Node node, String path) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      java.util.regex.Matcher mt =
          java.util.regex.Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*(?:/\\s*([smhd]))?")
              .matcher(s.getValue().trim());
      if (mt.matches()) {
        double n = Double.parseDouble(mt.group(1));
        double seconds =
            mt.group(2) == null
                ? 1
                : switch (mt.group(2)) {
                  case "s" -> 1;
                  case "m" -> 60;
                  case "h" -> 3600;
                  default -> 86_400;
                };
        if (n > 0) {
          return new double[] {n / seconds, n};
        }
      }
    }
    throw invalid(
        line(node),
        path,
        "must be a positive rate such as 10 (per second), 10/s, 600/m, 1000/h or 10000/d, not "
            + kind(node));
  }

  private Sandbox sandbox(Node node, String path, Sandbox base) {
    Map<String, Node> m = mapping(node, path, SANDBOX_KEYS, "the worker resource limits");
    long memory = base.memoryBytes();
    long cpu = base.cpuSeconds();
    long files = base.openFiles();
    if (m.containsKey("memory")) {
      memory = quantity(m.get("memory"), path + ".memory", true, true);
    }
    if (m.containsKey("cpu_seconds")) {
      cpu = quantity(m.get("cpu_seconds"), path + ".cpu_seconds", false, true);
    }
    if (m.containsKey("open_files")) {
      files = quantity(m.get("open_files"), path + ".open_files", false, true);
    }
    return new Sandbox(memory, cpu, files);
  }

  /** A map keyed by strings (globs), in file order. */
  private Map<String, Node> stringMap(Node node, String path) {
    if (!(node instanceof MappingNode mn)) {
      throw invalid(line(node), path, "must be a map of name patterns, not " + kind(node));
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : mn.getValue()) {
      out.put(string(t.getKeyNode(), path), t.getValueNode());
    }
    return out;
  }

  /**
   * A whole number, 0 meaning "no limit" when {@code zero} is allowed; with {@code units}, also a
   * size such as 64KiB, 16MiB, 8GiB (or KB, MB, GB).
   */
  private long quantity(Node node, String path, boolean units, boolean zero) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      java.util.regex.Matcher mt =
          java.util.regex.Pattern.compile("(\\d+)\\s*([KMGT]i?B)?").matcher(s.getValue().trim());
      if (mt.matches() && (units || mt.group(2) == null)) {
        try {
          long n = Long.parseLong(mt.group(1));
          long unit =
              mt.group(2) == null
                  ? 1
                  : switch (mt.group(2)) {
                    case "KiB" -> 1L << 10;
                    case "MiB" -> 1L << 20;
                    case "GiB" -> 1L << 30;
                    case "TiB" -> 1L << 40;
                    case "KB" -> 1000L;
                    case "MB" -> 1000_000L;
                    case "GB" -> 1000_000_000L;
                    default -> 1000_000_000_000L;
                  };
          long v = Math.multiplyExact(n, unit);
          if (v > 0 || zero) {
            return v;
          }
        } catch (NumberFormatException | ArithmeticException e) {
          // falls through to the message below
        }
      }
    }
    throw invalid(
        line(node),
        path,
        "must be "
            + (units ? "a size such as 65536, 512KiB, 16MiB or 8GiB" : "a whole number")
            + (zero ? " (0 for no limit)" : ", 1 or more")
            + ", not "
            + kind(node));
  }

  // ---- typed access with messages ----------------------------------------------------------

  private Map<String, Node> mapping(Node node, String path, Set<String> allowed, String what) {
    if (!(node instanceof MappingNode mn)) {
      throw invalid(
          line(node),
          path,
          "must be " + what + " (a map of keys " + sorted(allowed) + "), not " + kind(node));
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : mn.getValue()) {
      String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
      String at = path.isEmpty() ? String.valueOf(key) : path + "." + key;
      if (key == null || !allowed.contains(key)) {
        String hint = key == null ? "" : closest(key, allowed);
        throw invalid(
            line(t.getKeyNode()),
            at,
            "is not a known key"
                + (hint.isEmpty() ? "" : " (did you mean '" + hint + "'?)")
                + "; "
                + what
                + " takes "
                + sorted(allowed));
      }
      out.put(key, t.getValueNode());
    }
    return out;
  }

  private Node required(Map<String, Node> m, String key, Node parent, String path, String what) {
    Node n = m.get(key);
    if (n == null) {
      throw invalid(line(parent), path, "needs key '" + key + "': " + what);
    }
    return n;
  }

  private List<Node> sequence(Node node, String path, String what) {
    if (node instanceof SequenceNode sn) {
      return sn.getValue();
    }
    throw invalid(line(node), path, "must be " + what + ", not " + kind(node));
  }

  private String string(Node node, String path) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      return s.getValue();
    }
    throw invalid(line(node), path, "must be a string, not " + kind(node));
  }

  private boolean bool(Node node, String path) {
    if (node instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) {
      return Boolean.parseBoolean(s.getValue());
    }
    throw invalid(line(node), path, "must be true or false, not " + kind(node));
  }

  private int integer(Node node, String path) {
    if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
      try {
        return Integer.parseInt(s.getValue());
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
    }
    throw invalid(line(node), path, "must be a whole number, not " + kind(node));
  }

  private static String kind(Node node) {
    return switch (node) {
      case MappingNode m -> "a map";
      case SequenceNode s -> "a list";
      case ScalarNode s when s.getTag().equals(Tag.NULL) -> "empty";
      case ScalarNode s when s.getTag().equals(Tag.STR) -> "the string '" + s.getValue() + "'";
      case ScalarNode s -> s.getValue();
      default -> node.getNodeId().toString();
    };
  }

  private static int line(Node node) {
    return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
  }

  private String where(int line, String path) {
    return source + (line > 0 ? ":" + line : "") + (path.isEmpty() ? "" : " " + path);
  }

  private StatusException invalid(int line, String path, String problem) {
    return Status.INVALID_ARGUMENT
        .withDescription(where(line, path) + ": " + problem)
        .asException();
  }

  private static List<String> sorted(Set<String> keys) {
    return keys.stream().sorted().toList();
  }

  /** The allowed key within edit distance 2 of a misspelt one, or empty. */
  private static String closest(String key, Set<String> allowed) {
    String best = "";
    int bestDistance = 3;
    for (String a : sorted(allowed)) {
      int d = distance(key.toLowerCase(java.util.Locale.ROOT), a);
      if (d < bestDistance) {
        best = a;
        bestDistance = d;
      }
    }
    return best;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
