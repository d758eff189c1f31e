package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.spi.BoundFunction;
import io.polycall.testing.TestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * TLS and mutual TLS with certificates made for the run; the client certificate is the identity.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {
  private Path dir;
  private TestCerts.Issued ca;
  private TestCerts.Issued serverCert;
  private TestCerts.Issued alice;
  private TestCerts.Issued mallory;
  private PolyCall node;
  private final AtomicReference<Identity> lastIdentity = new AtomicReference<>();

  @BeforeAll
  void certs() throws Exception {
    dir = Files.createTempDirectory("polycall-tls");
    TestCerts certs = new TestCerts(dir);
    ca = certs.ca("Test CA");
    serverCert = certs.server(ca);
    alice = certs.client(ca, "alice", "CN=alice,O=Example");
    TestCerts.Issued otherCa = certs.ca("Other CA");
    mallory = certs.client(otherCa, "mallory", "CN=mallory");
    node = PolyCall.create();
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("id.who() -> string"), "jvm"),
                (args, ctx) -> {
                  lastIdentity.set(ctx.options().identity());
                  return Value.str(ctx.options().identity().subject());
                }));
  }

  @AfterAll
  void cleanUp() throws Exception {
    node.close();
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  private static Value who(GrpcClient c) {
    return c.call("id.who", List.of(), CallOptions.DEFAULT);
  }

  @Test
  void tlsServesClientsThatTrustItsCaAnonymously() {
    try (GrpcServer server =
            GrpcServer.builder(node)
                .withTls(GrpcTls.of(serverCert.cert(), serverCert.key()))
                .start();
        GrpcClient client =
            GrpcClient.connect(server.target(), GrpcClient.tlsCredentials(ca.cert(), null, null))) {
      assertEquals(Value.str(""), who(client));
      assertEquals(Identity.ANONYMOUS, lastIdentity.get());
    }
  }

  @Test
  void aPlaintextClientCannotTalkToATlsServerAndTheServerKeepsServing() {
    try (GrpcServer server =
            GrpcServer.builder(node)
                .withTls(GrpcTls.of(serverCert.cert(), serverCert.key()))
                .start();
        GrpcClient plain = GrpcClient.connect(server.target());
        GrpcClient good =
            GrpcClient.connect(server.target(), GrpcClient.tlsCredentials(ca.cert(), null, null))) {
      StatusException e =
          assertThrows(
              StatusException.class,
              () ->
                  plain.call(
                      "id.who",
                      List.of(),
                      CallOptions.DEFAULT.withDeadlineAfter(java.time.Duration.ofSeconds(5))));
      assertEquals(Status.Code.UNAVAILABLE, e.status().code(), e.status().toString());
      assertEquals(Value.str(""), who(good));
    }
  }

  @Test
  void mutualTlsMakesTheClientCertificateTheCallsIdentity() {
    try (GrpcServer server =
            GrpcServer.builder(node)
                .withTls(GrpcTls.mutual(serverCert.cert(), serverCert.key(), ca.cert()))
                .start();
        GrpcClient client =
            GrpcClient.connect(
                server.target(), GrpcClient.tlsCredentials(ca.cert(), alice.cert(), alice.key()))) {
      assertEquals(Value.str("alice"), who(client));
      Identity id = lastIdentity.get();
      assertEquals(Identity.MTLS, id.method());
      assertEquals(
          alice.x509().getSubjectX500Principal().getName(X500Principal.RFC2253),
          id.attributes().get("dn"));
      assertEquals(
          alice.x509().getSerialNumber().toString(16).toUpperCase(java.util.Locale.ROOT),
          id.attributes().get("serial"));
    }
  }

  @Test
  void requiredClientAuthRefusesClientsWithoutACertificateOrWithAForeignOne() {
    try (GrpcServer server =
            GrpcServer.builder(node)
                .withTls(GrpcTls.mutual(serverCert.cert(), serverCert.key(), ca.cert()))
                .start();
        GrpcClient none =
            GrpcClient.connect(server.target(), GrpcClient.tlsCredentials(ca.cert(), null, null));
        GrpcClient foreign =
            GrpcClient.connect(
                server.target(),
                GrpcClient.tlsCredentials(ca.cert(), mallory.cert(), mallory.key()));
        GrpcClient good =
            GrpcClient.connect(
                server.target(), GrpcClient.tlsCredentials(ca.cert(), alice.cert(), alice.key()))) {
      for (GrpcClient bad : List.of(none, foreign)) {
        StatusException e =
            assertThrows(
                StatusException.class,
                () ->
                    bad.call(
                        "id.who",
                        List.of(),
                        CallOptions.DEFAULT.withDeadlineAfter(java.time.Duration.ofSeconds(5))));
        assertEquals(Status.Code.UNAVAILABLE, e.status().code(), e.status().toString());
      }
      assertEquals(Value.str("alice"), who(good));
    }
  }

  @Test
  void optionalClientAuthLetsAnonymousClientsInAndNamesThoseWithACertificate() {
    try (GrpcServer server =
            GrpcServer.builder(node)
                .withTls(new GrpcTls(serverCert.cert(), serverCert.key(), ca.cert(), false))
                .start();
        GrpcClient none =
            GrpcClient.connect(server.target(), GrpcClient.tlsCredentials(ca.cert(), null, null));
        GrpcClient withCert =
            GrpcClient.connect(
                server.target(), GrpcClient.tlsCredentials(ca.cert(), alice.cert(), alice.key()))) {
      assertEquals(Value.str(""), who(none));
      assertEquals(Value.str("alice"), who(withCert));
    }
  }
}
