package io.polycall.bench;

import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.grpc.GrpcClient;
import io.polycall.grpc.GrpcServer;
import io.polycall.grpc.RemoteBridge;
import io.polycall.spi.BoundFunction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the remote bridge costs: a unary no-op on node A over loopback, called straight to A with
 * raw grpc-java ({@code blockingUnaryCall} of {@code polycall.v1.PolyCall/Call}, the peer, same
 * run), with a {@link GrpcClient}, and by node B through its {@link RemoteBridge} ({@code
 * b.call("bench.noop")}: B's call engine, the router's pick, then the same gRPC call). The
 * difference to raw is the price of calling by name without knowing where the function runs.
 *
 * <p>Phases alternate (direct, bridge, twice; the better run counts) so that drift on a shared
 * machine hits both. Usage: {@code make bench-routing}; {@code -Dcalls=N} per phase (default
 * 20000), {@code -Dout=FILE} also writes the report there.
 */
public final class RoutingHarness {
  private RoutingHarness() {}

  public static void main(String[] args) throws Exception {
    int calls = Integer.getInteger("calls", 20_000);
    List<String> lines = new ArrayList<>();
    try (PolyCall a = PolyCall.create();
        GrpcServer server =
            GrpcServer.builder(a).withListenAddress("127.0.0.1:0").withNodeId("a").start();
        PolyCall b = PolyCall.create();
        GrpcClient direct = GrpcClient.connect(server.target())) {
      a.registry()
          .register(
              BoundFunction.of(
                  FunctionInfo.of(Signature.parse("bench.noop() -> null"), "jvm"),
                  (x, ctx) -> Value.NULL));
      RemoteBridge bridge =
          b.addBridge(
              RemoteBridge.builder(b.registry(), "b")
                  .peers(List.of(server.target()))
                  .healthInterval(Duration.ofSeconds(5))
                  .refreshInterval(Duration.ofMinutes(5))
                  .build());
      bridge.start();
      io.grpc.ManagedChannel ch =
          io.grpc.ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      io.polycall.wire.proto.Call req =
          io.polycall.wire.proto.Call.newBuilder().setFunction("bench.noop").build();
      Latency.Op viaRaw =
          () ->
              io.grpc.stub.ClientCalls.blockingUnaryCall(
                  ch, io.polycall.grpc.internal.Rpc.CALL, io.grpc.CallOptions.DEFAULT, req);
      Latency.Op viaClient = () -> direct.call("bench.noop");
      Latency.Op viaBridge = () -> b.call("bench.noop");
      Latency.Summary w = null;
      Latency.Summary d = null;
      Latency.Summary r = null;
      for (int round = 0; round < 2; round++) {
        Latency.Summary w1 =
            Latency.measure("raw grpc-java blocking -> node A", calls / 4, calls, viaRaw);
        w = w == null || w1.p50() < w.p50() ? w1 : w;
        Latency.Summary d1 = Latency.measure("GrpcClient -> node A", calls / 4, calls, viaClient);
        Latency.Summary r1 =
            Latency.measure("node B -> RemoteBridge -> node A", calls / 4, calls, viaBridge);
        d = d == null || d1.p50() < d.p50() ? d1 : d;
        r = r == null || r1.p50() < r.p50() ? r1 : r;
      }
      lines.add("unary no-op over loopback, one call at a time (better of two runs each)");
      lines.add(w.toString());
      lines.add(d.toString());
      lines.add(r.toString());
      lines.add(
          String.format(
              Locale.ROOT,
              "bridge / raw grpc-java: p50 %.2fx, p99 %.2fx, calls/s %.2fx",
              r.p50() / w.p50(),
              r.p99() / w.p99(),
              r.perSecond() / w.perSecond()));
      ch.shutdownNow();
    }
    lines.forEach(System.out::println);
    String out = System.getProperty("out");
    if (out != null) {
      Files.write(Path.of(out), lines, StandardCharsets.UTF_8);
    }
  }
}
