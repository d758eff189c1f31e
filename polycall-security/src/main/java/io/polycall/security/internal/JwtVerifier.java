package io.polycall.security.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.security.JwtSettings;
import java.lang.System.Logger.Level;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies compact JWS tokens (HS256, RS256, ES256) with nimbus-jose-jwt and turns them into {@link
 * Identity identities}; remembers verified tokens by their text until they expire or the keys
 * change, so a client that sends the same token on every call pays for one signature check.
 *
 * <p>Thread-safe, never blocks (a key file that changed is re-read by the one call that notices).
 */
public final class JwtVerifier {
  private static final System.Logger LOG = System.getLogger(JwtVerifier.class.getName());

  /** Tokens longer than this are refused before parsing (a header full of padding is an attack). */
  public static final int MAX_TOKEN_CHARS = 16 * 1024;

  private static final int MAX_CACHED = 10_000;
  private static final Set<JWSAlgorithm> ACCEPTED =
      Set.of(JWSAlgorithm.HS256, JWSAlgorithm.RS256, JWSAlgorithm.ES256);

  private final JwtSettings settings;
  private final long skewMillis;
  private final FileWatch jwksWatch;
  private final FileWatch secretWatch;
  private volatile KeySet keys;
  private final ConcurrentHashMap<String, Verified> cache = new ConcurrentHashMap<>();

  private record Verified(Identity identity, long expiresMillis, KeySet keys) {}

  /**
   * Loads the keys now, so that a broken key file stops the node from starting.
   *
   * @throws StatusException FAILED_PRECONDITION naming the file and what is wrong
   */
  public JwtVerifier(JwtSettings settings) {
    this.settings = settings;
    this.skewMillis = settings.clockSkew().toMillis();
    long interval = settings.reloadInterval().toNanos();
    this.jwksWatch =
        settings.jwksFile() == null ? null : new FileWatch(settings.jwksFile(), interval);
    this.secretWatch =
        settings.hs256SecretFile() == null
            ? null
            : new FileWatch(settings.hs256SecretFile(), interval);
    this.keys = KeySet.load(settings.jwksFile(), settings.hs256SecretFile());
  }

  /** The keys in force now (for messages and tests). */
  public KeySet keys() {
    return keys;
  }

  /**
   * Re-reads the key files if they changed. A file that no longer parses keeps the old keys in
   * force and logs why at ERROR: refusing every token because of a typo would be an outage.
   */
  public void reloadIfChanged() {
    boolean jwks = jwksWatch != null && jwksWatch.due();
    boolean secret = secretWatch != null && secretWatch.due();
    if (jwks || secret) {
      reload();
    }
  }

  /** Re-reads the key files now. */
  public void reloadNow() {
    if (jwksWatch != null) {
      jwksWatch.changedNow();
    }
    if (secretWatch != null) {
      secretWatch.changedNow();
    }
    reload();
  }

  private void reload() {
    try {
      KeySet fresh = KeySet.load(settings.jwksFile(), settings.hs256SecretFile());
      keys = fresh;
      // Tokens verified with a key that may be gone must be verified again.
      cache.clear();
      LOG.log(Level.INFO, "token keys reloaded: {0}", fresh.describe());
    } catch (StatusException e) {
      LOG.log(
          Level.ERROR,
          "token keys NOT reloaded, the previous keys stay in force: {0}",
          e.status().description());
    }
  }

  /**
   * The identity a token proves.
   *
   * @throws StatusException UNAUTHENTICATED saying what is wrong with the token (never its text)
   */
  public Identity verify(String token) {
    return verify(token, token);
  }

  /**
   * The identity an {@code authorization} value ({@code Bearer <token>}) proves. Remembered by the
   * whole value: a client sends the same string on every call, whose hash the JVM keeps, so a
   * repeated token costs a map lookup.
   *
   * @throws StatusException UNAUTHENTICATED saying what is wrong (never the token's text)
   */
  public Identity verifyBearer(String authorization) {
    Identity hit = cached(authorization);
    return hit != null ? hit : verify(authorization, bearer(authorization));
  }

  private Identity cached(String key) {
    Verified v = cache.get(key);
    if (v == null) {
      return null;
    }
    reloadIfChanged();
    return v.keys == keys && System.currentTimeMillis() <= v.expiresMillis + skewMillis
        ? v.identity
        : null;
  }

