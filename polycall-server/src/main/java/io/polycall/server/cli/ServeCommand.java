package io.polycall.server.cli;

import io.polycall.StatusException;
import io.polycall.security.ListenerSafety;
import io.polycall.server.Node;
import io.polycall.server.PolyCallConfig;
import io.polycall.server.internal.ConfigReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polycall serve}: starts the node the config describes (its worker pools included) and
 * serves its Unix socket until SIGINT/SIGTERM, or for {@code --for DURATION}. Stopping drains the
 * workers: calls in flight finish, then the processes exit.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Starts the node from the config, worker pools included, and serves its Unix socket until"
          + " Ctrl-C (SIGINT) or SIGTERM, which drain the workers before exiting.",
      "Prints the socket path on stdout when the node is ready; clients connect to it (Python:"
          + " polycall.connect(path), Node: polycall.connect(path)). Logs go to stderr."
    },
    footer = {
      "",
      "Examples:",
      "  polycall --config examples/polycall.yaml serve",
      "  polycall serve --socket-file /tmp/polycall.path --for 30s",
      "  polycall serve --http 127.0.0.1:8080",
      "  polycall serve --grpc 127.0.0.1:50051 --ready-file /tmp/node.json"
    })
final class ServeCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger("io.polycall.server.serve");

  /** How long a signal waits for the drain before the JVM exits anyway. */
  private static final Duration DRAIN_LIMIT = Duration.ofSeconds(30);

  @CommandLine.ParentCommand PolyCallCli cli;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--socket-file",
      paramLabel = "FILE",
      description =
          "Also write the socket path to FILE once the node is ready (removed on exit), for"
              + " scripts and tests.")
  Path socketFile;

  @Option(
      names = "--http",
      paramLabel = "HOST:PORT",
      description =
          "Also serve the HTTP gateway (JSON/CBOR calls, OpenAPI, WebSocket; docs/http.md) on"
              + " HOST:PORT, such as 127.0.0.1:8080 (port 0 picks a free one). Overrides the"
              + " config's http.listen.")
  String http;

  @Option(
      names = "--peer",
      paramLabel = "HOST:PORT",
      description =
          "Attach another node's gRPC server (repeatable); added to the config's peers.static.")
  List<String> peers = new ArrayList<>();

  @Option(
      names = "--grpc",
      paramLabel = "HOST:PORT",
      description =
          "Also serve gRPC (polycall.v1.PolyCall, a method per function, reflection, health;"
              + " spec/WIRE.md) on HOST:PORT, such as 127.0.0.1:50051 (port 0 picks a free one)."
              + " Overrides the config's grpc.listen.")
  String grpc;

  @Option(
      names = "--ready-file",
      paramLabel = "FILE",
      description =
          "Once the node is ready, write FILE (atomically, removed on exit) with one JSON object"
              + " naming where it listens: {\"socket\": PATH, \"grpc\": \"HOST:PORT\", ...}.")
  Path readyFile;

  @Option(
      names = "--insecure",
      description =
          "Start even though a gRPC or HTTP listener is bound beyond loopback without"
              + " authentication (refused otherwise). Logged at WARNING at start and every 10"
              + " minutes.")
  boolean insecure;

  /** How often an insecure node says so again. */
  private static final Duration INSECURE_REMINDER = Duration.ofMinutes(10);

  @Option(
      names = "--for",
      paramLabel = "DURATION",
      description = "Stop after this long (500ms, 30s, 5m) instead of waiting for a signal.")
  String duration;

  @Override
  public Integer call() throws InterruptedException {
    Duration limit = duration == null ? null : CallCommand.parseDuration("--for", duration);
    PolyCallConfig config;
    Node.Serving serving;
    try {
      config = withGrpcOption(withHttpOption(cli.loadConfig()));
      if (!peers.isEmpty()) {
        config = config.withPeers(config.peers().withMorePeers(peers));
      }
      LOG.log(Level.INFO, "starting the node from {0}", config.source());
      serving = Node.serve(config, insecure);
    } catch (StatusException e) {
      throw new PolyCallCli.ConfigException(e.status());
    }
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              LOG.log(Level.INFO, "signal received; draining the workers");
              stop.countDown();
              try {
                stopped.await(DRAIN_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "polycall-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      int functions = serving.node().functions("**").size();
      LOG.log(
          Level.INFO,
          "serving {0} functions on {1}{2}",
          functions,
          serving.socketPath(),
          limit == null ? "; Ctrl-C to stop" : " for " + duration);
      PrintWriter out = spec.commandLine().getOut();
      out.println(serving.socketPath());
      out.flush();
      if (socketFile != null) {
        writeAtomically(socketFile, serving.socketPath() + "\n");
      }
      if (readyFile != null) {
        writeAtomically(readyFile, readyJson(serving));
      }
      List<ListenerSafety.Listener> exposed = insecure ? Node.insecureListeners(config) : List.of();
      long deadline = limit == null ? 0 : System.nanoTime() + limit.toNanos();
      while (true) {
        long wait = limit == null ? Long.MAX_VALUE : deadline - System.nanoTime();
        if (!exposed.isEmpty()) {
          wait = Math.min(wait, INSECURE_REMINDER.toNanos());
        }
        if (stop.await(wait, TimeUnit.NANOSECONDS)) {
          break;
        }
        if (limit != null && deadline - System.nanoTime() <= 0) {
          LOG.log(Level.INFO, "--for {0} is over; draining the workers", duration);
          break;
        }
        ListenerSafety.warn(exposed);
      }
    } finally {
      try {
        serving.close();
        if (socketFile != null) {
          deleteQuietly(socketFile);
        }
        if (readyFile != null) {
          deleteQuietly(readyFile);
        }
        LOG.log(Level.INFO, "stopped");
      } finally {
        stopped.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // the JVM is already shutting down: the hook is what woke us up
        }
      }
    }
    return ExitCodes.OK;
  }

  private PolyCallConfig withHttpOption(PolyCallConfig config) {
    if (http == null) {
      return config;
    }
    ConfigReader.HostPort listen = ConfigReader.hostPort(http);
    if (listen == null) {
      throw new PolyCallCli.UsageException(
          io.polycall.Status.INVALID_ARGUMENT.withDescription(
              "--http '"
                  + http
                  + "' is not HOST:PORT; write 127.0.0.1:8080 (port 0 picks a free one)"));
    }
    PolyCallConfig.HttpSpec spec = config.http();
    return config.withHttp(
        spec == null
            ? PolyCallConfig.HttpSpec.of(listen.host(), listen.port(), "--http")
            : spec.withListen(listen.host(), listen.port()));
  }

  private PolyCallConfig withGrpcOption(PolyCallConfig config) {
    if (grpc == null) {
      return config;
    }
    ConfigReader.HostPort listen = ConfigReader.hostPort(grpc);
    if (listen == null) {
      throw new PolyCallCli.UsageException(
          io.polycall.Status.INVALID_ARGUMENT.withDescription(
              "--grpc '"
                  + grpc
                  + "' is not HOST:PORT; write 127.0.0.1:50051 (port 0 picks a free one)"));
    }
    PolyCallConfig.GrpcSpec spec = config.grpc();
    return config.withGrpc(
        spec == null
            ? PolyCallConfig.GrpcSpec.of(listen.host(), listen.port(), "--grpc")
            : spec.withListen(listen.host(), listen.port()));
  }

  /**
   * The ready file's JSON: {@code socket} always, {@code grpc} and {@code http} when served, each
   * as a client dials it ({@code 127.0.0.1:PORT} for a server bound to every address).
   */
  static String readyJson(Node.Serving serving) {
    var json = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    json.put("socket", String.valueOf(serving.socketPath()));
    if (serving.grpc() != null) {
      json.put("grpc", serving.grpc().target());
    }
    if (serving.http() != null) {
      java.net.InetSocketAddress a = serving.http().address();
      String h =
          a.getAddress() == null || a.getAddress().isAnyLocalAddress()
              ? "127.0.0.1"
              : a.getAddress().getHostAddress();
      json.put("http", (h.contains(":") ? "[" + h + "]" : h) + ":" + serving.http().port());
    }
    return json.toString() + "\n";
  }

  /** Readers see the whole path or no file, never half a line. */
  private static void writeAtomically(Path file, String text) {
    Path abs = file.toAbsolutePath();
    Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new PolyCallCli.UsageException(
          io.polycall.Status.INVALID_ARGUMENT
              .withDescription(file + " cannot be written: " + e)
              .withCause(e));
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a stale file names a socket that no longer exists; nothing worse
    }
  }
}
