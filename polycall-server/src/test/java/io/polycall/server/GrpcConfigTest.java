package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.grpc.GrpcClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The config's {@code grpc:} section, and a served node answering over gRPC. */
class GrpcConfigTest extends ConfigTestSupport {

  @Test
  void theGrpcSectionIsReadWithTlsLimitsAndKeepalive() {
    PolyCallConfig c =
        parse(
            """
            grpc:
              listen: 127.0.0.1:50051
              tls:
                cert: certs/node.crt
                key: certs/node.key
                client_ca: certs/ca.crt
              max_message_bytes: 8MiB
              keepalive:
                time: 2h
                timeout: 20s
                permit_time: 5m
                permit_without_calls: true
                max_idle: 30m
            """);
    PolyCallConfig.GrpcSpec g = c.grpc();
    assertEquals("127.0.0.1", g.host());
    assertEquals(50051, g.port());
    assertEquals(8 << 20, g.maxMessageBytes());
    assertEquals(dir.resolve("certs/node.crt"), g.tls().cert());
    assertEquals(dir.resolve("certs/node.key"), g.tls().key());
    assertEquals(dir.resolve("certs/ca.crt"), g.tls().clientCa());
    assertTrue(g.tls().requireClientAuth(), "a client_ca requires client certificates by default");
    assertEquals(Duration.ofHours(2), g.keepaliveTime());
    assertEquals(Duration.ofSeconds(20), g.keepaliveTimeout());
    assertEquals(Duration.ofMinutes(5), g.permitKeepaliveTime());
    assertTrue(g.permitKeepaliveWithoutCalls());
    assertEquals(Duration.ofMinutes(30), g.maxConnectionIdle());
  }

  @Test
  void defaultsAreGrpcsOwn() {
    PolyCallConfig.GrpcSpec g = parse("grpc: {listen: '[::1]:0'}").grpc();
    assertEquals("::1", g.host());
    assertNull(g.tls());
    assertEquals(4 << 20, g.maxMessageBytes());
    assertNull(g.keepaliveTime());
    assertFalse(
        parse(
                """
                grpc:
                  listen: 127.0.0.1:0
                  tls: {cert: a.crt, key: a.key, client_ca: ca.crt, require_client_auth: false}
                """)
            .grpc()
            .tls()
            .requireClientAuth());
    assertNull(parse("jvm: []").grpc());
  }

  @Test
  void badSettingsNameTheKeyAndTheFix() {
    assertMessage(
        parseFails("grpc:\n  listen: localhost\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2 grpc.listen",
        "host:port");
    assertMessage(
        parseFails("grpc:\n  max_message_bytes: 10\n"),
        Status.Code.INVALID_ARGUMENT,
        "grpc",
        "listen");
    assertMessage(
        parseFails("grpc:\n  listen: 127.0.0.1:0\n  tls: {cert: a.crt}\n"),
        Status.Code.INVALID_ARGUMENT,
        "grpc.tls",
        "key");
    assertMessage(
        parseFails(
            "grpc:\n  listen: 127.0.0.1:0\n  tls: {cert: a, key: b, require_client_auth: true}\n"),
        Status.Code.INVALID_ARGUMENT,
        "grpc.tls.require_client_auth",
        "client_ca");
    assertMessage(
        parseFails("grpc:\n  listen: 127.0.0.1:0\n  keepalive: {time: soon}\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:3 grpc.keepalive.time");
    assertMessage(
        parseFails("grpc:\n  listen: 127.0.0.1:0\n  max_msg: 10\n"),
        Status.Code.INVALID_ARGUMENT,
        "max_msg");
  }

  @Test
  void aServedNodeAnswersOverGrpcWithItsMessageLimit() {
    PolyCallConfig c =
        parse(
            """
            jvm: [io.polycall.server.examples.MathFunctions]
            grpc: {listen: 127.0.0.1:0, max_message_bytes: 1KiB}
            """);
    try (Node.Serving s = Node.serve(c)) {
      assertNotNull(s.grpc());
      try (GrpcClient client = GrpcClient.connect(s.grpc().target())) {
        assertEquals(Value.i64(3), client.call("math.add", Value.i64(1), Value.i64(2)));
        StatusException big =
            assertThrows(
                StatusException.class,
                () -> client.call("math.add", Value.str("x".repeat(4096)), Value.i64(1)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, big.status().code());
        assertEquals(Value.i64(5), client.call("math.add", Value.i64(2), Value.i64(3)));
      }
    }
  }

  @Test
  void aPortInUseOrMissingTlsFilesFailTheStartNamingTheSection() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      PolyCallConfig c = parse("grpc: {listen: '127.0.0.1:" + taken.getLocalPort() + "'}");
      StatusException e = assertThrows(StatusException.class, () -> Node.serve(c).close());
      assertMessage(e, Status.Code.FAILED_PRECONDITION, "test.yaml:1 grpc", "grpc.listen");
    }
    PolyCallConfig noFiles =
        parse("grpc: {listen: '127.0.0.1:0', tls: {cert: missing.crt, key: missing.key}}");
    StatusException e = assertThrows(StatusException.class, () -> Node.serve(noFiles).close());
    assertMessage(e, Status.Code.FAILED_PRECONDITION, "test.yaml:1 grpc", "grpc.tls");
  }
}
