package io.polycall.server.internal;

import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.FunctionHandle;
import io.polycall.core.PolyCall;
import io.polycall.core.PolyNamespace;
import io.polycall.ffi.NativeBridge;
import io.polycall.ffi.NativeLibrary;
import io.polycall.gateway.JsonValues;
import io.polycall.server.PolyCallConfig.WorkerPoolSpec;
import io.polycall.server.examples.MathFunctions;
import io.polycall.server.examples.StatsFunctions;
import io.polycall.worker.WorkerSpec;
import io.polycall.worker.WorkerSupervisor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleFunction;
import java.util.function.IntBinaryOperator;
import java.util.function.LongSupplier;
import java.util.zip.CRC32;

/**
 * The tour {@code polycall demo} prints. Self-contained: it builds its own node, so it shows the
 * same thing whatever config is around. Sections whose library is missing say so and go on.
 *
 * <p>Not thread-safe; one run at a time.
 */
public final class Demo {
  /** Frames to show of an error's stack: enough to see each language, not the JVM's plumbing. */
  private static final int FRAMES = 8;

  /** How long the demo waits for its workers: Python with numpy starts in a second or two. */
  private static final Duration WORKER_START = Duration.ofSeconds(20);

  private final PrintWriter out;
  private int section;
  private boolean python;
  private boolean node;

  public Demo(PrintWriter out) {
    this.out = out;
  }

  /** The typed view of the math functions, for calls through a generated proxy. */
  @PolyNamespace("math")
  public interface MathApi {
    long add(long a, long b);

    long divide(long a, long b);
  }

  public void run() {
    try (PolyCall pc = PolyCall.create()) {
      NativeBridge natives = pc.addBridge(NativeBridge.create(pc.registry()));
      registerJava(pc);
      boolean testlib = registerNative(natives);
      discover(pc);
      callAcrossBridges(pc, testlib);
      callback(pc, natives);
      workers(pc);
      errors(pc, testlib);
      latency(pc, testlib);
    }
    served();
    out.println();
    out.println("Done. Try: bin/polycall functions, bin/polycall call math.add 1 2");
    out.flush();
  }

  private void registerJava(PolyCall pc) {
    heading("Register Java functions");
    List<FunctionInfo> math = pc.jvm().register(new MathFunctions());
    List<FunctionInfo> stats = pc.jvm().register(StatsFunctions.class);
    pc.jvm()
        .register(
            "demo.shout(text: string) -> string",
            (java.util.function.UnaryOperator<String>) s -> s.toUpperCase(Locale.ROOT) + "!");
    step("@PolyFunction instance methods of MathFunctions: " + names(math));
    step("@PolyFunction static methods of StatsFunctions:  " + names(stats));
    step("a lambda with a declared signature:             demo.shout(text: string) -> string");
  }

  private void discover(PolyCall pc) {
    heading("Discover them: one namespace, two bridges");
    step("functions 'math.*':");
    for (FunctionInfo f : pc.functions("math.*")) {
      out.printf(
          "      %-14s %-6s %-26s %s%n",
          f.qualifiedName(),
          f.bridge(),
          f.signature().shape(),
          String.join(",", f.tags().stream().sorted().toList()));
    }
    FunctionInfo add = pc.describe("stats.summary");
    step("describe stats.summary:");
    out.println("      signature " + add.signature());
    out.println("      doc       " + add.doc());
  }

  private boolean registerNative(NativeBridge natives) {
    heading("Bind C functions (native bridge, java.lang.foreign)");
    NativeLibrary libm = natives.load("m");
    libm.register("math.cos(x: f64) -> f64 [critical, pure]");
    libm.register("math.pow(x: f64, y: f64) -> f64 [critical, pure]");
    step("libm (" + libm.loadedAs() + "): math.cos, math.pow");
    NativeLibrary zlib = natives.load("z");
    zlib.register("zlib.crc32(crc: u64 = 0, data: bytes, len: u32 = len(data)) -> u64 [critical]");
    step(
        "zlib ("
            + zlib.loadedAs()
            + "): zlib.crc32, its start value and length supplied by the bridge");
    Path testlib = testLibrary();
    if (!Files.isRegularFile(testlib)) {
      step("the project's C library is not built (" + testlib + "): run 'make native-testlib'");
      return false;
    }
    NativeLibrary t = natives.load(testlib.toString());
    t.register("ctest.add_i32(a: i32, b: i32) -> i32 [critical, pure]");
    t.register("ctest.sum_f64(xs: ndarray<f64>, n: u64 = len(xs)) -> f64 [pure]");
    t.register("ctest.greeting() -> string [symbol=pc_greeting]");
    t.register(
        "ctest.checked_div(a: i64, b: i64, quotient: out i64) -> i32"
            + " [error=nonzero, errno, message=pc_last_error]");
    step("libpolycalltest.so: ctest.add_i32, ctest.sum_f64, ctest.greeting, ctest.checked_div");
    return true;
  }

