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
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/** Real keys made in the test, real key files, real signed tokens. */
final class TestKeys {
  static final String AUDIENCE = "polycall";
  static final String ISSUER = "https://issuer.test";
  static final byte[] SECRET =
      "0123456789abcdef0123456789abcdef-test".getBytes(StandardCharsets.UTF_8);

  final RSAKey rsa;
  final ECKey ec;
  final RSAKey rsa2;

  TestKeys() {
    try {
      rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
      rsa2 = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
      ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
  }

  /** Writes the public keys to a JWKS file and bumps its mtime so a watcher surely sees it. */
  static void writeJwks(Path file, JWK... keys) {
    List<JWK> pub = java.util.Arrays.stream(keys).map(JWK::toPublicJWK).toList();
    try {
      FileTime before =
          Files.exists(file) ? Files.getLastModifiedTime(file) : FileTime.fromMillis(0);
      Files.writeString(file, new JWKSet(pub).toString());
      Files.setLastModifiedTime(
          file,
          FileTime.from(
              before.toInstant().plusSeconds(2).isAfter(Instant.now())
                  ? before.toInstant().plusSeconds(2)
                  : Instant.now()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void writeSecret(Path file) {
    try {
      Files.write(file, SECRET);
      Files.setPosixFilePermissions(
          file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JWTClaimsSet.Builder claims(String sub) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .subject(sub)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(10))));
  }

  static String sign(JWK key, JWTClaimsSet claims) {
    try {
      JWSSigner signer;
      JWSAlgorithm alg;
      if (key instanceof RSAKey r) {
        signer = new RSASSASigner(r);
        alg = JWSAlgorithm.RS256;
      } else if (key instanceof ECKey e) {
        signer = new ECDSASigner(e);
        alg = JWSAlgorithm.ES256;
      } else {
        throw new IllegalArgumentException(key.toString());
      }
      SignedJWT jwt =
          new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).build(), claims);
      jwt.sign(signer);
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
  }

  static String signHs256(byte[] secret, String kid, JWTClaimsSet claims) {
    try {
      SignedJWT jwt =
          new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(kid).build(), claims);
      jwt.sign(new MACSigner(secret));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
  }
}
