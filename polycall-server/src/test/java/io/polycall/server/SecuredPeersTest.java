package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.security.TokenIssuer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A node calling a peer whose {@code security:} requires authentication (both on loopback): the
 * node presents its own token ({@code peers.token_file}) for its own calls, and forwards a caller's
 * token when the call carries one, so that the peer decides on the original caller.
 */
class SecuredPeersTest extends ConfigTestSupport {
  @Test
  void aNodeCallsASecuredPeerWithItsOwnTokenAndForwardsItsCallersToken() throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        roles:
          calc: {functions: ["math.*"], bridges: [jvm]}
          peer: {functions: ["**"], bridges: ["*"]}
        subjects:
          alice: [calc]
          node-b: [peer]
        """);
    TokenIssuer issuer = TokenIssuer.hs256(dir.resolve("hs256.secret"));
    String nodeB =
        issuer.issue(
            new TokenIssuer.Claims(
                "node-b", "polycall", null, Duration.ofMinutes(5), List.of(), "roles"));
    String alice =
        issuer.issue(
            new TokenIssuer.Claims(
                "alice", "polycall", null, Duration.ofMinutes(5), List.of(), "roles"));
    Files.writeString(dir.resolve("node-b.token"), nodeB + "\n");
    PolyCallConfig a =
        parse(
            """
            node_id: node-a
            jvm: [io.polycall.server.examples.MathFunctions, io.polycall.server.examples.StatsFunctions]
            grpc: {listen: "127.0.0.1:0"}
            security:
              authentication:
                jwt: {audience: polycall, hs256_secret_file: hs256.secret}
              policy: policy.yaml
            """);
    try (Node.Serving served = Node.serve(a)) {
      PolyCallConfig b =
          parse(
              "node_id: node-b\n"
                  + "peers:\n"
                  + "  static: [\"127.0.0.1:"
                  + served.grpc().port()
                  + "\"]\n"
                  + "  token_file: node-b.token\n");
      try (var node = Node.start(b)) {
        List<Value> xs = List.of(Value.of(new double[] {1, 2, 6}));
        // Its own call: node-b's token, which the peer's policy allows everything.
        assertEquals(Value.f64(3), node.call("stats.mean", xs, CallOptions.DEFAULT));
        assertEquals("remote", node.describe("stats.mean").bridge());
        // alice's call through node-b: the peer decides on alice, who may not call stats.mean.
        CallOptions asAlice = CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + alice);
        StatusException denied =
            assertThrows(StatusException.class, () -> node.call("stats.mean", xs, asAlice));
        assertEquals(Status.Code.PERMISSION_DENIED, denied.status().code());
        assertTrue(
            denied.status().description().contains("alice (jwt) may not call stats.mean"),
            denied.getMessage());
        assertEquals(
            Value.i64(5), node.call("math.add", List.of(Value.i64(2), Value.i64(3)), asAlice));
      }
    }
  }
}