  private void callAcrossBridges(PolyCall pc, boolean testlib) {
    heading("Call them by name, whatever runs them");
    show(pc, "math.add", Value.i64(1), Value.i64(2));
    show(pc, "stats.mean", list(1, 2, 3, 4));
    show(pc, "stats.summary", list(3, 1, 4, 1, 5));
    show(pc, "demo.shout", Value.str("polycall"));
    show(pc, "math.cos", Value.f64(0));
    show(pc, "math.pow", Value.f64(2), Value.f64(10));
    byte[] data = "hello, polycall".getBytes(StandardCharsets.UTF_8);
    Value crc = show(pc, "zlib.crc32", Value.bytes(data));
    CRC32 expected = new CRC32();
    expected.update(data);
    step(
        "  java.util.zip.CRC32 agrees: "
            + (crc instanceof Value.Int i && i.value() == expected.getValue()));
    if (testlib) {
      show(pc, "ctest.add_i32", Value.i32(40), Value.i32(2));
      show(pc, "ctest.sum_f64", list(0.5, 1.5, 2));
      show(pc, "ctest.greeting");
    }
    MathApi api = pc.bind(MathApi.class);
    step("through a typed proxy: api.add(20, 22) = " + api.add(20, 22));
  }

  private void callback(PolyCall pc, NativeBridge natives) {
    heading("A callback from C into Java: libc qsort with a Java comparator");
    natives
        .load("c")
        .register(
            "libc.qsort(base: inout ndarray<i32>, n: u64 = len(base),"
                + " size: u64 = itemsize(base), cmp: fn(*i32, *i32) -> i32)");
    AtomicInteger comparisons = new AtomicInteger();
    Value.Fn cmp =
        pc.callback(
            "(a: i32, b: i32) -> i32",
            (IntBinaryOperator)
                (a, b) -> {
                  comparisons.incrementAndGet();
                  return Integer.compare(a, b);
                });
    int[] numbers = {42, -7, 19, 3, 88, 0, -15, 3};
    Value.NdArray xs = Value.NdArray.copyOf(numbers);
    step("before: " + Arrays.toString(numbers));
    pc.call("libc.qsort", xs, cmp);
    step("after:  " + Arrays.toString((int[]) xs.toJava()));
    step("qsort called the Java comparator " + comparisons.get() + " times, sorting in place");
    pc.release(cmp);
  }

