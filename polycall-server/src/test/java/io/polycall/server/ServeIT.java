package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code bin/polycall serve} as a real process with the example config, and a real Python
 * client (the SDK's {@code polycall.connect}) against the socket it serves. Run by failsafe after
 * 'package' built the shaded jar.
 */
class ServeIT {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();
  private static final Path PYTHON = ROOT.resolve("sdks/python/.venv/bin/python");

  @TempDir Path dir;

  /** A running {@code polycall serve}, its output going to files. */
  private record Served(Process process, Path out, Path err) {
    String stdout() throws IOException {
      return Files.readString(out, StandardCharsets.UTF_8);
    }

    String stderr() throws IOException {
      return Files.readString(err, StandardCharsets.UTF_8);
    }
  }

  private Served serve(String... args) throws IOException {
    assumeTrue(
        Files.isRegularFile(ROOT.resolve("polycall-server/target/polycall.jar")),
        "the shaded jar is built by 'package'");
    List<String> cmd = new ArrayList<>();
    cmd.add(ROOT.resolve("bin/polycall").toString());
    cmd.addAll(List.of("--config", ROOT.resolve("examples/polycall.yaml").toString(), "serve"));
    cmd.addAll(List.of(args));
    Path out = dir.resolve("serve.out");
    Path err = dir.resolve("serve.err");
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    return new Served(p, out, err);
  }

  /** Waits (bounded) for the node to write its socket path, which it does once it is ready. */
  private static String awaitSocket(Served s, Path socketFile) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(socketFile)) {
      if (!s.process().isAlive()) {
        throw new AssertionError(
            "polycall serve exited with " + s.process().exitValue() + ": " + s.stderr());
      }
      if (System.nanoTime() > deadline) {
        s.process().destroyForcibly();
        throw new AssertionError("polycall serve was not ready within a minute: " + s.stderr());
      }
      Thread.sleep(50);
    }
    return Files.readString(socketFile, StandardCharsets.UTF_8).strip();
  }

  private static int awaitExit(Served s) throws Exception {
    if (!s.process().waitFor(60, TimeUnit.SECONDS)) {
      s.process().destroyForcibly();
      throw new AssertionError("polycall serve did not stop within a minute: " + s.stderr());
    }
    return s.process().exitValue();
  }

  private String python(String script, String socket) throws Exception {
    Path out = dir.resolve("client.out");
    Path err = dir.resolve("client.err");
    Process p =
        new ProcessBuilder(PYTHON.toString(), "-c", script, socket)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the Python client did not finish within a minute");
    }
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), stderr);
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  @Test
  void aPythonClientCallsJavaAndPythonFunctionsThroughTheServedSocket() throws Exception {
    assumeTrue(Files.isExecutable(PYTHON), "no Python SDK environment; run make sdk-envs");
    Path socketFile = dir.resolve("socket.path");
    Served s = serve("--for", "5s", "--socket-file", socketFile.toString());
    String socket = awaitSocket(s, socketFile);
    String out =
        python(
            """
            import sys
            import numpy as np
            import polycall
            with polycall.connect(sys.argv[1]) as c:
                print(c.call("math.add", 1, 2))
                print(c.call("npstats.mean", np.array([1.0, 2.0, 6.0])))
            """,
            socket);
    assertEquals(List.of("3", "3.0"), out.lines().toList());

    assertEquals(0, awaitExit(s), s.stderr());
    assertEquals(socket + "\n", s.stdout());
    String log = s.stderr();
    assertTrue(log.contains("started worker pystats-0"), log);
    assertTrue(log.contains("[pystats-0 pid"), log);
    assertTrue(log.contains("--for 5s is over; draining the workers"), log);
    assertTrue(log.contains("stopped"), log);
    assertTrue(Files.notExists(socketFile), "the socket file is removed on exit");
    assertTrue(Files.notExists(Path.of(socket)), "the socket is removed on exit");
  }

  @Test
  void sigtermDrainsTheWorkersAndStops() throws Exception {
    Path socketFile = dir.resolve("socket.path");
    Served s = serve("--for", "5m", "--socket-file", socketFile.toString());
    String socket = awaitSocket(s, socketFile);
    s.process().destroy(); // SIGTERM
    int code = awaitExit(s);
    assertEquals(143, code, s.stderr()); // 128 + SIGTERM, after the shutdown hook ran
    String log = s.stderr();
    assertTrue(log.contains("signal received; draining the workers"), log);
    assertTrue(log.contains("stopped"), log);
    assertTrue(Files.notExists(Path.of(socket)), "the socket is removed on exit");
  }

  @Test
  void serveWithHttpAnswersCurlStyleCallsAndLogsWhereItListens() throws Exception {
    Path socketFile = dir.resolve("socket.path");
    Served s =
        serve("--for", "30s", "--socket-file", socketFile.toString(), "--http", "127.0.0.1:0");
    awaitSocket(s, socketFile);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("HTTP gateway listening on http://127\\.0\\.0\\.1:(\\d+)")
            .matcher(s.stderr());
    assertTrue(m.find(), s.stderr());
    String base = "http://127.0.0.1:" + m.group(1);
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> r =
        client.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/call/math.add"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("[1, 2]"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals("{\"result\":3}", r.body());
    java.net.http.HttpResponse<String> missing =
        client.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/call/math.ad"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("[1, 2]"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(404, missing.statusCode(), missing.body());
    s.process().destroy();
    awaitExit(s);
  }

  @Test
  void aMalformedHttpAddressIsAUsageError() throws Exception {
    Served s = serve("--http", "localhost");
    assertEquals(2, awaitExit(s));
    assertTrue(s.stderr().contains("--http 'localhost' is not HOST:PORT"), s.stderr());
  }

  @Test
  void grpcIsServedAndTheReadyFileSaysWhere() throws Exception {
    Path ready = dir.resolve("ready.json");
    Served s = serve("--for", "5m", "--grpc", "127.0.0.1:0", "--ready-file", ready.toString());
    String text = awaitSocket(s, ready);
    var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
    String socket = json.get("socket").asText();
    String grpc = json.get("grpc").asText();
    assertTrue(grpc.startsWith("127.0.0.1:"), text);
    assertTrue(Files.exists(Path.of(socket)), text);
    try (io.polycall.grpc.GrpcClient client = io.polycall.grpc.GrpcClient.connect(grpc)) {
      assertEquals(
          io.polycall.Value.i64(3),
          client.call("math.add", io.polycall.Value.i64(1), io.polycall.Value.i64(2)));
    }
    assertTrue(s.stderr().contains("gRPC listening on " + grpc), s.stderr());
    s.process().destroy(); // SIGTERM
    assertEquals(143, awaitExit(s), s.stderr());
    assertTrue(Files.notExists(ready), "the ready file is removed on exit");
  }

  @Test
  void aBadGrpcAddressIsAUsageError() throws Exception {
    Served s = serve("--grpc", "nowhere");
    assertEquals(2, awaitExit(s));
    assertTrue(s.stderr().contains("--grpc 'nowhere' is not HOST:PORT"), s.stderr());
  }

  @Test
  void aBadDurationIsAUsageError() throws Exception {
    Served s = serve("--for", "soon");
    assertEquals(2, awaitExit(s));
    assertTrue(s.stderr().contains("--for soon is not a duration"), s.stderr());
  }
}
