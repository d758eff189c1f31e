package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.core.PolyCall;
import io.polycall.security.LocalCaller;
import io.polycall.security.TokenIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The security section: its keys, its errors, and a node started with it. */
class SecurityConfigTest extends ConfigTestSupport {
  static final String POLICY =
      """
      roles:
        calc: {functions: ["math.*"], bridges: [jvm]}
        admin: {functions: ["**"], bridges: ["*"], permissions: ["*"]}
      subjects:
        alice: [calc]
        "local:app": [admin]
      """;

  static final String CONFIG =
      """
      jvm: [io.polycall.server.examples.MathFunctions]
      security:
        authentication:
          jwt:
            audience: polycall
            issuer: https://id.test
            hs256_secret_file: hs256.secret
            clock_skew: 10s
        policy: policy.yaml
        local_identity: app
      """;

  @BeforeEach
  void files() throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(dir.resolve("policy.yaml"), POLICY);
  }

  String token(String sub, String issuer) {
    return TokenIssuer.hs256(dir.resolve("hs256.secret"))
        .issue(
            new TokenIssuer.Claims(
                sub, "polycall", issuer, Duration.ofMinutes(5), List.of(), "roles"));
  }

  @Test
  void theSecuritySectionIsReadWithPathsRelativeToTheConfig() {
    PolyCallConfig c = parse(CONFIG);
    assertEquals("polycall", c.auth().jwt().audience());
    assertEquals("https://id.test", c.auth().jwt().issuer());
    assertEquals(dir.resolve("hs256.secret"), c.auth().jwt().hs256SecretFile());
    assertNull(c.auth().jwt().jwksFile());
    assertEquals(Duration.ofSeconds(10), c.auth().jwt().clockSkew());
    assertEquals(dir.resolve("policy.yaml"), c.auth().policy());
    assertEquals("app", c.auth().localIdentity());
    assertEquals(PolyCallConfig.NO_AUTH, parse("jvm: []").auth());
  }

  @Test
  void aNodeWithSecurityRefusesAnonymousCallsAndAllowsTokensAndItsLocalIdentityByPolicy() {
    try (PolyCall pc = Node.start(parse(CONFIG))) {
      StatusException anon = assertThrows(StatusException.class, () -> pc.call("math.add", 1L, 2L));
      assertEquals(Status.Code.UNAUTHENTICATED, anon.status().code());
      CallOptions alice =
          CallOptions.DEFAULT.withMetadata(
              "authorization", "Bearer " + token("alice", "https://id.test"));
      assertEquals(
          3L,
          pc.call("math.add", List.of(io.polycall.Value.i64(1), io.polycall.Value.i64(2)), alice)
              .toJava());
      CallOptions wrongIssuer =
          CallOptions.DEFAULT.withMetadata(
              "authorization", "Bearer " + token("alice", "https://x.test"));
      StatusException e =
          assertThrows(
              StatusException.class,
              () ->
                  pc.call(
                      "math.add",
                      List.of(io.polycall.Value.i64(1), io.polycall.Value.i64(2)),
                      wrongIssuer));
      assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
      LocalCaller app = Node.localCaller(pc).orElseThrow();
      assertEquals(3L, app.call("math.add", 1L, 2L).toJava());
    }
  }

  @Test
  void mistakesInTheSectionNameTheLineTheKeyAndTheFix() {
    assertMessage(
        parseFails(
            "security:\n  authentication:\n    jwt: {hs256_secret_file: s}\n  policy: p.yaml\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:3 security.authentication.jwt: needs key 'audience'");
    assertMessage(
        parseFails(
            "security:\n  authentication:\n    jwt: {audience: polycall}\n  policy: p.yaml\n"),
        Status.Code.INVALID_ARGUMENT,
        "needs 'jwks_file' or 'hs256_secret_file'");
    assertMessage(
        parseFails("security:\n  authentication:\n    jwt: {audience: a, jwks_file: j}\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2 security: needs key 'policy'");
    assertMessage(
        parseFails("security:\n  polcy: p.yaml\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2 security.polcy: is not a known key (did you mean 'policy'?)");
    assertMessage(
        parseFails("security:\n  policy: p.yaml\n  local_identity: 'local:app'\n"),
        Status.Code.INVALID_ARGUMENT,
        "security.local_identity: 'local:app' is not an identity name");
    assertMessage(
        parseFails(
            "security:\n  authentication:\n    jwt: {audience: a, jwks_file: j, clock_skew: 10m}\n  policy: p\n"),
        Status.Code.INVALID_ARGUMENT,
        "clock_skew: is more than 5m");
  }

  @Test
  void aNodeDoesNotStartWithABrokenPolicyOrAMissingKeyFile() throws Exception {
    Files.writeString(
        dir.resolve("policy.yaml"), "roles: {a: {functions: [x]}}\nsubjects: {b: [c]}\n");
    assertMessage(
        startFails(CONFIG),
        Status.Code.INVALID_ARGUMENT,
        "security.policy",
        "policy.yaml:2:",
        "names role 'c'");
    Files.writeString(dir.resolve("policy.yaml"), POLICY);
    Files.delete(dir.resolve("hs256.secret"));
    assertMessage(
        startFails(CONFIG), Status.Code.FAILED_PRECONDITION, "hs256.secret: cannot read it");
  }

  @Test
  void aPolicyWithoutAuthenticationStillDeniesByDefault() throws Exception {
    PolyCallConfig c =
        parse(
            "jvm: [io.polycall.server.examples.MathFunctions]\nsecurity: {policy: policy.yaml}\n");
    try (PolyCall pc = Node.start(c)) {
      assertEquals(
          Status.Code.UNAUTHENTICATED,
          assertThrows(StatusException.class, () -> pc.call("math.add", 1L, 2L)).status().code());
      assertTrue(Node.localCaller(pc).isEmpty());
      Path unused = dir;
      assertTrue(Files.isDirectory(unused));
    }
  }
}
