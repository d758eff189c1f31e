package io.polycall.security;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How bearer tokens (JWT) are checked: which keys verify them, whose they must be and for whom.
 *
 * <p>Keys come from a JWKS file (RS256 with RSA keys of 2048 bits or more, ES256 with P-256 keys,
 * HS256 with {@code oct} keys of 32 bytes or more) and/or a file holding one HS256 secret. Both
 * files are re-read when they change (checked at most once per {@link #reloadInterval}): a key
 * added to the JWKS verifies from then on, a key removed no longer does, and tokens verified with
 * it are forgotten.
 *
 * @param issuer the required {@code iss}; null to accept any issuer (not recommended)
 * @param audience the required {@code aud} (this node's name for itself, such as {@code polycall})
 * @param jwksFile a JSON Web Key Set file; null if only an HS256 secret is used
 * @param hs256SecretFile a file whose bytes (less a trailing newline) are the HS256 secret; null if
 *     only the JWKS is used
 * @param clockSkew how far {@code exp} and {@code nbf} may be off, for clocks that disagree
 * @param rolesClaim the claim whose string or list of strings names the caller's roles ({@code
 *     roles}); the policy decides what they grant
 * @param reloadInterval how often the key files are checked for changes
 */
public record JwtSettings(
    String issuer,
    String audience,
    Path jwksFile,
    Path hs256SecretFile,
    Duration clockSkew,
    String rolesClaim,
    Duration reloadInterval) {

  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(1);

  public JwtSettings {
    Objects.requireNonNull(audience, "audience");
    Objects.requireNonNull(clockSkew, "clockSkew");
    Objects.requireNonNull(rolesClaim, "rolesClaim");
    Objects.requireNonNull(reloadInterval, "reloadInterval");
    if (audience.isBlank()) {
      throw new IllegalArgumentException("the audience must not be blank");
    }
    if (jwksFile == null && hs256SecretFile == null) {
      throw new IllegalArgumentException("name a JWKS file, an HS256 secret file, or both");
    }
    if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(5)) > 0) {
      throw new IllegalArgumentException(
          "the clock skew must be between 0 and 5 minutes, was " + clockSkew);
    }
  }

  /**
   * Tokens for {@code audience} verified with the keys of a JWKS file; 30 s skew, {@code roles}.
   */
  public static JwtSettings ofJwks(String audience, Path jwksFile) {
    return new JwtSettings(
        null, audience, jwksFile, null, DEFAULT_CLOCK_SKEW, "roles", DEFAULT_RELOAD_INTERVAL);
  }

  /** Tokens for {@code audience} verified with an HS256 secret file; 30 s skew, {@code roles}. */
  public static JwtSettings ofHs256(String audience, Path secretFile) {
    return new JwtSettings(
        null, audience, null, secretFile, DEFAULT_CLOCK_SKEW, "roles", DEFAULT_RELOAD_INTERVAL);
  }

  public JwtSettings withIssuer(String newIssuer) {
    return new JwtSettings(
        newIssuer, audience, jwksFile, hs256SecretFile, clockSkew, rolesClaim, reloadInterval);
  }

  public JwtSettings withJwksFile(Path file) {
    return new JwtSettings(
        issuer, audience, file, hs256SecretFile, clockSkew, rolesClaim, reloadInterval);
  }

  public JwtSettings withHs256SecretFile(Path file) {
    return new JwtSettings(issuer, audience, jwksFile, file, clockSkew, rolesClaim, reloadInterval);
  }

  public JwtSettings withClockSkew(Duration skew) {
    return new JwtSettings(
        issuer, audience, jwksFile, hs256SecretFile, skew, rolesClaim, reloadInterval);
  }

  public JwtSettings withRolesClaim(String claim) {
    return new JwtSettings(
        issuer, audience, jwksFile, hs256SecretFile, clockSkew, claim, reloadInterval);
  }

  public JwtSettings withReloadInterval(Duration interval) {
    return new JwtSettings(
        issuer, audience, jwksFile, hs256SecretFile, clockSkew, rolesClaim, interval);
  }
}
