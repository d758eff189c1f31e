package io.polycall.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.grpc.GrpcClient;
import io.polycall.grpc.GrpcServer;
import io.polycall.spi.BoundFunction;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.NullValue;
import io.polycall.wire.proto.Result;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Remote calls over gRPC on loopback, PolyCall beside raw grpc-java in the same run: a unary no-op
 * from a Java client to a Java node ({@link GrpcServer}, {@code polycall.v1.PolyCall/Call} through
 * the node's call engine) against a hand-written grpc-java service answering the same messages (a
 * {@code Call} in, a {@code Result} out) with nothing in between. Both servers run on Netty with a
 * direct executor, in this JVM, on loopback; the client side is the same channel settings, each
 * channel with an event loop of its own (see {@link #channel}).
 *
 * <p>A second node runs the same no-op with security on (issue 5: at most +10%): the caller sends a
 * real HS256 JWT (verified once, then remembered), the node authenticates, authorizes by a policy
 * and appends an audit record per call (a real file, fsync every second). The comparison is fair:
 * both nodes are built the same way ({@code PolyCall.builder().build()}, then {@code
 * GrpcServer.builder(node).start()} with its defaults: the same event loops, executor and call
 * engine), serve the same no-op and are called through the same kind of channel and client; the
 * secured node differs only by its three interceptors (and the audit log's writer thread), and its
 * caller only by the token in the call's metadata, which authentication needs.
 *
 * <p>Reports p50/p99 and calls per second at 1 and 64 in flight, and the ratio PolyCall / raw;
 * beside them the CPU time and context switches of the whole process per call (client and server
 * share this JVM): at 64 in flight a difference there is mostly work done (see {@link Run}). Phases
 * alternate (raw, PolyCall, PolyCall with the function tagged {@code nonblocking}, twice) so drift
 * on a shared machine hits all three. Bounded: {@code -Dseconds=N} per measured phase (default 4),
 * {@code -Drounds=N} rounds of them (default 2), about a minute and a half in all; {@code
 * -Dslices=N} cuts each phase into N slices taken in turn with the other targets' and pools them
 * (the default under {@code -Donly=security}: 10), so that all targets see the same load.
 *
 * <p>Usage: {@code RemoteHarness} ({@code make bench-remote}); {@code -Dout=FILE} also writes the
 * report there. {@code -Donly=security} measures only PolyCall with and without security (about
 * half a minute at {@code -Dseconds=2}); {@code -Dsecurity=auth|audit} leaves the audit log or
 * authentication and authorization out of the secured node, to tell their costs apart, and {@code
 * -Dsecurity=none} leaves all of it out (an A/A check of the comparison itself).
 */
public final class RemoteHarness {
  private static final String RAW_SERVICE = "bench.RawNoop";

  static final MethodDescriptor<Call, Result> RAW_NOOP =
      MethodDescriptor.<Call, Result>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(RAW_SERVICE, "Noop"))
          .setRequestMarshaller(ProtoUtils.marshaller(Call.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(Result.getDefaultInstance()))
          .build();

  /** One way of making the call, blocking and async. */
  private interface Target {
    void call();

    void callAsync(Runnable done);
  }

  public static void main(String[] args) throws Exception {
    double seconds = Double.parseDouble(System.getProperty("seconds", "4"));
    List<String> lines = new ArrayList<>();
    try (PolyCall node = PolyCall.create();
        GrpcServer polyServer = GrpcServer.builder(node).start();
        SecuredNode secured = SecuredNode.start()) {
      node.registry()
          .register(
              BoundFunction.of(
                  FunctionInfo.of(Signature.parse("bench.noop() -> null"), "jvm"),
                  (a, ctx) -> Value.NULL));
      // The same no-op, tagged to run on the transport thread (GrpcServer.TAG_NONBLOCKING).
      node.registry()
          .register(
              BoundFunction.of(
                  FunctionInfo.of(Signature.parse("bench.noop_nb() -> null"), "jvm")
                      .withTags(java.util.Set.of(GrpcServer.TAG_NONBLOCKING)),
                  (a, ctx) -> Value.NULL));
      Result answer =
          Result.newBuilder()
              .setValue(
                  io.polycall.wire.proto.Value.newBuilder().setNullValue(NullValue.NULL_VALUE))
              .build();
      Server raw = rawServer(answer, true);
      // grpc-java's default: handlers on its cached thread pool, one hand-off each way, as
      // PolyCall's default path has.
      Server rawPooled = rawServer(answer, false);
      ManagedChannel polyChannel = channel(polyServer.port());
      ManagedChannel rawChannel = channel(raw.getPort());
      ManagedChannel pooledChannel = channel(rawPooled.getPort());
      ManagedChannel securedChannel = channel(secured.server().port());
      try {
        GrpcClient client = GrpcClient.of(polyChannel);
        Call request = Call.newBuilder().setFunction("bench.noop").build();
        Target poly = polyCall(client, "bench.noop");
        Target polyNb = polyCall(client, "bench.noop_nb");
        Target rawTarget = rawCall(rawChannel, request);
        Target pooledTarget = rawCall(pooledChannel, request);
        Target polySecured =
            polyCall(GrpcClient.of(securedChannel), "bench.noop", secured.options());
        // Warm-up: both paths JIT-compiled before anything counts.
        List<Target> targets = List.of(rawTarget, pooledTarget, poly, polyNb, polySecured);
        boolean onlySecurity = "security".equals(System.getProperty("only"));
        List<Integer> measured = onlySecurity ? List.of(2, 4) : List.of(0, 1, 2, 3, 4);
        int m = targets.size();
        for (int round = 0; round < 2; round++) {
          for (int k : measured) {
            run(targets.get(k), 1, 1);
            run(targets.get(k), 64, 1);
          }
        }
        // Interleaved, twice each (-Drounds); the best run counts (the least disturbed). With
        // -Dslices=N (default 10 under -Donly=security), each run is cut into N slices taken in
        // turn with the other targets' and all slices are pooled: on a shared machine the load
        // changes within seconds, and two targets measured in alternating tenths of a second see
        // the same load, where two measured in turn for seconds each may not.
        int rounds = Integer.getInteger("rounds", 2);
        int slices = Integer.getInteger("slices", onlySecurity ? 10 : 1);
        Run[] r1 = new Run[m];
        Run[] r64 = new Run[m];
        for (int inFlight : new int[] {1, 64}) {
          Run[] r = inFlight == 1 ? r1 : r64;
          for (int round = 0; round < rounds; round++) {
            Run[] pooled = new Run[m];
            for (int slice = 0; slice < slices; slice++) {
              // Every other slice in the reverse order, so that no target always goes first.
              List<Integer> order = slice % 2 == 0 ? measured : measured.reversed();
              for (int k : order) {
                pooled[k] = Run.pool(pooled[k], run(targets.get(k), inFlight, seconds / slices));
              }
            }
            for (int k : measured) {
              r[k] = slices > 1 ? Run.pool(r[k], pooled[k]) : Run.best(r[k], pooled[k]);
            }
          }
        }
        String[] names = {
          "raw grpc-java, direct executor",
          "raw grpc-java, default executor",
          "PolyCall Call",
          "PolyCall Call [nonblocking]",
          "PolyCall Call, " + SecuredNode.describe()
        };
        lines.add(
            "unary no-op over loopback, Java client -> Java server (p50/p99 per call); "
                + Runtime.getRuntime().availableProcessors()
                + " CPUs, load average at the end: "
                + loadAverage());
        for (int k : measured) {
          lines.add(r1[k].line(names[k] + ", 1 in flight"));
        }
        for (int k : measured) {
          lines.add(r64[k].line(names[k] + ", 64 in flight"));
        }
        if (!onlySecurity) {
          lines.add(
              String.format(
                  Locale.ROOT,
                  "PolyCall Call / raw default executor, 1 in flight: p50 %.2fx",
                  r1[2].p50() / r1[1].p50()));
        }
        double sec1 = r1[4].p50() / r1[2].p50();
        lines.add(
            String.format(
                Locale.ROOT,
                "PolyCall Call with "
                    + SecuredNode.describe()
                    + " / without, 1 in flight: p50 %.2fx (target"
                    + " <= 1.10x: %s), cpu/call %+.1f us; 64 in flight: p50 %.2fx, calls/s"
                    + " %.2fx, cpu/call %+.1f us",
                sec1,
                sec1 <= 1.10 ? "met" : "NOT met",
                r1[4].cpuMicrosPerCall() - r1[2].cpuMicrosPerCall(),
                r64[4].p50() / r64[2].p50(),
                r64[4].perSecond() / r64[2].perSecond(),
                r64[4].cpuMicrosPerCall() - r64[2].cpuMicrosPerCall()));
        for (int k = 2; k < (onlySecurity ? 2 : 4); k++) {
          double p50 = r1[k].p50() / r1[0].p50();
          lines.add(
              String.format(
                  Locale.ROOT,
                  "%s / raw, 1 in flight: p50 %.2fx, mean %.2fx (target <= 1.25x: %s);"
                      + " 64 in flight: p50 %.2fx, calls/s %.2fx of raw",
                  names[k],
                  p50,
                  r1[0].perSecond() / r1[k].perSecond(),
                  p50 <= 1.25 ? "met" : "NOT met",
                  r64[k].p50() / r64[0].p50(),
                  r64[k].perSecond() / r64[0].perSecond()));
        }
      } finally {
        polyChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        rawChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        pooledChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        securedChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        rawPooled.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        for (var loop : CLIENT_LOOPS) {
          loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
      }
    }
    String report = String.join("\n", lines) + "\n";
    System.out.print(report);
    String out = System.getProperty("out");
    if (out != null) {
      Files.writeString(Path.of(out), report, StandardCharsets.UTF_8);
    }
  }

  /** The hand-written no-op service: a Call in, a prebuilt Result out, nothing else. */
  private static Server rawServer(Result answer, boolean direct) throws IOException {
    NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    if (direct) {
      b.directExecutor();
    }
    return b.addService(
            ServerServiceDefinition.builder(RAW_SERVICE)
                .addMethod(
                    RAW_NOOP,
                    ServerCalls.asyncUnaryCall(
                        (Call req, StreamObserver<Result> out) -> {
                          out.onNext(answer);
                          out.onCompleted();
                        }))
                .build())
        .build()
        .start();
  }

  private static Target rawCall(ManagedChannel ch, Call request) {
    return new Target() {
      @Override
      public void call() {
        ClientCalls.blockingUnaryCall(ch, RAW_NOOP, CallOptions.DEFAULT, request);
      }

      @Override
      public void callAsync(Runnable done) {
        ClientCalls.asyncUnaryCall(
            ch.newCall(RAW_NOOP, CallOptions.DEFAULT),
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(Result value) {}

              @Override
              public void onError(Throwable t) {
                done.run();
              }

              @Override
              public void onCompleted() {
                done.run();
              }
            });
      }
    };
  }

  private static Target polyCall(GrpcClient client, String function) {
    return polyCall(client, function, io.polycall.CallOptions.DEFAULT);
  }

  private static Target polyCall(
      GrpcClient client, String function, io.polycall.CallOptions options) {
    return new Target() {
      @Override
      public void call() {
        client.call(function, List.of(), options);
      }

      @Override
      public void callAsync(Runnable done) {
        client.callAsync(function, List.of(), options).whenComplete((v, t) -> done.run());
      }
    };
  }

  /**
   * A node with the no-op behind the audit log, JWT authentication and a policy, served over gRPC;
   * {@link #options} carry a token it accepts.
   */
  record SecuredNode(
      PolyCall node,
      GrpcServer server,
      io.polycall.security.AuditLog audit,
      Path dir,
      io.polycall.CallOptions options)
      implements AutoCloseable {
    /**
     * {@code -Dsecurity}: on (default), auth (no audit log), audit (no authn/authz) or none (no
     * security at all: an A/A check that the two nodes are measured alike, expect 1.00x).
     */
    static String describe() {
      return switch (System.getProperty("security", "on")) {
        case "auth" -> "authn+authz";
        case "audit" -> "audit";
        case "none" -> "no security (A/A check)";
        default -> "authn+authz+audit";
      };
    }

    static SecuredNode start() throws java.io.IOException {
      String which = System.getProperty("security", "on");
      Path dir = Files.createTempDirectory("polycall-bench-secured");
      Path secret = dir.resolve("hs256.secret");
      // Owner-only, as the node expects of a secret (it warns about a readable one).
      Files.createFile(
          secret,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(secret, "0123456789abcdef0123456789abcdef\n");
      String token =
          io.polycall.security.TokenIssuer.hs256(secret)
              .issue(
                  new io.polycall.security.TokenIssuer.Claims(
                      "bench",
                      "polycall",
                      null,
                      java.time.Duration.ofHours(1),
                      List.of(),
                      "roles"));
      // Not opened when left out: its writer thread would otherwise run (idle) beside the node.
      io.polycall.security.AuditLog audit =
          which.equals("auth") || which.equals("none")
              ? null
              : io.polycall.security.AuditLog.open(
                  io.polycall.security.AuditConfig.of(dir.resolve("audit.jsonl")));
      PolyCall.Builder b = PolyCall.builder();
      if (audit != null) {
        b.withInterceptor(audit.interceptor());
      }
      if (!which.equals("audit") && !which.equals("none")) {
        b.withInterceptor(
                io.polycall.security.AuthenticationInterceptor.jwt(
                    io.polycall.security.JwtSettings.ofHs256("polycall", secret)))
            .withInterceptor(
                io.polycall.security.AuthorizationInterceptor.of(
                    io.polycall.security.Policy.parse(
                        "roles: {calc: {functions: [\"bench.*\"]}}\nsubjects: {bench: [calc]}\n",
                        "bench policy")));
      }
      PolyCall node = b.build();
      node.registry()
          .register(
              BoundFunction.of(
                  FunctionInfo.of(Signature.parse("bench.noop() -> null"), "jvm"),
                  (a, ctx) -> Value.NULL));
      GrpcServer server = GrpcServer.builder(node).start();
      return new SecuredNode(
          node,
          server,
          audit,
          dir,
          io.polycall.CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token));
    }

    @Override
    public void close() throws java.io.IOException {
      server.close();
      node.close();
      if (audit != null) {
        audit.close();
      }
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The machine's 1-minute load average, for reading the figures (Linux; "?" elsewhere). */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  /** The client channels' event loops, shut down at the end. */
  private static final List<io.grpc.netty.shaded.io.netty.channel.EventLoopGroup> CLIENT_LOOPS =
      new ArrayList<>();

  /**
   * A channel with an event loop of its own. By default every channel and every server of the
   * process shares grpc-java's one pool of event loops, handed out in turn, so whether a client's
   * connection lands on the same thread as the server side it talks to (no wake-up between them) or
   * not depends on the order things were opened in, and one target would be measured with that luck
   * and its peer without: a 1-in-flight ratio of two identical nodes came out anywhere between 0.8x
   * and 1.8x. With a loop per channel, every client is on its own thread and every server
   * connection on one of the shared pool's, alike for all targets.
   */
  private static ManagedChannel channel(int port) {
    io.grpc.netty.shaded.io.netty.channel.EventLoopGroup loop;
    Class<? extends io.grpc.netty.shaded.io.netty.channel.Channel> type;
    var threads =
        new io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory(
            "bench-client-loop", true);
    if (io.grpc.netty.shaded.io.netty.channel.epoll.Epoll.isAvailable()) {
      loop = new io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup(1, threads);
      type = io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel.class;
    } else {
      loop = new io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup(1, threads);
      type = io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel.class;
    }
    synchronized (CLIENT_LOOPS) {
      CLIENT_LOOPS.add(loop);
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .usePlaintext()
        .eventLoopGroup(loop)
        .channelType(type)
        .build();
  }

  /**
   * Latencies (microseconds, sorted) and calls per second of one phase, and what it cost the whole
   * process (client, server and every helper thread, the audit writer included) per call: CPU time
   * and context switches. At 64 in flight those move less with the machine's load than the
   * latencies do, so they tell a change in the work done per call from a change in scheduling. At 1
   * in flight the CPU time is mostly threads spinning while they wait for the next hand-off (event
   * loops, the virtual threads' carriers; 1.4 cores for one call at a time), so it grows with the
   * call's latency and varies by tens of microseconds from run to run: read it at 64 in flight.
   */
  record Run(double[] micros, double perSecond, double cpuMicrosPerCall, double switchesPerCall) {
    double p50() {
      return micros[micros.length / 2];
    }

    double p99() {
      return micros[Math.min(micros.length - 1, (int) (micros.length * 0.99))];
    }

    /** Two runs of the same thing as one: their calls together, over their time together. */
    static Run pool(Run a, Run b) {
      if (a == null || a.micros.length == 0) {
        return b;
      }
      if (b.micros.length == 0) {
        return a;
      }
      int n = a.micros.length + b.micros.length;
      double[] all = Arrays.copyOf(a.micros, n);
      System.arraycopy(b.micros, 0, all, a.micros.length, b.micros.length);
      Arrays.sort(all);
      double seconds = a.micros.length / a.perSecond + b.micros.length / b.perSecond;
      return new Run(
          all,
          n / seconds,
          (a.cpuMicrosPerCall * a.micros.length + b.cpuMicrosPerCall * b.micros.length) / n,
          (a.switchesPerCall * a.micros.length + b.switchesPerCall * b.micros.length) / n);
    }

    /** Of two runs of the same thing, the one with more calls per second (less disturbed). */
    static Run best(Run a, Run b) {
      return a == null || b.perSecond > a.perSecond ? b : a;
    }

    String line(String name) {
      return String.format(
          Locale.ROOT,
          "%-48s p50 %8.1f us  p99 %8.1f us  %9.0f calls/s  cpu %6.1f us/call  %5.2f cs/call"
              + "  (n=%d)",
          name,
          p50(),
          p99(),
          perSecond,
          cpuMicrosPerCall,
          switchesPerCall,
          micros.length);
    }
  }

  /** Runs {@code target} with {@code inFlight} calls outstanding for {@code seconds}. */
  private static Run run(Target target, int inFlight, double seconds) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    // Room for 200,000 calls a second (loopback gRPC does a tenth of that), not more: short slices
    // would otherwise each allocate (and the GC clear) tens of megabytes.
    int cap = (int) Math.min(4_000_000, seconds * 200_000 + 1_000);
    long[] lat = new long[cap];
    AtomicInteger n = new AtomicInteger();
    long cpu0 = processCpuNanos();
    long cs0 = contextSwitches();
    long start = System.nanoTime();
    if (inFlight == 1) {
      int i = 0;
      while (i < cap) {
        long t0 = System.nanoTime();
        if (t0 >= end) {
          break;
        }
        target.call();
        lat[i++] = System.nanoTime() - t0;
      }
      n.set(i);
    } else {
      AtomicBoolean stop = new AtomicBoolean();
      CountDownLatch drained = new CountDownLatch(inFlight);
      for (int k = 0; k < inFlight; k++) {
        issue(target, lat, n, stop, end, drained);
      }
      if (!drained.await(
          (long) (seconds * 1e9) + TimeUnit.SECONDS.toNanos(30), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("calls did not finish");
      }
    }
    long total = System.nanoTime() - start;
    long cpu = processCpuNanos() - cpu0;
    long cs = contextSwitches() - cs0;
    int count = Math.min(n.get(), cap);
    double[] micros = new double[count];
    for (int i = 0; i < count; i++) {
      micros[i] = lat[i] / 1e3;
    }
    Arrays.sort(micros);
    return new Run(
        micros,
        count / (total / 1e9),
        cpu / 1e3 / Math.max(1, count),
        (double) cs / Math.max(1, count));
  }

  /** CPU time of the whole process so far (every thread), or 0 where the JDK cannot tell. */
  private static long processCpuNanos() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? Math.max(0, os.getProcessCpuTime())
        : 0;
  }

  /**
   * Context switches of every thread of the process so far, voluntary and not (Linux: {@code
   * /proc/self/task/N/status}; 0 elsewhere). Threads that ended meanwhile are not counted, so read
   * it only around phases whose threads outlive them (the servers' and channels' do).
   */
  private static long contextSwitches() {
    long total = 0;
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")
                || line.startsWith("nonvoluntary_ctxt_switches:")) {
              total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended while being read
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return total;
  }

  /** One chain of calls: each completion records its latency and issues the next. */
  private static void issue(
      Target target,
      long[] lat,
      AtomicInteger n,
      AtomicBoolean stop,
      long end,
      CountDownLatch drained) {
    long t0 = System.nanoTime();
    if (t0 >= end || stop.get()) {
      drained.countDown();
      return;
    }
    target.callAsync(
        () -> {
          int i = n.getAndIncrement();
          if (i < lat.length) {
            lat[i] = System.nanoTime() - t0;
          } else {
            stop.set(true);
          }
          issue(target, lat, n, stop, end, drained);
        });
  }

  private RemoteHarness() {}

  static {
    // Quiet grpc-java's and PolyCall's INFO lines: the report is the output.
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
  }
}
