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
 * in flight, p50/p99 latency and calls per second.
 *
 * <p>Two clients drive each server: a minimal raw-socket client (one kept-alive connection per call
 * in flight, the request written in one piece, the answer read by its Content-Length), whose own
 * cost is close to nothing, so its figures are the server's; and the JDK's HttpClient, what a Java
 * program would use. The no-op also runs tagged {@code nonblocking} (on the event loop that read
 * the request instead of a virtual thread).
 *
 * <p>Peer, same run, same clients: the JDK's own {@code com.sun.net.httpserver} answering the same
 * bytes with no call behind them, which shows what the HTTP exchange alone costs on this machine.
 *
 * <p>Each measurement runs a fixed time (1.5 s warm-up at the same concurrency, 3 s measured), so
 * the whole harness takes about 45 s. Run by {@code make bench-http} and {@code make bench-remote};
 * the lines also go to {@code -Dout=FILE}.
 */
public final class HttpGatewayHarness {
  private static final Duration WARMUP = Duration.ofMillis(1500);
  private static final Duration MEASURE = Duration.ofSeconds(3);
  private static final byte[] BODY = "[]".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ANSWER = "{\"result\":null}".getBytes(StandardCharsets.US_ASCII);

  private HttpGatewayHarness() {}

  public static void main(String[] args) throws Exception {
    List<String> lines = new ArrayList<>();
    try (PolyCall pc = PolyCall.create()) {
      pc.jvm().register("bench.nop() -> null", (Runnable) () -> {});
      pc.jvm()
          .register(
              new io.polycall.FunctionInfo(
                  io.polycall.Signature.parse("bench.nopnb() -> null"),
                  1,
                  "jvm",
                  java.util.Set.of("nonblocking"),
                  ""),
              (Runnable) () -> {});
      try (HttpGateway gateway = HttpGateway.builder(pc).start()) {
        URI uri = URI.create("http://127.0.0.1:" + gateway.port() + "/v1/call/bench.nop");
        for (int inFlight : new int[] {1, 64}) {
          String name = "gateway: POST /v1/call no-op, " + inFlight + " in flight";
          lines.add(runRaw(name, uri, inFlight));
          lines.add(run(name, uri, inFlight));
          URI nb = URI.create(uri.toString().replace("bench.nop", "bench.nopnb"));
          lines.add(runRaw(name + " [nonblocking]", nb, inFlight));
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
        String name = "peer: JDK HttpServer fixed answer, " + inFlight + " in flight";
        lines.add(runRaw(name, uri, inFlight));
        lines.add(run(name, uri, inFlight));
      }
    } finally {
      peer.stop(0);
    }
    String out = System.getProperty("out");
    if (out != null) {
      Files.write(Path.of(out), lines, StandardCharsets.UTF_8);
    }
  }

  /** One client connection's way of making one call; not thread-safe. */
  @FunctionalInterface
  private interface Caller {
    void call() throws Exception;
  }

  /** Makes a caller per thread. */
  @FunctionalInterface
  private interface Callers {
    Caller open() throws Exception;
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
    Callers callers =
        () ->
            () -> {
              HttpResponse<byte[]> r = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
              if (r.statusCode() != 200) {
                throw new IllegalStateException(
                    "HTTP " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
              }
            };
    try {
      return measure(name + " (JDK HttpClient)", callers, inFlight);
    } finally {
      client.close();
    }
  }

  /**
   * The same calls from a minimal client: one socket per thread, the request written in one piece,
   * the answer read by its Content-Length. What remains is the server's own cost.
   */
  private static String runRaw(String name, URI uri, int inFlight) throws Exception {
    byte[] request =
        ("POST "
                + uri.getPath()
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + BODY.length
                + "\r\n\r\n"
                + new String(BODY, StandardCharsets.US_ASCII))
            .getBytes(StandardCharsets.US_ASCII);
    List<java.net.Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    Callers callers =
        () -> {
          java.net.Socket s = new java.net.Socket(uri.getHost(), uri.getPort());
          s.setTcpNoDelay(true);
          sockets.add(s);
          java.io.OutputStream out = s.getOutputStream();
          java.io.InputStream in = new java.io.BufferedInputStream(s.getInputStream());
          return () -> {
            out.write(request);
            out.flush();
            readAnswer(in);
          };
        };
    try {
      return measure(name + " (raw socket)", callers, inFlight);
    } finally {
      for (java.net.Socket s : sockets) {
        s.close();
      }
    }
  }

  /** Reads one HTTP/1.1 answer with a Content-Length; fails unless it is 200. */
  private static void readAnswer(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder(128);
    while (head.length() < 4
        || head.charAt(head.length() - 1) != '\n'
        || head.charAt(head.length() - 3) != '\n') {
      int c = in.read();
      if (c < 0) {
        throw new java.io.EOFException("the server closed the connection");
      }
      head.append((char) c);
    }
    String h = head.toString().toLowerCase(Locale.ROOT);
    if (!h.startsWith("http/1.1 200")) {
      throw new IllegalStateException("answer: " + h);
    }
    int k = h.indexOf("content-length:");
    int len = Integer.parseInt(h.substring(k + 15, h.indexOf('\r', k)).trim());
    in.readNBytes(len);
  }

  private static String measure(String name, Callers callers, int inFlight) throws Exception {
    drive(callers, inFlight, WARMUP);
    Result r = drive(callers, inFlight, MEASURE);
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
    return line;
  }

  private record Result(long[] nanos, double seconds) {}

  /** {@code inFlight} virtual threads, each calling in a loop for {@code length}. */
  private static Result drive(Callers callers, int inFlight, Duration length) throws Exception {
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
                  Caller caller = callers.open();
                  while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    caller.call();
                    long dt = System.nanoTime() - t0;
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
