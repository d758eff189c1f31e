package io.polycall.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.polycall.CallOptions;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.core.PolyCall;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthenticationInterceptorTest {
  static final TestKeys KEYS = new TestKeys();

  @TempDir Path dir;
  Path jwks;
  AuthenticationInterceptor authn;
  Nodes.Records records;
  PolyCall pc;

  @BeforeEach
  void start() {
    jwks = dir.resolve("jwks.json");
    Path secret = dir.resolve("hs256.secret");
    TestKeys.writeJwks(jwks, KEYS.rsa, KEYS.ec);
    TestKeys.writeSecret(secret);
    authn =
        AuthenticationInterceptor.jwt(
            JwtSettings.ofJwks(TestKeys.AUDIENCE, jwks)
                .withHs256SecretFile(secret)
                .withIssuer(TestKeys.ISSUER)
                .withClockSkew(Duration.ofSeconds(5)));
    records = new Nodes.Records();
    pc = PolyCall.builder().withInterceptor(records).withInterceptor(authn).build();
    Nodes.whoami(pc, "app.whoami", "jvm");
  }

  @AfterEach
  void stop() {
    pc.close();
  }

  String callWith(String authorization) {
    return pc.call(
            "app.whoami",
            List.of(),
            CallOptions.DEFAULT.withMetadata("authorization", authorization))
        .toJava()
        .toString();
  }

  /** Asserts UNAUTHENTICATED with a message containing {@code expected}, and the audit record. */
  StatusException refused(String authorization, String expected) {
    StatusException e = assertThrows(StatusException.class, () -> callWith(authorization));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code(), e.status().toString());
    assertTrue(
        e.status().description().contains(expected),
        "expected '" + expected + "' in: " + e.status().description());
    assertEquals("authn:deny", records.last().decision());
    assertEquals(e.status().description(), records.last().reason());
    // The node keeps serving: a good token right after works.
    assertEquals(
        "alice", callWith("Bearer " + TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build())));
    return e;
  }

  @Test
  void rs256_es256_and_hs256_tokens_are_accepted() {
    assertEquals(
        "alice", callWith("Bearer " + TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build())));
    assertEquals(
        "bob", callWith("Bearer " + TestKeys.sign(KEYS.ec, TestKeys.claims("bob").build())));
    assertEquals(
        "carol",
        callWith(
            "Bearer "
                + TestKeys.signHs256(TestKeys.SECRET, null, TestKeys.claims("carol").build())));
    assertEquals("authn:allow", records.last().decision());
    assertEquals("carol", records.last().identity().subject());
  }

  @Test
  void a_verified_token_becomes_the_identity_with_its_claims_and_leaves_the_metadata() {
    pc.registry()
        .register(
            io.polycall.spi.BoundFunction.of(
                io.polycall.FunctionInfo.of(
                    io.polycall.Signature.parse("app.seen() -> string"), "jvm"),
                (args, ctx) ->
                    io.polycall.Value.of(
                        ctx.options().identity().method()
                            + " "
                            + ctx.options().identity().attributes().get("roles")
                            + " "
                            + ctx.options().metadata().containsKey("authorization"))));
    String token =
        TestKeys.sign(
            KEYS.rsa, TestKeys.claims("alice").claim("roles", List.of("analyst", "ops")).build());
    String seen =
        pc.call(
                "app.seen",
                List.of(),
                CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token))
            .toJava()
            .toString();
    assertEquals("jwt analyst,ops false", seen);
  }

  /** The token is taken out however many other entries travel with it (one is a special case). */
  @Test
  void a_verified_token_leaves_the_metadata_and_the_other_entries_stay() {
    pc.registry()
        .register(
            io.polycall.spi.BoundFunction.of(
                io.polycall.FunctionInfo.of(
                    io.polycall.Signature.parse("app.metadata() -> string"), "jvm"),
                (args, ctx) ->
                    io.polycall.Value.of(
                        new java.util.TreeMap<>(ctx.options().metadata()).toString())));
    String auth = "Bearer " + TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build());
    CallOptions one = CallOptions.DEFAULT.withMetadata("authorization", auth);
    CallOptions two = one.withMetadata("traceparent", "tp");
    CallOptions three = two.withMetadata("tenant", "t1");
    assertEquals("{}", pc.call("app.metadata", List.of(), one).toJava().toString());
    assertEquals("{traceparent=tp}", pc.call("app.metadata", List.of(), two).toJava().toString());
    assertEquals(
        "{tenant=t1, traceparent=tp}",
        pc.call("app.metadata", List.of(), three).toJava().toString());
  }

  @Test
  void an_expired_token_is_unauthenticated_with_its_expiry() {
    Instant past = Instant.now().minus(Duration.ofHours(1));
    JWTClaimsSet c = TestKeys.claims("alice").expirationTime(Date.from(past)).build();
    refused(
        "Bearer " + TestKeys.sign(KEYS.rsa, c),
        "token expired at " + Instant.ofEpochSecond(past.getEpochSecond()));
  }

  @Test
  void a_token_that_expired_within_the_clock_skew_is_still_accepted() {
    JWTClaimsSet c =
        TestKeys.claims("alice").expirationTime(Date.from(Instant.now().minusSeconds(2))).build();
    assertEquals("alice", callWith("Bearer " + TestKeys.sign(KEYS.rsa, c)));
  }

  @Test
  void a_token_not_yet_valid_is_unauthenticated() {
    Instant later = Instant.now().plus(Duration.ofMinutes(5));
    JWTClaimsSet c = TestKeys.claims("alice").notBeforeTime(Date.from(later)).build();
    refused("Bearer " + TestKeys.sign(KEYS.rsa, c), "not valid before");
  }

  @Test
  void a_token_without_expiry_is_unauthenticated() {
    JWTClaimsSet c = TestKeys.claims("alice").expirationTime(null).build();
    refused("Bearer " + TestKeys.sign(KEYS.rsa, c), "no 'exp'");
  }

  @Test
  void a_token_signed_by_another_key_with_a_known_key_id_has_a_bad_signature() throws Exception {
    // Same kid as the configured key, different private key: a forgery.
    var impostor =
        new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID(KEYS.rsa.getKeyID()).generate();
    refused("Bearer " + TestKeys.sign(impostor, TestKeys.claims("alice").build()), "bad signature");
  }

  @Test
  void an_hs256_token_with_the_wrong_secret_has_a_bad_signature() {
    byte[] other = "another-secret-of-at-least-32-bytes!!".getBytes(StandardCharsets.UTF_8);
    refused(
        "Bearer " + TestKeys.signHs256(other, null, TestKeys.claims("alice").build()),
        "bad signature");
  }

  @Test
  void an_unsigned_alg_none_token_is_refused() {
    String none = new PlainJWT(TestKeys.claims("alice").build()).serialize();
    refused("Bearer " + none, "alg: none");
  }

  @Test
  void an_alg_none_header_on_a_signed_looking_token_is_refused() {
    String signed = TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build());
    String[] parts = signed.split("\\.");
    String header = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}").toString();
    refused("Bearer " + header + "." + parts[1] + "." + parts[2], "alg: none");
  }

  @Test
  void algorithm_confusion_an_hs256_token_keyed_with_the_rsa_public_key_is_refused()
      throws Exception {
    byte[] publicBytes = KEYS.rsa.toRSAPublicKey().getEncoded();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(),
            TestKeys.claims("mallory").build());
    jwt.sign(new MACSigner(publicBytes));
    refused("Bearer " + jwt.serialize(), "key 'rsa-1' is a RS256 key");
  }

  @Test
  void a_token_for_another_audience_names_both() {
    JWTClaimsSet c = TestKeys.claims("alice").audience("billing").build();
    refused(
        "Bearer " + TestKeys.sign(KEYS.ec, c),
        "wrong audience \"billing\" (expected \"polycall\")");
  }

  @Test
  void a_token_from_another_issuer_names_both() {
    JWTClaimsSet c = TestKeys.claims("alice").issuer("https://evil.test").build();
    refused(
        "Bearer " + TestKeys.sign(KEYS.ec, c),
        "wrong issuer \"https://evil.test\" (expected \"https://issuer.test\")");
  }

  @Test
  void malformed_tokens_and_headers_are_unauthenticated() {
    refused("Bearer not-a-jwt", "malformed token");
    refused("Bearer a.b.c", "malformed token");
    refused("Bearer ", "malformed authorization");
    refused("Basic YWxpY2U6c2VjcmV0", "scheme 'Basic'");
    refused("Bearer " + "x".repeat(20_000), "malformed token");
  }

  @Test
  void a_token_of_an_unknown_key_id_is_refused_and_the_message_holds_no_secret() {
    var stranger = KEYS.rsa2;
    StatusException e =
        refused(
            "Bearer " + TestKeys.sign(stranger, TestKeys.claims("alice").build()),
            "unknown key id 'rsa-2'");
    assertFalse(
        e.status().description().contains(new String(TestKeys.SECRET, StandardCharsets.UTF_8)));
  }

  @Test
  void a_key_id_with_control_characters_is_echoed_without_them() throws Exception {
    var forged =
        new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("k\nINFO: fake").generate();
    StatusException e =
        refused(
            "Bearer " + TestKeys.sign(forged, TestKeys.claims("alice").build()),
            "unknown key id 'k?INFO: fake'");
    assertFalse(e.status().description().contains("\n"));
  }

  @Test
  void a_key_rotated_out_of_the_jwks_file_no_longer_verifies_even_a_token_seen_before() {
    String token = TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build());
    assertEquals("alice", callWith("Bearer " + token));
    // Rotation: rsa-2 in, rsa-1 out.
    TestKeys.writeJwks(jwks, KEYS.rsa2, KEYS.ec);
    authn.reloadKeys();
    StatusException e = assertThrows(StatusException.class, () -> callWith("Bearer " + token));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    assertTrue(
        e.status().description().contains("unknown key id 'rsa-1'"), e.status().description());
    assertEquals(
        "dave", callWith("Bearer " + TestKeys.sign(KEYS.rsa2, TestKeys.claims("dave").build())));
  }

  @Test
  void a_jwks_file_that_no_longer_parses_keeps_the_keys_in_force() throws Exception {
    java.nio.file.Files.writeString(jwks, "{ not json");
    authn.reloadKeys();
    assertEquals(
        "alice", callWith("Bearer " + TestKeys.sign(KEYS.rsa, TestKeys.claims("alice").build())));
  }

  @Test
  void a_call_without_any_credential_is_unauthenticated() {
    StatusException e = assertThrows(StatusException.class, () -> pc.call("app.whoami"));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    assertTrue(e.status().description().contains("no credential"), e.status().description());
    assertEquals("authn:deny", records.last().decision());
  }

  @Test
  void a_worker_forwarding_a_token_is_refused_instead_of_gaining_its_rights() {
    String token = TestKeys.sign(KEYS.rsa, TestKeys.claims("admin").build());
    CallOptions o =
        CallOptions.DEFAULT
            .withIdentity(Identity.worker("py", "py-0"))
            .withMetadata("authorization", "Bearer " + token);
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("app.whoami", List.of(), o));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    assertTrue(
        e.status().description().contains("worker:py sent a bearer token"),
        e.status().description());
    // Without the token, the worker calls as itself.
    assertEquals(
        "worker:py",
        pc.call(
                "app.whoami",
                List.of(),
                CallOptions.DEFAULT.withIdentity(Identity.worker("py", "py-0")))
            .toJava());
  }

  @Test
  void a_transport_identity_is_kept_and_a_token_beside_it_is_ignored() {
    String token = TestKeys.sign(KEYS.rsa, TestKeys.claims("admin").build());
    CallOptions o =
        CallOptions.DEFAULT
            .withIdentity(Identity.of("unix:deploy", Identity.UNIX))
            .withMetadata("authorization", "Bearer " + token);
    assertEquals("unix:deploy", pc.call("app.whoami", List.of(), o).toJava());
  }

  @Test
  void a_local_caller_calls_as_its_name_and_a_forged_local_identity_is_refused() {
    LocalCaller app = authn.localCaller(pc, "app");
    assertEquals("app", app.call("app.whoami").toJava());
    CallOptions forged = CallOptions.DEFAULT.withIdentity(Identity.of("app", Identity.LOCAL));
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("app.whoami", List.of(), forged));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    assertTrue(
        e.status().description().contains("not issued by this node"), e.status().description());
    assertThrows(
        StatusException.class,
        () ->
            app.call(
                "app.whoami",
                List.of(),
                CallOptions.DEFAULT.withIdentity(Identity.of("unix:x", Identity.UNIX))));
  }

  @Test
  void the_claimed_subject_of_a_refused_token_is_recorded_but_not_authenticated() {
    JWTClaimsSet c = TestKeys.claims("mallory").audience("other").build();
    assertThrows(StatusException.class, () -> callWith("Bearer " + TestKeys.sign(KEYS.rsa, c)));
    Identity recorded = records.last().identity();
    assertFalse(recorded.isAuthenticated());
    assertEquals(Map.of("claimed_subject", "mallory"), recorded.attributes());
  }
}
