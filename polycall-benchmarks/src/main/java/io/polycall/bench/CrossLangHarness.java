package io.polycall.bench;

import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.core.PolyCall;
import io.polycall.worker.WorkerSpec;
import io.polycall.worker.WorkerSupervisor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cross-language harness: Java calling Python through PolyCall and through its peers, in one
 * run, printed as percentiles with the ratios the issues ask for.
 *
 * <p>Usage: {@code CrossLangHarness PYTHON_EXE SCRIPTS_DIR}, where PYTHON_EXE has py4j, numpy and
 * the PolyCall Python SDK installed and SCRIPTS_DIR holds py4j_peer.py and bench_py.py. {@code make
 * bench-xlang} sets both up. {@code -Dsections=py4j,batch} runs only the named sections (grpc,
 * py4j, node, latency, throughput, batch, big; all by default): a quicker before/after of one
 * figure with its peer. The workers see this process's PYTHONPATH after the scripts, so that an SDK
 * from a source tree is the one measured.
 *
 * <p>Each one-in-flight latency (Py4J's and PolyCall's alike) follows {@code -Dwarmup} untimed
 * calls (20,000 by default) and times {@code -Dcalls} calls (50,000). With 2,000 warm-up calls,
 * most of the timed calls ran before C2 had compiled the caller's path (about 10,000 invocations),
 * and a run's p50 said more about the JIT than about the call.
 */
public final class CrossLangHarness {

  private static final String SECTIONS = System.getProperty("sections", "all");
  private static final int WARMUP = Integer.getInteger("warmup", 20_000);

  private static boolean runs(String section) {
    return SECTIONS.equals("all") || List.of(SECTIONS.split(",")).contains(section);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: CrossLangHarness PYTHON_EXE SCRIPTS_DIR");
      System.exit(2);
    }
    Path python = Path.of(args[0]);
    Path scripts = Path.of(args[1]).toAbsolutePath();
    int n = Integer.getInteger("calls", 50_000);
    List<String> lines = new ArrayList<>();

    String grpcLine = null;
    if (runs("grpc")) {
      try (GrpcPeer grpc = new GrpcPeer(python, scripts.resolve("grpc_peer.py"))) {
        for (int i = 0; i < 2_000; i++) {
          grpc.noop();
        }
        grpcLine =
            throughputOf("grpcio: 1 Python server, 64 in flight", 64, 50_000, grpc::noop)
                .toString();
      }
    }

    Latency.Summary py4j = null;
    if (runs("py4j")) {
      try (Py4jPeer peer = new Py4jPeer(python, scripts.resolve("py4j_peer.py"))) {
        Py4jPeer.Target t = peer.target();
        py4j = Latency.measure("py4j: Java -> Python no-op", WARMUP, n, t::noop);
      }
    }
    String inherited = System.getenv("PYTHONPATH");
    String pythonPath =
        inherited == null || inherited.isEmpty()
            ? scripts.toString()
            : scripts + java.io.File.pathSeparator + inherited;

    try (PolyCall pc = PolyCall.create()) {
      WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
      workers.add(
          WorkerSpec.python("bench", python, List.of("bench_py"))
              .withProcesses(2)
              .withMaxInFlight(1024)
              .withEnvironment(Map.of("PYTHONPATH", pythonPath)));
      Path nodeWorker =
          Path.of(System.getProperty("node.worker", "sdks/node/bin/polycall-worker.js"));
      boolean node = runs("node") && Files.isRegularFile(nodeWorker);
      if (node) {
        workers.add(
            WorkerSpec.node(
                    "benchjs", nodeWorker, List.of(scripts.resolve("bench_node.mjs").toString()))
                .withProcesses(2)
                .withMaxInFlight(1024));
      }
      if (!workers.awaitReady(Duration.ofSeconds(60))) {
        throw new IllegalStateException("the bench workers did not start");
      }
      if (py4j != null) {
        lines.add(py4j.toString());
      }
      Latency.Summary poly = measureBridge(pc, "benchpy", "Python", n, lines, grpcLine);
      if (py4j != null && poly != null) {
        lines.add(ratio("py4j p50 / polycall Python p50 (target >= 5x)", py4j.p50() / poly.p50()));
      }
      lines.add(rings(workers, "bench"));
      if (node) {
        measureBridge(pc, "benchjs", "Node", n, lines, null);
        lines.add(rings(workers, "benchjs"));
      }
    }

