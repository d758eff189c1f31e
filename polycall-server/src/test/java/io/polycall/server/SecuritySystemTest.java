package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.AuditVerifier;
import io.polycall.security.TokenIssuer;
import io.polycall.server.cli.PolyCallCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Issue 5's bad-input list through one node with every stage on (audit -> authn -> authz -> limits
 * -> rate limits), with a real Python worker: each case is refused with its own code, the node
 * keeps serving, each leaves an audit record naming the stage that decided, and the untouched log
 * verifies (through {@code polycall audit verify}) while a tampered copy does not.
 */
class SecuritySystemTest extends ConfigTestSupport {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();
  static final String SECRET = "0123456789abcdef0123456789abcdef";

  static final String POLICY =
      """
      roles:
        calc: {functions: ["math.*", "stats.*"]}
        esc: {functions: ["esc.*"]}
        admin: {functions: ["**"], bridges: ["*"], permissions: ["*"]}
      subjects:
        alice: [calc]
        mallory: [calc]
        root: [admin]
        "worker:esc": [esc]
      """;

  RSAKey k1;
  RSAKey k2;

  void writeFiles() throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), SECRET + "\n");
    Files.writeString(dir.resolve("policy.yaml"), POLICY);
    k1 = (RSAKey) TokenIssuer.generateKey("RS256", "k1");
    k2 = (RSAKey) TokenIssuer.generateKey("RS256", "k2");
    writeJwks(k1, k2);
    Files.writeString(
        dir.resolve("esc.py"),
        """
        import polycall

        __polycall_namespace__ = "esc"

        @polycall.function
        def escalate(x: int) -> int:
            # Runs as worker:esc, whatever the caller may do: math.* is not esc's.
            return polycall.call("math.square", x)
        """);
  }

  void writeJwks(RSAKey... keys) throws Exception {
    List<com.nimbusds.jose.jwk.JWK> pub = new ArrayList<>();
    for (RSAKey k : keys) {
      pub.add(k.toPublicJWK());
    }
    Path tmp = dir.resolve("jwks.json.tmp");
    Files.writeString(tmp, new JWKSet(pub).toString(true));
    Files.move(tmp, dir.resolve("jwks.json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  static JWTClaimsSet.Builder claims(String sub) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .subject(sub)
        .audience("polycall")
        .issuer("https://id.test")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(600)));
  }

  static String hs(JWTClaimsSet c, String secret) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), c);
    jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  static String rs(JWTClaimsSet c, RSAKey key) throws Exception {
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), c);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  static CallOptions bearer(String token) {
    return CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token);
  }

  Path log() {
    return dir.resolve("audit.jsonl");
  }

  List<String> records() throws Exception {
    return Files.readAllLines(log());
  }

  /** Runs a call that must fail with {@code code}; returns the audit records it added. */
  List<String> refused(Status.Code code, String part, Supplier<Value> call) throws Exception {
    int before = records().size();
    StatusException e = assertThrows(StatusException.class, call::get);
    assertEquals(code, e.status().code(), e.getMessage());
    assertTrue(e.getMessage().contains(part), () -> "expected '" + part + "' in " + e.getMessage());
    List<String> all = records();
    return all.subList(before, all.size());
  }

  static void assertRecord(List<String> added, String... parts) {
    for (String line : added) {
      boolean all = true;
      for (String p : parts) {
        all &= line.contains(p);
      }
      if (all) {
        return;
      }
    }
    throw new AssertionError("no audit record with " + List.of(parts) + " among " + added);
  }

  @Test
  void everyBadInputIsRefusedAuditedAndTheLogVerifies() throws Exception {
    assumeTrue(
        Files.isExecutable(ROOT.resolve("sdks/python/.venv/bin/python")),
        "no Python SDK environment; run make sdk-envs");
    writeFiles();
    PolyCallConfig c =
        parse(
            """
            jvm: [io.polycall.server.examples.MathFunctions, io.polycall.server.examples.StatsFunctions]
            security:
              authentication:
                jwt:
                  audience: polycall
                  issuer: https://id.test
                  hs256_secret_file: hs256.secret
                  jwks_file: jwks.json
                  clock_skew: 5s
              policy: policy.yaml
              audit: {file: audit.jsonl, fsync: every_record, fail_closed: true}
              limits: {ndarray_elements: 10}
              rate_limits:
                subjects:
                  mallory: {rate: 1/h, burst: 3}
            workers:
              - {name: esc, language: python, files: [esc.py]}
            """);
    String alice = hs(claims("alice").build(), SECRET);
    try (PolyCall pc = Node.start(c)) {
      Supplier<Value> ok =
          () -> pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), bearer(alice));
      assertEquals(Value.i64(3), ok.get());
      assertRecord(records(), "\"subject\":\"alice\"", "\"decision\":\"authz:allow\"");

      // Tokens: expired, not yet valid, wrongly signed, alg none, wrong audience, malformed.
      Instant now = Instant.now();
      List<String[]> tokens = new ArrayList<>();
      tokens.add(
          new String[] {
            hs(claims("alice").expirationTime(Date.from(now.minusSeconds(60))).build(), SECRET),
            "expired"
          });
      tokens.add(
          new String[] {
            hs(claims("alice").notBeforeTime(Date.from(now.plusSeconds(600))).build(), SECRET),
            "not valid before"
          });
      tokens.add(
          new String[] {
            hs(claims("alice").build(), "another-secret-another-secret-xx"), "signature"
          });
      tokens.add(new String[] {new PlainJWT(claims("root").build()).serialize(), "alg: none"});
      tokens.add(
          new String[] {hs(claims("alice").audience("billing").build(), SECRET), "audience"});
      tokens.add(new String[] {"not.a.jwt", "malformed"});
      for (String[] t : tokens) {
        List<String> added =
            refused(
                Status.Code.UNAUTHENTICATED,
                t[1],
                () -> pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), bearer(t[0])));
        assertRecord(added, "\"decision\":\"authn:deny\"", "\"status\":\"UNAUTHENTICATED\"");
        assertEquals(Value.i64(3), ok.get());
      }

      // A key rotated out of the JWKS file no longer verifies, even a token it verified before.
      String byK1 = rs(claims("alice").build(), k1);
      assertEquals(
          Value.i64(3), pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), bearer(byK1)));
      writeJwks(k2);
      StatusException rotated = null;
      for (int i = 0; i < 100 && rotated == null; i++) {
        try {
          pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), bearer(byK1));
          Thread.sleep(100);
        } catch (StatusException e) {
          rotated = e;
        }
      }
      assertTrue(rotated != null, "the rotated-out key still verified after 10 s");
      assertEquals(Status.Code.UNAUTHENTICATED, rotated.status().code());
      assertRecord(records(), "\"decision\":\"authn:deny\"", "rotated");
      assertEquals(Value.i64(3), ok.get());

      // Escalation through a nested worker call: root may call anything, the worker it calls
      // may not call math.*, and does not borrow root's rights.
      String root = hs(claims("root").build(), SECRET);
      List<String> added =
          refused(
              Status.Code.PERMISSION_DENIED,
              "worker:esc",
              () -> pc.call("esc.escalate", List.of(Value.i64(3)), bearer(root)));
      assertRecord(
          added,
          "\"subject\":\"worker:esc\"",
          "\"function\":\"math.square@1\"",
          "\"decision\":\"authz:deny\"");
      assertRecord(added, "\"subject\":\"root\"", "\"function\":\"esc.escalate@1\"");
      assertEquals(Value.i64(3), ok.get());

      // A policy file with a syntax error: the old policy stays in force.
      Files.writeString(dir.resolve("policy.yaml"), "roles: [unclosed\n  calc: {");
      Thread.sleep(1500);
      assertEquals(Value.i64(3), ok.get());
      List<String> stillDenied =
          refused(
              Status.Code.PERMISSION_DENIED,
              "alice",
              () -> pc.call("esc.escalate", List.of(Value.i64(3)), bearer(alice)));
      assertRecord(stillDenied, "\"subject\":\"alice\"", "\"decision\":\"authz:deny\"");

      // Input limits, after authorization.
      added =
          refused(
              Status.Code.INVALID_ARGUMENT,
              "exceeds the limit of 10 elements",
              () -> pc.call("stats.mean", List.of(Value.ndarray(new double[11])), bearer(alice)));
      assertRecord(added, "\"decision\":\"limits:deny\"");

      // A flood past the rate limit: 3 accepted, the rest refused with a retry hint; others
      // unaffected.
      String mallory = hs(claims("mallory").build(), SECRET);
      int accepted = 0;
      int refusedCount = 0;
      for (int i = 0; i < 30; i++) {
        try {
          pc.call("math.add", List.of(Value.i64(i), Value.i64(1)), bearer(mallory));
          accepted++;
        } catch (StatusException e) {
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.status().code());
          assertTrue(e.getMessage().contains("retry_after_ms="), e.getMessage());
          refusedCount++;
        }
      }
      assertEquals(3, accepted);
      assertEquals(27, refusedCount);
      assertEquals(Value.i64(3), ok.get());
      assertEquals(
          27, records().stream().filter(l -> l.contains("\"decision\":\"rate:deny\"")).count());
    }

    // The untouched log verifies; a copy edited by hand, truncated or missing a line does not.
    AuditVerifier.Result r = AuditVerifier.verify(List.of(log()));
    assertTrue(r.intact(), String.valueOf(r.problem()));
    assertEquals(0, cli("audit", "verify", log().toString()));
    List<String> lines = records();
    Path edited = dir.resolve("edited.jsonl");
    List<String> e = new ArrayList<>(lines);
    e.set(3, e.get(3).replace("\"subject\":\"alice\"", "\"subject\":\"bob\""));
    Files.write(edited, e);
    assertEquals(1, cli("audit", "verify", edited.toString()));
    Path removed = dir.resolve("removed.jsonl");
    List<String> m = new ArrayList<>(lines);
    m.remove(5);
    Files.write(removed, m);
    assertEquals(1, cli("audit", "verify", removed.toString()));
    Path truncated = dir.resolve("truncated.jsonl");
    byte[] all = Files.readAllBytes(log());
    Files.write(truncated, java.util.Arrays.copyOf(all, all.length - 30));
    assertEquals(1, cli("audit", "verify", truncated.toString()));
  }

  static int cli(String... args) {
    return PolyCallCli.run(
        args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
  }
}
