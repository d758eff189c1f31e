package io.polycall.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.PlainJWT;
import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every refusal of the authentication and authorization stages leaves a record in the real,
 * hash-chained audit log, with the stage that decided, the reason and the status code; the node
 * keeps serving after each.
 */
class AuditedRefusalsTest {
  static final TestKeys KEYS = new TestKeys();

  @TempDir Path dir;

  @Test
  void each_bad_token_and_each_denial_leaves_an_audit_record_with_its_reason() throws Exception {
    Path jwks = dir.resolve("jwks.json");
    TestKeys.writeJwks(jwks, KEYS.rsa, KEYS.ec);
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(
        policy,
        """
        roles:
          calc: {functions: ["math.*"], bridges: [jvm]}
        subjects:
          alice: [calc]
        """);
    Path auditFile = dir.resolve("audit.jsonl");
    List<String> expected = new ArrayList<>();
    List<Status.Code> codes = new ArrayList<>();
    AuthenticationInterceptor authn =
        AuthenticationInterceptor.jwt(
            JwtSettings.ofJwks(TestKeys.AUDIENCE, jwks).withIssuer(TestKeys.ISSUER));
    try (AuditLog audit = AuditLog.open(AuditConfig.of(auditFile));
        PolyCall pc =
            PolyCall.builder()
                .withInterceptor(audit.interceptor())
                .withInterceptor(authn)
                .withInterceptor(AuthorizationInterceptor.watching(policy))
                .build()) {
      Nodes.whoami(pc, "math.whoami", "jvm");
      Nodes.whoami(pc, "admin.whoami", "jvm");
      String good = TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build());
      Instant past = Instant.now().minus(Duration.ofHours(1));
      Instant later = Instant.now().plus(Duration.ofHours(1));
      List<String[]> bad =
          List.of(
              new String[] {
                "Bearer "
                    + TestKeys.sign(
                        KEYS.rsa, TestKeys.claims("alice").expirationTime(Date.from(past)).build()),
                "token expired at"
              },
              new String[] {
                "Bearer "
                    + TestKeys.sign(
                        KEYS.rsa, TestKeys.claims("alice").notBeforeTime(Date.from(later)).build()),
                "not valid before"
              },
              new String[] {
                "Bearer " + TestKeys.sign(KEYS.rsa2, TestKeys.claims("alice").build()),
                "unknown key id 'rsa-2'"
              },
              new String[] {
                "Bearer " + new PlainJWT(TestKeys.claims("alice").build()).serialize(), "alg: none"
              },
              new String[] {
                "Bearer "
                    + TestKeys.sign(KEYS.ec, TestKeys.claims("alice").audience("other").build()),
                "wrong audience"
              },
              new String[] {"Bearer x.y.z", "malformed token"});
      for (String[] b : bad) {
        CallOptions o = CallOptions.DEFAULT.withMetadata("authorization", b[0]);
        StatusException e =
            assertThrows(StatusException.class, () -> pc.call("math.whoami", List.of(), o));
        assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
        expected.add("authn:deny|" + b[1]);
        codes.add(Status.Code.UNAUTHENTICATED);
        // The node keeps serving.
        assertEquals(
            "alice",
            pc.call(
                    "math.whoami",
                    List.of(),
                    CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + good))
                .toJava());
        expected.add("authz:allow|role calc");
        codes.add(Status.Code.OK);
      }
      CallOptions alice = CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + good);
      assertThrows(StatusException.class, () -> pc.call("admin.whoami", List.of(), alice));
      expected.add("authz:deny|alice (jwt) may not call admin.whoami");
      codes.add(Status.Code.PERMISSION_DENIED);
    }
    List<String> lines = Files.readAllLines(auditFile);
    List<java.util.Map<String, Object>> records = new ArrayList<>();
    for (String l : lines) {
      java.util.Map<String, Object> n = JSONObjectUtils.parse(l);
      if ("call".equals(n.get("event"))) {
        records.add(n);
      }
    }
    assertEquals(expected.size(), records.size(), lines.toString());
    for (int i = 0; i < expected.size(); i++) {
      String[] want = expected.get(i).split("\\|", 2);
      java.util.Map<String, Object> r = records.get(i);
      assertEquals(want[0], r.get("decision"), r.toString());
      assertTrue(String.valueOf(r.get("reason")).contains(want[1]), r.toString());
      assertEquals(codes.get(i).number(), ((Number) r.get("code")).intValue(), r.toString());
    }
    assertNull(AuditVerifier.verify(List.of(auditFile)).problem(), "the chain verifies");
  }
}