  /** The token of {@code Bearer <token>} (the scheme is case-insensitive, RFC 6750). */
  public static String bearer(String auth) {
    if (auth.length() > 7 && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return auth.substring(7).trim();
    }
    String scheme = auth.indexOf(' ') > 0 ? auth.substring(0, auth.indexOf(' ')) : "";
    throw refused(
        "malformed authorization metadata: expected 'Bearer <token>'"
            + (scheme.isEmpty() || scheme.length() > 20 ? "" : ", got scheme '" + scheme + "'"));
  }

  private Identity verify(String key, String token) {
    reloadIfChanged();
    KeySet ks = keys;
    Verified v = cache.get(key);
    long now = System.currentTimeMillis();
    if (v != null && v.keys == ks && now <= v.expiresMillis + skewMillis) {
      return v.identity;
    }
    Verified fresh = check(token, ks, now);
    if (cache.size() >= MAX_CACHED) {
      cache.clear();
    }
    cache.put(key, fresh);
    return fresh.identity;
  }

  private Verified check(String token, KeySet ks, long now) {
    if (token.length() > MAX_TOKEN_CHARS) {
      throw refused(
          "malformed token: "
              + token.length()
              + " characters, more than the "
              + MAX_TOKEN_CHARS
              + " accepted");
    }
    JWT jwt;
    try {
      jwt = JWTParser.parse(token);
    } catch (ParseException e) {
      if (saysAlgNone(token)) {
        throw refused("unsigned token (alg: none) refused; tokens must be signed");
      }
      throw refused("malformed token: " + brief(e.getMessage()) + "; send a compact signed JWT");
    }
    SignedJWT signed =
        switch (jwt) {
          case PlainJWT p ->
              throw refused("unsigned token (alg: none) refused; tokens must be signed");
          case EncryptedJWT e ->
              throw refused("encrypted token (JWE) refused; send a signed JWT (JWS)");
          case SignedJWT s -> s;
          default -> throw refused("malformed token: not a signed JWT");
        };
    JWSAlgorithm alg = signed.getHeader().getAlgorithm();
    if (!ACCEPTED.contains(alg)) {
      throw refused("algorithm " + alg + " refused; accepted: HS256, RS256, ES256");
    }
    String kid = signed.getHeader().getKeyID();
    List<KeySet.Key> candidates = new ArrayList<>();
    KeySet.Key sameKid = null;
    for (KeySet.Key k : ks.keys()) {
      if (kid != null) {
        if (kid.equals(k.kid())) {
          sameKid = k;
          if (k.alg().equals(alg)) {
            candidates.add(k);
          }
        }
      } else if (k.alg().equals(alg)) {
        candidates.add(k);
      }
    }
    if (candidates.isEmpty()) {
      if (sameKid != null) {
        // Algorithm confusion (an RS256 key's public bytes used as an HS256 secret) ends here.
        throw refused(
            "token says "
                + alg
                + " but key '"
                + kid
                + "' is a "
                + sameKid.alg()
                + " key; a key verifies its own algorithm only");
      }
      if (kid != null) {
        throw refused(
            "unknown key id '"
                + brief(kid)
                + "' (keys in force: "
                + ks.describe()
                + "); the key may have been rotated out");
      }
      throw refused("no " + alg + " key is configured (keys in force: " + ks.describe() + ")");
    }
    boolean ok = false;
    for (KeySet.Key k : candidates) {
      try {
        if (signed.verify(k.verifier())) {
          ok = true;
          break;
        }
      } catch (JOSEException e) {
        // A signature of the wrong length or encoding: as bad as a wrong one.
      }
    }
    if (!ok) {
      throw refused(
          "bad signature: "
              + (kid != null ? "key '" + kid + "'" : "no " + alg + " key in force")
              + " verifies it");
    }
    JWTClaimsSet claims;
    try {
      claims = signed.getJWTClaimsSet();
    } catch (ParseException e) {
      throw refused("malformed token claims: " + brief(e.getMessage()));
    }
    return new Verified(identity(claims, now), expiry(claims, now), ks);
  }

