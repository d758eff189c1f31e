package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.grpc.GrpcClient;
import io.polycall.grpc.RemoteBridge;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4's distributed test: the example of {@code examples/distributed} on three real {@code
 * bin/polycall serve} processes (separate JVMs, each with its numpy worker pool) on loopback. This
 * test is the driver: a node of its own whose remote bridge attaches the three, splitting {@code
 * A @ B} by rows. One node is killed with SIGKILL while it runs blocks; the job completes through
 * the other two with the product of a single-node run.
 */
class DistributedMatmulIT {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();
  private static final int N = 120;
  private static final int BLOCK = 6;

  @TempDir Path dir;
  private final List<Process> nodes = new ArrayList<>();
  private final List<String> targets = new ArrayList<>();
  private PolyCall driver;

  @AfterEach
  void stop() {
    if (driver != null) {
      driver.close();
    }
    nodes.forEach(Process::destroyForcibly);
  }

  /** Starts node i of the example on a free port, writing its ready file when it serves. */
  private Process launch(int i, String... more) throws Exception {
    String config = i == 0 ? "front.yaml" : "node" + i + ".yaml";
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ROOT.resolve("bin/polycall").toString(),
                "--config",
                ROOT.resolve("examples/distributed/" + config).toString(),
                "serve",
                "--grpc",
                "127.0.0.1:0",
                "--ready-file",
                dir.resolve("node" + i + ".json").toString()));
    cmd.addAll(List.of(more));
    return new ProcessBuilder(cmd)
        .redirectOutput(dir.resolve("node" + i + ".out").toFile())
        .redirectError(dir.resolve("node" + i + ".err").toFile())
        .start();
  }

  /** Waits (bounded) for node i's ready file; returns its gRPC target. */
  private String awaitReady(int i, Process p) throws Exception {
    Path ready = dir.resolve("node" + i + ".json");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(ready)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError(
            "node " + i + " did not start: " + Files.readString(dir.resolve("node" + i + ".err")));
      }
      Thread.sleep(50);
    }
    String json = Files.readString(ready, StandardCharsets.UTF_8);
    return new ObjectMapper().readTree(json).get("grpc").asText();
  }

  /** Small whole numbers, so that every way of summing gives exactly the same doubles. */
  private static double[] matrix(int seed) {
    double[] m = new double[N * N];
    for (int i = 0; i < m.length; i++) {
      m[i] = ((i * 31L + seed * 17L) % 11) - 5;
    }
    return m;
  }

  private static Value.NdArray array(double[] data, int offset, int rows, int cols) {
    Value.NdArray a = Value.NdArray.allocate(Type.Scalar.F64, rows, cols);
    MemorySegment.copy(
        MemorySegment.ofArray(data),
        ValueLayout.JAVA_DOUBLE,
        (long) offset * Double.BYTES,
        a.data(),
        ValueLayout.JAVA_DOUBLE,
        0,
        (long) rows * cols);
    return a;
  }

  @Test
  void aMatrixMultiplySplitByRowsSurvivesANodeKilledMidRunWithTheSingleNodeResult()
      throws Exception {
    assumeTrue(
        Files.isRegularFile(ROOT.resolve("polycall-server/target/polycall.jar")),
        "the shaded jar is built by 'package'");
    assumeTrue(
        Files.isExecutable(ROOT.resolve("sdks/python/.venv/bin/python")),
        "no Python SDK environment; run make sdk-envs");
    for (int i = 1; i <= 3; i++) {
      nodes.add(launch(i)); // three JVMs starting at once
    }
    for (int i = 1; i <= 3; i++) {
      targets.add(awaitReady(i, nodes.get(i - 1)));
    }
    double[] a = matrix(1);
    double[] b = matrix(2);
    Value bv = array(b, 0, N, N);

    // The single-node run: the whole product on node 1.
    double[] single;
    try (GrpcClient one = GrpcClient.connect(targets.getFirst())) {
      single =
          ((Value.NdArray) one.call("matmul.rows", array(a, 0, N, N), bv, Value.i64(0)))
              .toDoubleArray();
    }

    driver = PolyCall.create();
    RemoteBridge bridge =
        driver.addBridge(
            RemoteBridge.builder(driver.registry(), "driver")
                .peers(targets)
                .healthInterval(Duration.ofSeconds(1))
                .refreshInterval(Duration.ofSeconds(30))
                .build());
    bridge.start();
    // On a loaded machine a first health check can time out; every node must be in rotation
    // before the blocks go out, or node 2 might get none to die under.
    long healthy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!bridge.peers().stream().allMatch(RemoteBridge.PeerStatus::healthy)) {
      assertTrue(System.nanoTime() < healthy, "nodes not healthy: " + bridge.peers());
      Thread.sleep(100);
      bridge.checkHealth();
    }
    assertEquals(
        3,
        bridge.peers().stream().filter(p -> p.functions().contains("matmul.rows@1")).count(),
        bridge.peers().toString());

    // Every block at once, each taking ~300 ms on its node: the router spreads them by load.
    List<CompletableFuture<Value>> blocks = new ArrayList<>();
    for (int r = 0; r < N; r += BLOCK) {
      blocks.add(driver.callAsync("matmul.rows", array(a, r * N, BLOCK, N), bv, Value.i64(300)));
    }
    // Kill node 2 while it is running blocks of ours.
    String victim = targets.get(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (bridge.peers().stream()
        .noneMatch(p -> p.address().equals(victim) && p.outstanding() > 0)) {
      assertTrue(System.nanoTime() < deadline, "node 2 never got a block: " + bridge.peers());
      Thread.sleep(5);
    }
    nodes.get(1).destroyForcibly(); // SIGKILL
    nodes.get(1).waitFor(10, TimeUnit.SECONDS);
    assertFalse(nodes.get(1).isAlive());

    double[] distributed = new double[N * N];
    int r = 0;
    for (CompletableFuture<Value> f : blocks) {
      double[] rows = ((Value.NdArray) f.get(60, TimeUnit.SECONDS)).toDoubleArray();
      System.arraycopy(rows, 0, distributed, r * N, rows.length);
      r += BLOCK;
    }
    assertArrayEquals(single, distributed);

    // The dead node is out of rotation; the other two still serve.
    assertFalse(
        bridge.peers().stream()
            .filter(p -> p.address().equals(victim))
            .findFirst()
            .orElseThrow()
            .healthy());
    for (int i : new int[] {0, 2}) {
      try (GrpcClient c = GrpcClient.connect(targets.get(i))) {
        assertEquals(Value.str("node-" + (i + 1)), c.call("matmul.node"));
      }
    }
  }

  @Test
  void theExamplesPythonDriverMultipliesThroughAFrontNodeGivenItsPeerOnTheCommandLine()
      throws Exception {
    Path python = ROOT.resolve("sdks/python/.venv/bin/python");
    assumeTrue(
        Files.isRegularFile(ROOT.resolve("polycall-server/target/polycall.jar")),
        "the shaded jar is built by 'package'");
    assumeTrue(Files.isExecutable(python), "no Python SDK environment; run make sdk-envs");
    nodes.add(launch(1));
    String node1 = awaitReady(1, nodes.getFirst());
    // The front node has no functions; --peer adds node 1 to front.yaml's static peers.
    nodes.add(launch(0, "--peer", node1));
    String front = awaitReady(0, nodes.get(1));
    Path out = dir.resolve("driver.out");
    Path err = dir.resolve("driver.err");
    Process driverProcess =
        new ProcessBuilder(
                python.toString(),
                ROOT.resolve("examples/distributed/driver.py").toString(),
                "grpc://" + front,
                "--size",
                "60",
                "--block",
                "10")
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    nodes.add(driverProcess);
    assertTrue(driverProcess.waitFor(60, TimeUnit.SECONDS), "driver.py did not finish in 60 s");
    assertEquals(0, driverProcess.exitValue(), Files.readString(err));
    String printed = Files.readString(out);
    assertTrue(printed.startsWith("60x60 in 6 blocks"), printed);
    String frontLog = Files.readString(dir.resolve("node0.err"));
    assertTrue(frontLog.contains("node-1@" + node1), frontLog);
  }
}
