package io.polycall.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.polycall.Status;
import io.polycall.StatusException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;

/**
 * Makes signed tokens (what {@code polycall token issue} prints) with an HS256 secret file or a
 * private key in JWK form (RS256 for RSA, ES256 for EC P-256). Also makes key pairs for a JWKS
 * file. Immutable and thread-safe.
 */
public final class TokenIssuer {
  private final JWSSigner signer;
  private final JWSAlgorithm alg;
  private final String kid;

  private TokenIssuer(JWSSigner signer, JWSAlgorithm alg, String kid) {
    this.signer = signer;
    this.alg = alg;
    this.kid = kid;
  }

  /** What a token says. {@code issuer} may be null; {@code roles} may be empty. */
  public record Claims(
      String subject,
      String audience,
      String issuer,
      Duration ttl,
      List<String> roles,
      String rolesClaim) {}

  /**
   * Signs with the HS256 secret in {@code file} (its bytes less a trailing newline).
   *
   * @throws StatusException FAILED_PRECONDITION if the file is unreadable or the secret too short
   */
  public static TokenIssuer hs256(Path file) {
    byte[] secret = io.polycall.security.internal.KeySet.readSecret(file);
    try {
      return new TokenIssuer(new MACSigner(secret), JWSAlgorithm.HS256, null);
    } catch (JOSEException e) {
      throw bad(file, e.getMessage());
    }
  }

  /**
   * Signs with a private key in a JWK file: one key, or a key set from which {@code kid} picks
   * (null: the set must hold exactly one private key).
   */
  public static TokenIssuer privateKey(Path file, String kid) {
    JWKSet set;
    try {
      String text = Files.readString(file).strip();
      set = text.contains("\"keys\"") ? JWKSet.parse(text) : new JWKSet(JWK.parse(text));
    } catch (IOException e) {
      throw bad(file, "cannot read it: " + e);
    } catch (java.text.ParseException e) {
      throw bad(file, "is not a JWK or JWK set: " + e.getMessage());
    }
    List<JWK> candidates = new ArrayList<>();
    for (JWK k : set.getKeys()) {
      if (k.isPrivate() && (kid == null || kid.equals(k.getKeyID()))) {
        candidates.add(k);
      }
    }
    if (candidates.size() != 1) {
      throw bad(
          file,
          candidates.isEmpty()
              ? "holds no private key" + (kid == null ? "" : " with kid '" + kid + "'")
              : "holds " + candidates.size() + " private keys; pick one with --kid");
    }
    JWK k = candidates.getFirst();
    try {
      return switch (k) {
        case RSAKey r -> new TokenIssuer(new RSASSASigner(r), JWSAlgorithm.RS256, r.getKeyID());
        case ECKey e when Curve.P_256.equals(e.getCurve()) ->
            new TokenIssuer(new ECDSASigner(e), JWSAlgorithm.ES256, e.getKeyID());
        default -> throw bad(file, "key type " + k.getKeyType() + " is not RSA or EC P-256");
      };
    } catch (JOSEException e) {
      throw bad(file, e.getMessage());
    }
  }

  public JWSAlgorithm algorithm() {
    return alg;
  }

  /** A signed token valid from now for {@code claims.ttl()}. */
  public String issue(Claims c) {
    Instant now = Instant.now();
    JWTClaimsSet.Builder b =
        new JWTClaimsSet.Builder()
            .subject(c.subject())
            .audience(c.audience())
            .issueTime(Date.from(now))
            .notBeforeTime(Date.from(now))
            .expirationTime(Date.from(now.plus(c.ttl())))
            .jwtID(UUID.randomUUID().toString());
    if (c.issuer() != null) {
      b.issuer(c.issuer());
    }
    if (!c.roles().isEmpty()) {
      b.claim(c.rolesClaim(), c.roles());
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), b.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw Status.INTERNAL.withDescription("signing failed: " + e.getMessage()).asException();
    }
    return jwt.serialize();
  }

  /**
   * A new signing key: {@code ES256} (EC P-256) or {@code RS256} (RSA 2048), as a private JWK. Its
   * public half ({@link JWK#toPublicJWK}) goes into the node's JWKS file.
   */
  public static JWK generateKey(String alg, String kid) {
    try {
      return switch (alg) {
        case "ES256" ->
            new ECKeyGenerator(Curve.P_256)
                .keyID(kid)
                .keyUse(KeyUse.SIGNATURE)
                .algorithm(JWSAlgorithm.ES256)
                .generate();
        case "RS256" ->
            new RSAKeyGenerator(2048)
                .keyID(kid)
                .keyUse(KeyUse.SIGNATURE)
                .algorithm(JWSAlgorithm.RS256)
                .generate();
        default ->
            throw Status.INVALID_ARGUMENT
                .withDescription("--alg " + alg + ": choose ES256 or RS256")
                .asException();
      };
    } catch (JOSEException e) {
      throw Status.INTERNAL
          .withDescription("key generation failed: " + e.getMessage())
          .asException();
    }
  }

  private static StatusException bad(Path file, String problem) {
    return Status.FAILED_PRECONDITION.withDescription(file + ": " + problem).asException();
  }
}
