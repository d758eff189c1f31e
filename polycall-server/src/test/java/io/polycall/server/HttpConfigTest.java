package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The config's {@code http:} section, and a served node answering over HTTP. */
class HttpConfigTest extends ConfigTestSupport {

  @Test
  void theHttpSectionIsReadWithItsLimits() {
    PolyCallConfig c =
        parse(
            """
            http:
              listen: 127.0.0.1:8080
              max_body_bytes: 512KiB
              idle_timeout: 5s
              write_timeout: 1500ms
            """);
    PolyCallConfig.HttpSpec h = c.http();
    assertEquals("127.0.0.1", h.host());
    assertEquals(8080, h.port());
    assertEquals(512 * 1024, h.maxBodyBytes());
    assertEquals(Duration.ofSeconds(5), h.idleTimeout());
    assertEquals(Duration.ofMillis(1500), h.writeTimeout());
    assertEquals(
        65536, parse("http: {listen: '[::1]:0', max_body_bytes: 65536}").http().maxBodyBytes());
    assertEquals("::1", parse("http: {listen: '[::1]:0'}").http().host());
  }

  @Test
  void withoutAnHttpSectionThereIsNoGateway() {
    assertNull(parse("jvm: []").http());
  }

  @Test
  void aBadListenAddressNamesTheKeyAndTheFix() {
    assertMessage(
        parseFails("http:\n  listen: localhost\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2 http.listen",
        "host:port");
    assertMessage(
        parseFails("http:\n  listen: 127.0.0.1:99999\n"),
        Status.Code.INVALID_ARGUMENT,
        "http.listen");
    assertMessage(
        parseFails("http:\n  max_body_bytes: 10\n"),
        Status.Code.INVALID_ARGUMENT,
        "http",
        "listen");
  }

  @Test
  void aBadSizeOrAnUnknownKeyIsRefused() {
    assertMessage(
        parseFails("http:\n  listen: 127.0.0.1:0\n  max_body_bytes: lots\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:3 http.max_body_bytes",
        "16MiB");
    assertMessage(
        parseFails("http:\n  listen: 127.0.0.1:0\n  max_body: 10\n"),
        Status.Code.INVALID_ARGUMENT,
        "max_body");
  }

  @Test
  void aServedNodeAnswersOverHttpUntilClosed() throws Exception {
    PolyCallConfig c =
        parse(
            """
            jvm: [io.polycall.server.examples.MathFunctions]
            http: {listen: 127.0.0.1:0, max_body_bytes: 1KiB}
            """);
    int port;
    try (Node.Serving s = Node.serve(c)) {
      assertTrue(s.http() != null);
      port = s.http().port();
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + port + "/v1/call/math.add"))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString("[1, 2]"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("{\"result\":3}", r.body());
      HttpResponse<String> big =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + port + "/v1/call/math.add"))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString("[" + " ".repeat(2048) + "1, 2]"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertEquals(413, big.statusCode(), big.body());
      assertTrue(s.http().isShutdown() == false);
    }
  }

  @Test
  void aPortInUseFailsTheStartNamingTheSection() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      PolyCallConfig c = parse("http: {listen: '127.0.0.1:" + taken.getLocalPort() + "'}");
      io.polycall.StatusException e = assertThrowsStart(c);
      assertMessage(e, Status.Code.FAILED_PRECONDITION, "test.yaml:1 http", "cannot listen");
    }
  }

  private static io.polycall.StatusException assertThrowsStart(PolyCallConfig c) {
    return org.junit.jupiter.api.Assertions.assertThrows(
        io.polycall.StatusException.class, () -> Node.serve(c).close());
  }
}