    System.out.println("Cross-language calls, same run:");
    lines.forEach(l -> System.out.println("  " + l));
    Path out = Path.of(System.getProperty("out", "build/bench/xlang.txt"));
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.write(out, lines);
  }

  /** The figures for one worker language; returns the one-in-flight latency (or null). */
  private static Latency.Summary measureBridge(
      PolyCall pc, String ns, String lang, int n, List<String> lines, String peer)
      throws Exception {
    Latency.Summary one = null;
    if (runs("latency")) {
      one =
          Latency.measure(
              "polycall: Java -> " + lang + " no-op", WARMUP, n, () -> pc.call(ns + ".noop"));
      lines.add(one.toString());
      lines.add(
          String.format(
              Locale.ROOT, "%-44s %s", "  p50 <= 20 us", one.p50() <= 20 ? "MET" : "MISSED"));
    }
    if (runs("throughput")) {
      lines.add(throughput(pc, ns, lang, 64, 100_000).toString());
    }
    if (peer != null) {
      lines.add(peer);
    }
    if (runs("batch")) {
      batch(pc, ns, lang, lines);
    }
    if (runs("big")) {
      big(pc, ns, lang, lines);
    }
    return one;
  }

  private static void batch(PolyCall pc, String ns, String lang, List<String> lines)
      throws Exception {
    int batchCalls = 1000;
    List<CallRequest> batch = new ArrayList<>();
    for (int i = 0; i < batchCalls; i++) {
      batch.add(CallRequest.of(ns + ".noop"));
    }
    Latency.Summary b =
        Latency.measure(
            "polycall: " + lang + " batch of 1000 no-op calls",
            // 200 warm-up batches (200,000 calls, under a second): with 20 the JIT was still
            // compiling the batch path's encoders while the measured runs began.
            Integer.getInteger("batch.warmup", 200),
            Integer.getInteger("batch.runs", 300),
            () -> {
              for (CallResult r : pc.batch(batch)) {
                r.valueOrThrow();
              }
            });
    lines.add(b.toString());
    lines.add(
        String.format(
            Locale.ROOT,
            "%-44s %10.0f calls/s (target >= 300000)",
            "  batch throughput",
            batchCalls / (b.p50() / 1e6)));
  }

  private static void big(PolyCall pc, String ns, String lang, List<String> lines)
      throws Exception {
    Value.NdArray eight = Value.NdArray.allocate(io.polycall.Type.Scalar.F64, 1 << 20);
    Latency.Summary big =
        Latency.measure(
            "polycall: 8 MB float64 Java -> " + lang + " -> Java",
            20,
            200,
            () -> pc.call(ns + ".echo", eight));
    lines.add(big.toString());
    lines.add(
        String.format(
            Locale.ROOT,
            "%-44s %8.2f ms (target <= 10 ms)",
            "  8 MB round trip p50",
            big.p50() / 1e3));
  }

  /** Frames the shared-memory rings carried for a pool (-Dpolycall.rings=false turns them off). */
  private static String rings(WorkerSupervisor workers, String pool) {
    long sent = 0;
    long received = 0;
    long wakes = 0;
    boolean on = false;
    for (var s : workers.ringStats(pool)) {
      on |= s.enabled();
      sent += s.framesSent();
      received += s.framesReceived();
      wakes += s.wakesSent();
    }
    return String.format(
        Locale.ROOT,
        "%-44s %s",
        "  " + pool + " shared-memory rings",
        on ? "frames sent " + sent + ", received " + received + ", wakes sent " + wakes : "off");
  }

  private static String ratio(String what, double r) {
    return String.format(Locale.ROOT, "%-44s %8.2fx", what, r);
  }

  private static Latency.Summary throughput(
      PolyCall pc, String ns, String lang, int inFlight, int total) throws Exception {
    return throughputOf(
        "polycall: 2 " + lang + " processes, " + inFlight + " in flight",
        inFlight,
        total,
        () -> pc.call(ns + ".noop"));
  }

  /**
   * {@code inFlight} virtual threads calling in a loop until {@code total} calls are done, timed
   * after the same load ran untimed for a fifth as many calls (PolyCall and its peers alike: the
   * first calls otherwise measure the JIT and the peers' thread pools filling up).
   */
  private static Latency.Summary throughputOf(String name, int inFlight, int total, Latency.Op op)
      throws Exception {
    run(inFlight, total / 5, op);
    long t0 = System.nanoTime();
    run(inFlight, total, op);
    double secs = (System.nanoTime() - t0) / 1e9;
    return new Latency.Summary(name, total, 0, 0, 0, total / secs);
  }

  private static void run(int inFlight, int total, Latency.Op op) throws InterruptedException {
    AtomicLong left = new AtomicLong(total);
    CountDownLatch done = new CountDownLatch(inFlight);
    for (int i = 0; i < inFlight; i++) {
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (left.decrementAndGet() >= 0) {
                    op.run();
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                } finally {
                  done.countDown();
                }
              });
    }
    done.await();
  }
}
