package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.grpc.GrpcClient;
import io.polycall.testing.TestCerts;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A gRPC server that requires client certificates: the certificate's CN is the caller ({@code
 * mtls:CN} in the policy), with no token at all; a token beside the certificate does not change who
 * the caller is.
 */
class MtlsPolicyTest extends ConfigTestSupport {
  @Test
  void theClientCertificatesCnIsTheSubjectThePolicyDecidesOn() throws Exception {
    TestCerts certs = new TestCerts(Files.createDirectories(dir.resolve("certs")));
    TestCerts.Issued ca = certs.ca("test-ca");
    TestCerts.Issued server = certs.server(ca);
    TestCerts.Issued billing = certs.client(ca, "billing", "CN=billing.internal,O=Example");
    TestCerts.Issued stranger = certs.client(ca, "stranger", "CN=stranger,O=Example");
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        roles:
          calc: {functions: ["math.*"], bridges: [jvm]}
        subjects:
          "mtls:billing.internal": [calc]
        """);
    PolyCallConfig config =
        parse(
            """
            jvm: [io.polycall.server.examples.MathFunctions]
            grpc:
              listen: "127.0.0.1:0"
              tls: {cert: %s, key: %s, client_ca: %s}
            security:
              policy: policy.yaml
            """
                .formatted(server.cert(), server.key(), ca.cert()));
    List<Value> args = List.of(Value.i64(2), Value.i64(3));
    try (Node.Serving serving = Node.serve(config);
        GrpcClient asBilling =
            GrpcClient.connect(
                "localhost:" + serving.grpc().port(),
                GrpcClient.tlsCredentials(ca.cert(), billing.cert(), billing.key()));
        GrpcClient asStranger =
            GrpcClient.connect(
                "localhost:" + serving.grpc().port(),
                GrpcClient.tlsCredentials(ca.cert(), stranger.cert(), stranger.key()))) {
      assertEquals(5L, asBilling.call("math.add", args, CallOptions.DEFAULT).toJava());
      StatusException e =
          assertThrows(
              StatusException.class,
              () ->
                  asStranger.call(
                      "math.add",
                      args,
                      CallOptions.DEFAULT.withMetadata("authorization", "Bearer x.y.z")));
      assertEquals(Status.Code.PERMISSION_DENIED, e.status().code(), e.status().toString());
      assertTrue(
          e.status().description().contains("stranger (mtls) may not call math.add"),
          e.status().description());
      assertTrue(e.status().description().contains("map 'mtls:stranger' under 'subjects:'"));
    }
  }
}
