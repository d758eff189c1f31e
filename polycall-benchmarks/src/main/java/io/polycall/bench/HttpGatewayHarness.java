package io.polycall.bench;

import com.sun.net.httpserver.HttpServer;
import io.polycall.core.PolyCall;
import io.polycall.gateway.HttpGateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * The HTTP gateway's speed: a no-op {@code POST /v1/call/bench.nop} over loopback at 1 and 64 calls
 * in flight, p50/p99 latency and calls per second, from the JDK's HTTP client (one connection per
 * call in flight, kept alive).
 *
 * <p>Peer, same run, same client: the JDK's own {@code com.sun.net.httpserver} answering the same
 * bytes with no call behind them, which shows what the HTTP exchange alone costs on this machine.
 *
 * <p>Each measurement runs a fixed time (2 s warm-up at the same concurrency, 4 s measured), so the
 * whole harness takes about 30 s. Run by {@code make bench-http}; the lines also go to {@code
 * -Dout=FILE}.
 */
public final class HttpGatewayHarness {
  private static final Duration WARMUP = Duration.ofSeconds(2);
  private static final Duration MEASURE = Duration.ofSeconds(4);
  private static final byte[] BODY = "[]".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ANSWER = "{\"result\":null}".getBytes(StandardCharsets.US_ASCII);

  private HttpGatewayHarness() {}

  public static void main(String[] args) throws Exception {
    List<String> lines = new ArrayList<>();
    try (PolyCall pc = PolyCall.create()) {
      pc.jvm().register("bench.nop() -> null", (Runnable) () -> {});
      try (HttpGateway gateway = HttpGateway.builder(pc).start()) {
        URI uri = URI.create("http://127.0.0.1:" + gateway.port() + "/v1/call/bench.nop");
        for (int inFlight : new int[] {1, 64}) {
          lines.add(run("gateway: POST /v1/call no-op, " + inFlight + " in flight", uri, inFlight));
        }
      }
    }
    HttpServer peer =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    peer.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    peer.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          ex.getResponseHeaders().set("Content-Type", "application/json");
          ex.sendResponseHeaders(200, ANSWER.length);
          ex.getResponseBody().write(ANSWER);
          ex.close();
        });
    peer.start();
    try {
      URI uri =
          URI.create("http://127.0.0.1:" + peer.getAddress().getPort() + "/v1/call/bench.nop");
      for (int inFlight : new int[] {1, 64}) {
        lines.add(
            run("peer: JDK HttpServer fixed answer, " + inFlight + " in flight", uri, inFlight));
      }
    } finally {
      peer.stop(0);
    }
    String out = System.getProperty("out");
    if (out != null) {
      Files.write(Path.of(out), lines, StandardCharsets.UTF_8);
    }
  }

  private static String run(String name, URI uri, int inFlight) throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();
    HttpRequest req =
        HttpRequest.newBuilder(uri)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(BODY))
            .build();
    drive(client, req, inFlight, WARMUP);
    Result r = drive(client, req, inFlight, MEASURE);
    long[] all = r.nanos;
    Arrays.sort(all);
    String line =
        String.format(
            Locale.ROOT,
            "%-52s p50 %8.1f us  p99 %8.1f us  %9.0f calls/s  (n=%d)",
            name,
            all[all.length / 2] / 1e3,
            all[Math.min(all.length - 1, (int) (all.length * 0.99))] / 1e3,
            all.length / r.seconds,
            all.length);
    System.out.println(line);
    client.close();
    return line;
  }

  private record Result(long[] nanos, double seconds) {}

  /** {@code inFlight} virtual threads, each calling in a loop for {@code length}. */
  private static Result drive(HttpClient client, HttpRequest req, int inFlight, Duration length)
      throws Exception {
    long end = System.nanoTime() + length.toNanos();
    long[][] perThread = new long[inFlight][];
    int[] counts = new int[inFlight];
    Throwable[] failure = new Throwable[1];
    CountDownLatch done = new CountDownLatch(inFlight);
    long start = System.nanoTime();
    for (int t = 0; t < inFlight; t++) {
      int id = t;
      Thread.ofVirtual()
          .start(
              () -> {
                long[] mine = new long[1 << 16];
                int n = 0;
                try {
                  while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    HttpResponse<byte[]> r =
                        client.send(req, HttpResponse.BodyHandlers.ofByteArray());
                    long dt = System.nanoTime() - t0;
                    if (r.statusCode() != 200) {
                      throw new IllegalStateException(
                          "HTTP "
                              + r.statusCode()
                              + ": "
                              + new String(r.body(), StandardCharsets.UTF_8));
                    }
                    if (n == mine.length) {
                      mine = Arrays.copyOf(mine, n * 2);
                    }
                    mine[n++] = dt;
                  }
                } catch (Throwable e) {
                  failure[0] = e;
                } finally {
                  perThread[id] = mine;
                  counts[id] = n;
                  done.countDown();
                }
              });
    }
    done.await();
    double seconds = (System.nanoTime() - start) / 1e9;
    if (failure[0] != null) {
      throw new IllegalStateException("a call failed", failure[0]);
    }
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int k = 0;
    for (int t = 0; t < inFlight; t++) {
      System.arraycopy(perThread[t], 0, all, k, counts[t]);
      k += counts[t];
    }
    return new Result(all, seconds);
  }
}
