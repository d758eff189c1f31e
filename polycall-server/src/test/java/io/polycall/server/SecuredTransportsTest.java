package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.grpc.GrpcClient;
import io.polycall.security.TokenIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same authentication and policy on the gRPC and HTTP paths of a served node (loopback): a
 * token in the {@code authorization} header is verified, an anonymous call is UNAUTHENTICATED, and
 * a call the policy does not allow is PERMISSION_DENIED. The local identity never applies.
 */
class SecuredTransportsTest extends ConfigTestSupport {
  @Test
  void grpcAndHttpCallersAreAuthenticatedAndAuthorizedLikeAnyOther() throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        roles:
          calc: {functions: ["math.*"], bridges: [jvm]}
          admin: {functions: ["**"], bridges: ["*"], permissions: ["*"]}
        subjects:
          alice: [calc]
          "local:app": [admin]
        """);
    PolyCallConfig config =
        parse(
            """
            jvm: [io.polycall.server.examples.MathFunctions, io.polycall.server.examples.StatsFunctions]
            grpc: {listen: "127.0.0.1:0"}
            http: {listen: "127.0.0.1:0"}
            security:
              authentication:
                jwt: {audience: polycall, hs256_secret_file: hs256.secret}
              policy: policy.yaml
              local_identity: app
            """);
    String token =
        TokenIssuer.hs256(dir.resolve("hs256.secret"))
            .issue(
                new TokenIssuer.Claims(
                    "alice", "polycall", null, Duration.ofMinutes(5), List.of(), "roles"));
    try (Node.Serving serving = Node.serve(config);
        GrpcClient grpc = GrpcClient.connect("127.0.0.1:" + serving.grpc().port())) {
      List<Value> args = List.of(Value.i64(2), Value.i64(3));
      CallOptions alice = CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token);
      assertEquals(5L, grpc.call("math.add", args, alice).toJava());
      assertEquals(
          Status.Code.UNAUTHENTICATED,
          assertThrows(
                  StatusException.class, () -> grpc.call("math.add", args, CallOptions.DEFAULT))
              .status()
              .code());
      CallOptions forged =
          CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token + "x");
      assertEquals(
          Status.Code.UNAUTHENTICATED,
          assertThrows(StatusException.class, () -> grpc.call("math.add", args, forged))
              .status()
              .code());
      StatusException denied =
          assertThrows(
              StatusException.class,
              () -> grpc.call("stats.mean", List.of(Value.of(new double[] {1, 2})), alice));
      assertEquals(Status.Code.PERMISSION_DENIED, denied.status().code());
      assertTrue(denied.status().description().contains("alice (jwt) may not call stats.mean"));

      HttpClient http = HttpClient.newHttpClient();
      URI add = URI.create("http://127.0.0.1:" + serving.http().port() + "/v1/call/math.add");
      HttpRequest.Builder req =
          HttpRequest.newBuilder(add)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("[2, 3]"));
      HttpResponse<String> ok =
          http.send(
              req.copy().header("Authorization", "Bearer " + token).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ok.statusCode(), ok.body());
      assertTrue(ok.body().contains("5"), ok.body());
      HttpResponse<String> anonymous = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, anonymous.statusCode(), anonymous.body());
      assertTrue(anonymous.body().contains("UNAUTHENTICATED"), anonymous.body());
    }
  }
}