  private long expiry(JWTClaimsSet claims, long now) {
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      throw refused("token has no 'exp' (expiry); issue tokens that expire");
    }
    if (now > exp.getTime() + skewMillis) {
      throw refused(
          "token expired at "
              + Instant.ofEpochSecond(exp.getTime() / 1000)
              + " (now "
              + Instant.ofEpochSecond(now / 1000)
              + ", clock skew allowed "
              + skewMillis / 1000
              + " s)");
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && now + skewMillis < nbf.getTime()) {
      throw refused(
          "token not valid before "
              + Instant.ofEpochSecond(nbf.getTime() / 1000)
              + " (now "
              + Instant.ofEpochSecond(now / 1000)
              + ", clock skew allowed "
              + skewMillis / 1000
              + " s)");
    }
    return exp.getTime();
  }

  private Identity identity(JWTClaimsSet claims, long now) {
    expiry(claims, now);
    String iss = claims.getIssuer();
    if (settings.issuer() != null && !settings.issuer().equals(iss)) {
      throw refused(
          "wrong issuer "
              + (iss == null ? "(none)" : "\"" + brief(iss) + "\"")
              + " (expected \""
              + settings.issuer()
              + "\")");
    }
    List<String> aud = claims.getAudience();
    if (!aud.contains(settings.audience())) {
      throw refused(
          "wrong audience "
              + (aud.isEmpty() ? "(none)" : "\"" + brief(String.join(",", aud)) + "\"")
              + " (expected \""
              + settings.audience()
              + "\")");
    }
    String sub = claims.getSubject();
    if (sub == null || sub.isBlank()) {
      throw refused("token has no 'sub' (subject); say whom it was issued to");
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    if (iss != null) {
      attrs.put("iss", iss);
    }
    attrs.put("aud", String.join(",", aud));
    attrs.put("exp", Long.toString(claims.getExpirationTime().getTime() / 1000));
    if (claims.getJWTID() != null) {
      attrs.put("jti", claims.getJWTID());
    }
    String roles = roles(claims);
    if (!roles.isEmpty()) {
      attrs.put("roles", roles);
    }
    return new Identity(sub, Identity.JWT, attrs);
  }

  private String roles(JWTClaimsSet claims) {
    Object v = claims.getClaim(settings.rolesClaim());
    if (v == null) {
      return "";
    }
    List<String> out = new ArrayList<>();
    if (v instanceof String s) {
      out.add(s);
    } else if (v instanceof List<?> list) {
      for (Object o : list) {
        if (!(o instanceof String s)) {
          throw refused("claim '" + settings.rolesClaim() + "' must hold strings");
        }
        out.add(s);
      }
    } else {
      throw refused("claim '" + settings.rolesClaim() + "' must be a string or a list of strings");
    }
    for (String r : out) {
      // Roles travel comma-joined in the identity's attributes: a comma would forge a second one.
      if (r.isBlank() || r.indexOf(',') >= 0) {
        throw refused(
            "claim '" + settings.rolesClaim() + "' holds a role that is blank or has a comma");
      }
    }
    return String.join(",", out);
  }

  private static boolean saysAlgNone(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0) {
      return false;
    }
    try {
      return com.nimbusds.jose.Header.parse(
              new com.nimbusds.jose.util.Base64URL(token.substring(0, dot)))
          .getAlgorithm()
          .equals(com.nimbusds.jose.Algorithm.NONE);
    } catch (ParseException | RuntimeException e) {
      return false;
    }
  }

  /** An unverified token's subject, for the audit log of a refusal; empty if unreadable. */
  public static String claimedSubject(String token) {
    try {
      String sub = JWTParser.parse(token).getJWTClaimsSet().getSubject();
      return sub == null ? "" : brief(sub);
    } catch (ParseException | RuntimeException e) {
      return "";
    }
  }

  /**
   * A caller-supplied string (a key id, an issuer, a parser's complaint) made safe to echo: at most
   * 120 characters, control characters replaced, so a crafted token cannot forge log lines.
   */
  static String brief(String s) {
    if (s == null) {
      return "";
    }
    String cut = s.length() <= 120 ? s : s.substring(0, 120) + "...";
    StringBuilder b = new StringBuilder(cut.length());
    for (int i = 0; i < cut.length(); i++) {
      char c = cut.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return b.toString();
  }

  private static StatusException refused(String why) {
    return Status.UNAUTHENTICATED.withDescription(why).asException();
  }
}