  /** Python and Node functions in worker processes, when the SDK environments are there. */
  private void workers(PolyCall pc) {
    heading("Python and Node functions (worker processes on a Unix socket)");
    Optional<Path> root = WorkerRuntimes.repoRoot();
    Path examples = root.map(r -> r.resolve("examples")).orElse(Path.of("examples"));
    List<String> missing = new ArrayList<>();
    Optional<WorkerSpec> py =
        WorkerRuntimes.spec(demoPool("demo-py", "python", "workers/stats.py"), examples, missing);
    Optional<WorkerSpec> js =
        WorkerRuntimes.spec(demoPool("demo-js", "node", "workers/text.mjs"), examples, missing);
    for (String m : missing) {
      // "...: worker pool 'demo-py' (python): PROBLEM; FIX": the config's fix does not apply here.
      String problem = m.substring(m.indexOf("): ") + 3);
      problem = problem.contains("; ") ? problem.substring(0, problem.indexOf("; ")) : problem;
      step((m.contains("(python)") ? "no Python: " : "no Node: ") + problem);
    }
    if (py.isEmpty() && js.isEmpty()) {
      step("run 'make sdk-envs' (make demo does it) to see Java call Python and Node here");
      return;
    }
    WorkerSupervisor workers;
    try {
      workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    } catch (IOException e) {
      step("cannot open the node's Unix socket: " + e.getMessage());
      return;
    }
    // Worker start-up lines are for 'polycall serve'; here they would interleave with the tour.
    quiet("io.polycall.worker");
    long t0 = System.nanoTime();
    try {
      py.ifPresent(workers::add);
      js.ifPresent(workers::add);
      if (!workers.awaitReady(WORKER_START)) {
        step(
            "the workers did not start within "
                + WORKER_START.toSeconds()
                + " s; run"
                + " 'bin/polycall --config examples/polycall.yaml serve' to see their log");
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    python = py.isPresent();
    node = js.isPresent();
    step(
        String.format(
            Locale.ROOT,
            "started %s in %.1f s; they announced:",
            python && node
                ? "a Python and a Node worker"
                : python ? "a Python worker" : "a Node worker",
            (System.nanoTime() - t0) / 1e9));
    List<FunctionInfo> announced = new ArrayList<>(pc.functions("npstats.*"));
    announced.addAll(pc.functions("text.*"));
    for (FunctionInfo f : announced) {
      out.printf("      %-20s %-7s %s%n", f.qualifiedName(), f.bridge(), f.signature().shape());
    }
    if (python) {
      Value.NdArray xs = Value.NdArray.copyOf(new double[] {2.5, 3.5, 1.0, 4.0, 9.0});
      show(pc, "npstats.mean", xs);
      show(pc, "npstats.summary", xs);
    }
    if (node) {
      show(pc, "text.title", Value.str("one registry, five languages"));
    }
    if (python) {
      String via = node ? "Java -> Python -> Java -> Node" : "Java -> Python -> Java";
      step("a callback across languages, " + via + ":");
      step("  Java calls npstats.format_all(fmt, xs) in Python, passing a Java lambda as fmt;");
      step(
          node
              ? "  Python calls fmt back for each element; the lambda asks Node's text.format_number"
              : "  Python calls fmt back for each element (with Node, fmt would ask Node's Intl)");
      AtomicInteger calls = new AtomicInteger();
      Value.Fn fmt =
          pc.callback(
              "(x: f64) -> string",
              (DoubleFunction<String>)
                  x -> {
                    calls.incrementAndGet();
                    return node
                        ? ((Value.Str) pc.call("text.format_number", Value.f64(x), Value.i32(2)))
                            .value()
                        : String.format(Locale.ROOT, "%+.2f", x);
                  });
      try {
        Value r =
            pc.call("npstats.format_all", fmt, Value.NdArray.copyOf(new double[] {-1.5, 0, 2.25}));
        step(
            "  = " + JsonValues.toJsonText(r) + " (the Java lambda ran " + calls.get() + " times)");
      } finally {
        pc.release(fmt);
      }
    }
  }

  private static WorkerPoolSpec demoPool(String name, String language, String file) {
    return new WorkerPoolSpec(
        name,
        language,
        List.of(),
        List.of(file),
        1,
        WorkerPoolSpec.DEFAULT_MAX_IN_FLIGHT,
        Map.of(),
        null,
        WORKER_START,
        true,
        "demo");
  }

  /** Held so that the level stays set: JUL keeps loggers only weakly. */
  private final List<java.util.logging.Logger> quieted = new ArrayList<>();

  private void quiet(String logger) {
    java.util.logging.Logger l = java.util.logging.Logger.getLogger(logger);
    l.setLevel(java.util.logging.Level.WARNING);
    quieted.add(l);
  }

  private void errors(PolyCall pc, boolean testlib) {
    heading("Errors: one Status, with the stack across languages");
    MathApi api = pc.bind(MathApi.class);
    step("a Java function that throws, called through the proxy: api.divide(1, 0)");
    try {
      api.divide(1, 0);
    } catch (RuntimeException e) {
      // The proxy's no-interceptor fast path lets the Java exception through as it is, where the
      // by-name path wraps it in a StatusException; fromThrowable gives the same Status for both.
      stack(Status.fromThrowable(e));
    }
    step("a Java comparator that throws inside C's qsort:");
    Value.Fn bad =
        pc.callback(
            "(a: i32, b: i32) -> i32",
            (IntBinaryOperator)
                (a, b) -> {
                  throw new IllegalStateException("comparator refuses " + a + " and " + b);
                });
    try {
      pc.call("libc.qsort", Value.NdArray.copyOf(new int[] {2, 1}), bad);
    } catch (StatusException e) {
      stack(e.status());
    } finally {
      pc.release(bad);
    }
    if (testlib) {
      step("a C function that reports an error (return code, errno, message): checked_div(1, 0)");
      try {
        pc.call("ctest.checked_div", Value.i64(1), Value.i64(0));
      } catch (StatusException e) {
        stack(e.status());
      }
    }
    if (python) {
      step("a Python function that raises ValueError: npstats.mean of an empty array");
      try {
        pc.call("npstats.mean", Value.NdArray.copyOf(new double[0]));
      } catch (StatusException e) {
        stack(e.status());
      }
    }
    step("an unknown name: call('math.ad', 1, 2)");
    try {
      pc.call("math.ad", Value.i64(1), Value.i64(2));
    } catch (StatusException e) {
      stack(e.status());
    }
    step("an argument of the wrong type: call('math.add', 1, \"two\")");
    try {
      pc.call("math.add", Value.i64(1), Value.str("two"));
    } catch (StatusException e) {
      stack(e.status());
    }
  }

  /**
   * A second node, configured as an operator would (a YAML config, a key, a policy), serving gRPC
   * and HTTP on loopback: who may call what is decided per call, and every decision is in a
   * hash-chained audit log that is verified at the end.
   */
  private void served() {
    heading("Serve over gRPC and HTTP: tokens, a deny-by-default policy, an audit log");
    Path dir = null;
    try {
      dir = Files.createTempDirectory("polycall-demo-");
      Path secret = dir.resolve("hs256.secret");
      byte[] key = new byte[32];
      new java.security.SecureRandom().nextBytes(key);
      // Owner-only from the start, as the node asks of a secret (it warns otherwise).
      Files.createFile(
          secret,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(secret, java.util.Base64.getEncoder().encodeToString(key));
      Files.writeString(
          dir.resolve("policy.yaml"),
          """
          roles:
            calc: {functions: ["math.*"], bridges: [jvm]}
          subjects:
            alice: [calc]
          """);
      Path audit = dir.resolve("audit.jsonl");
      String yaml =
          """
          jvm: [%s, %s]
          grpc: {listen: "127.0.0.1:0"}
          http: {listen: "127.0.0.1:0"}
          security:
            authentication:
              jwt: {audience: polycall, issuer: polycall-demo, hs256_secret_file: hs256.secret}
            policy: policy.yaml
            audit: {file: audit.jsonl}
          """
              .formatted(MathFunctions.class.getName(), StatsFunctions.class.getName());
      step("a node from a config: gRPC and HTTP on 127.0.0.1, JWT (HS256), policy, audit file");
      step("policy: alice may call math.* on the JVM; nothing else is allowed to anyone");
      try (io.polycall.server.Node.Serving node =
          io.polycall.server.Node.serve(ConfigReader.read(yaml, "demo config", dir))) {
        String token =
            io.polycall.security.TokenIssuer.hs256(secret)
                .issue(
                    new io.polycall.security.TokenIssuer.Claims(
                        "alice",
                        "polycall",
                        "polycall-demo",
                        Duration.ofMinutes(5),
                        List.of(),
                        "roles"));
        io.polycall.CallOptions asAlice =
            io.polycall.CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token);
        String grpcTarget = "127.0.0.1:" + node.grpc().port();
        try (io.polycall.grpc.GrpcClient grpc = io.polycall.grpc.GrpcClient.connect(grpcTarget)) {
          Value sum = grpc.call("math.add", List.of(Value.i64(2), Value.i64(40)), asAlice);
          step("gRPC " + grpcTarget + "  math.add(2, 40) as alice = " + JsonValues.toJsonText(sum));
          refused(
              "gRPC  stats.mean([1, 2]) as alice",
              () ->
                  grpc.call(
                      "stats.mean", List.of(Value.NdArray.copyOf(new double[] {1, 2})), asAlice));
          refused(
              "gRPC  math.add(2, 40) with no token",
              () ->
                  grpc.call(
                      "math.add",
                      List.of(Value.i64(2), Value.i64(40)),
                      io.polycall.CallOptions.DEFAULT));
        }
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.URI uri =
            java.net.URI.create("http://127.0.0.1:" + node.http().port() + "/v1/call/math.add");
        java.net.http.HttpResponse<String> answer =
            http.send(
                java.net.http.HttpRequest.newBuilder(uri)
                    .header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + token)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("[20, 22]"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        step("HTTP POST " + uri + " [20, 22] as alice:");
        step("  " + answer.statusCode() + " " + answer.body().strip());
      }
      io.polycall.security.AuditVerifier.Result verified =
          io.polycall.security.AuditVerifier.verify(List.of(audit));
      step(
          "audit log: "
              + verified.records()
              + " records, one per call and refusal; chain "
              + (verified.intact() ? "intact" : "BROKEN: " + verified.problem()));
      step("  (check one yourself: bin/polycall audit verify FILE)");
    } catch (IOException | RuntimeException e) {
      step("could not run this section: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      step("interrupted");
    } finally {
      if (dir != null) {
        deleteTree(dir);
      }
    }
  }

  /** Runs a call that the node must refuse, and shows the code and message it answered with. */
  private void refused(String what, Runnable call) {
    try {
      call.run();
      step(what + ": allowed (unexpected)");
    } catch (StatusException e) {
      step(what + ": " + e.status().code() + ", " + e.status().description());
    }
  }

  private static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // a leftover temp file is harmless; the demo goes on
                }
              });
    } catch (IOException e) {
      // as above
    }
  }

  private void latency(PolyCall pc, boolean testlib) {
    heading("Latency per bridge (medians; noisy machines vary)");
    FunctionHandle add = pc.handle("math.add");
    Value one = Value.i64(1);
    Value two = Value.i64(2);
    MathApi api = pc.bind(MathApi.class);
    FunctionHandle cos = pc.handle("math.cos");
    Value zero = Value.f64(0.0);
    line("jvm (handle)", () -> ((Value.Int) add.call(one, two)).value());
    line("jvm (typed proxy)", () -> api.add(1, 2));
    line("native (libm cos)", () -> (long) ((Value.Float) cos.call(zero)).value());
    if (testlib) {
      FunctionHandle addC = pc.handle("ctest.add_i32");
      Value a = Value.i32(1);
      Value b = Value.i32(2);
      line("native (ctest add_i32)", () -> ((Value.Int) addC.call(a, b)).value());
    }
    if (python) {
      FunctionHandle mean = pc.handle("npstats.mean");
      Value xs = Value.NdArray.copyOf(new double[] {1, 2, 3, 4});
      perCall("python worker (npstats.mean, 4 doubles)", 300, () -> mean.call(xs));
    }
  }

  /** The median of {@code n} single calls, each timed: worker calls are too slow to batch. */
  private void perCall(String label, int n, Runnable call) {
    for (int i = 0; i < 50; i++) {
      call.run();
    }
    long[] nanos = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      call.run();
      nanos[i] = System.nanoTime() - t0;
    }
    Arrays.sort(nanos);
    out.printf(
        Locale.ROOT,
        "  %s: %.1f us/call (median of %d round trips over the socket)%n",
        label,
        nanos[n / 2] / 1000.0,
        n);
  }

  /** Prints the median of 25 batches of 400 in-process calls, after a warm-up. */
  private void line(String label, LongSupplier call) {
    int batch = 400;
    long sink = 0;
    for (int i = 0; i < 20_000; i++) {
      sink += call.getAsLong();
    }
    double[] perCall = new double[25];
    for (int s = 0; s < perCall.length; s++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < batch; i++) {
        sink += call.getAsLong();
      }
      perCall[s] = (System.nanoTime() - t0) / (double) batch;
    }
    Arrays.sort(perCall);
    double medianNanos = perCall[perCall.length / 2];
    // The sink keeps the JIT from removing the calls; printing it would only add noise.
    out.printf(
        Locale.ROOT, "  %s: %.2f us/call%s%n", label, medianNanos / 1000.0, sink == 42 ? " " : "");
  }

  private Value show(PolyCall pc, String name, Value... args) {
    Value r = pc.call(name, args);
    String shown =
        Arrays.stream(args).map(JsonValues::toJsonText).reduce((x, y) -> x + ", " + y).orElse("");
    String bridge = pc.describe(name).bridge();
    step(
        String.format(
            "%-8s %s(%s) = %s", "[" + bridge + "]", name, shown, JsonValues.toJsonText(r)));
    return r;
  }

  private void stack(Status s) {
    out.println("      " + StackFormat.format(s, "          ", FRAMES));
  }

  private void heading(String title) {
    section++;
    out.println();
    out.println("== " + section + ". " + title + " ==");
  }

  private void step(String text) {
    out.println("  " + text);
  }

  private static String names(List<FunctionInfo> fs) {
    return String.join(", ", fs.stream().map(FunctionInfo::name).sorted().toList());
  }

  private static Value list(double... xs) {
    return new Value.Seq(Arrays.stream(xs).mapToObj(x -> (Value) Value.f64(x)).toList());
  }

  private static Path testLibrary() {
    String dir = System.getProperty("polycall.testlib.dir", "build/native");
    return Path.of(dir, "libpolycalltest.so").toAbsolutePath();
  }
}
