package io.polycall.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.core.PolyCall;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A client that asks for a large answer and never reads it loses its connection, not the node. */
class SlowClientTest {

  @Test
  void aClientThatNeverReadsALargeAnswerIsDroppedAfterTheWriteTimeout() throws Exception {
    try (PolyCall node = PolyCall.create()) {
      node.jvm().register(new TestFunctions());
      try (HttpGateway gateway =
          HttpGateway.builder(node).withWriteTimeout(Duration.ofMillis(300)).start()) {
        int blob = 24 << 20; // 24 MB of bytes, 32 MB of base64: far more than socket buffers hold
        long total;
        try (Socket s = new Socket()) {
          s.setReceiveBufferSize(4096);
          s.connect(new InetSocketAddress("127.0.0.1", gateway.port()));
          byte[] body = ("[" + blob + "]").getBytes(StandardCharsets.US_ASCII);
          s.getOutputStream()
              .write(
                  ("POST /v1/call/t.blob HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          + "Content-Length: "
                          + body.length
                          + "\r\n\r\n"
                          + new String(body, StandardCharsets.US_ASCII))
                      .getBytes(StandardCharsets.US_ASCII));
          // Not reading once the answer has started to arrive: the server's write stalls, and its
          // write timeout drops the connection.
          InputStream in = s.getInputStream();
          for (int i = 0; i < 3000 && in.available() == 0; i++) {
            Thread.sleep(10);
          }
          assertTrue(in.available() > 0, "the answer started");
          Thread.sleep(2000);
          total = drain(s.getInputStream());
        }
        assertTrue(
            total < blob * 4L / 3,
            "the connection was dropped before the answer was sent: " + total);
        HttpResponse<String> r =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + gateway.port() + "/v1/call/t.add"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("[1, 2]"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"result\":3}", r.body());
      }
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
    try (PolyCall node = PolyCall.create();
        HttpGateway gateway =
            HttpGateway.builder(node).withIdleTimeout(Duration.ofMillis(200)).start();
        Socket s = new Socket("127.0.0.1", gateway.port())) {
      s.setSoTimeout(30_000);
      assertEquals(-1, s.getInputStream().read(), "closed by the server, nothing sent");
    }
  }

  @Test
  void anIdleHttp2ConnectionIsClosedToo() throws Exception {
    try (PolyCall node = PolyCall.create();
        HttpGateway gateway =
            HttpGateway.builder(node).withIdleTimeout(Duration.ofMillis(200)).start();
        Socket s = new Socket("127.0.0.1", gateway.port())) {
      s.setSoTimeout(30_000);
      s.getOutputStream()
          .write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      // The server's SETTINGS, its ack, then GOAWAY and the end of the stream.
      InputStream in = s.getInputStream();
      while (in.read() >= 0) {
        // drain until the server closes
      }
    }
  }

  @Test
  void aStreamBeyondItsCallLimitGetsResourceExhaustedAndCancelsStillGetThrough() throws Exception {
    TestFunctions f = new TestFunctions();
    try (PolyCall node = PolyCall.create()) {
      node.jvm().register(f);
      try (HttpGateway gateway = HttpGateway.builder(node).withMaxStreamCalls(1).start()) {
        HttpGatewayTest.Collector c = new HttpGatewayTest.Collector();
        java.net.http.WebSocket ws =
            HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/v1/stream"), c)
                .join();
        ws.sendText("{\"id\": 1, \"function\": \"t.sleep\", \"args\": [30000]}", true).join();
        assertTrue(f.started.await(10, java.util.concurrent.TimeUnit.SECONDS));
        ws.sendText("{\"id\": 2, \"function\": \"t.add\", \"args\": [1, 2]}", true).join();
        com.fasterxml.jackson.databind.JsonNode over = c.next();
        assertEquals(2, over.get("id").asInt());
        assertEquals("RESOURCE_EXHAUSTED", over.get("error").get("code").asText(), over.toString());
        ws.sendText("{\"cancel\": 1}", true).join();
        com.fasterxml.jackson.databind.JsonNode cancelled = c.next();
        assertEquals(1, cancelled.get("id").asInt());
        assertEquals("CANCELLED", cancelled.get("error").get("code").asText());
        ws.sendText("{\"id\": 3, \"function\": \"t.add\", \"args\": [1, 2]}", true).join();
        assertEquals(3, c.next().get("result").asInt());
        ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "done").join();
      }
    }
  }

  /** Reads until the end or a reset; how many bytes arrived. */
  private static long drain(InputStream in) {
    long n = 0;
    byte[] buf = new byte[65536];
    try {
      int k;
      while ((k = in.read(buf)) >= 0) {
        n += k;
      }
    } catch (IOException e) {
      // a reset: the server dropped the connection with data still unsent
    }
    return n;
  }
}
