package io.polycall.security.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import io.polycall.Status;
import io.polycall.StatusException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The verification keys in force at one moment: immutable, swapped whole when a key file changes,
 * so a call sees either the old set or the new one, never a mix.
 *
 * <p>Each key is bound to exactly one algorithm by its type (RSA: RS256, EC P-256: ES256, oct:
 * HS256), which is what defeats algorithm confusion: an RSA public key is never used as an HMAC
 * secret, whatever the token's header says.
 */
public final class KeySet {
  /** One verification key and the only algorithm it verifies. */
  public record Key(String kid, JWSAlgorithm alg, JWSVerifier verifier) {}

  private final List<Key> keys;
  private final String describe;

  private KeySet(List<Key> keys, String describe) {
    this.keys = List.copyOf(keys);
    this.describe = describe;
  }

  public List<Key> keys() {
    return keys;
  }

  /** What the set holds, for messages: key ids and algorithms, never key material. */
  public String describe() {
    return describe;
  }

  /**
   * Reads the keys from the files (either may be null).
   *
   * @throws StatusException FAILED_PRECONDITION naming the file and what is wrong with it
   */
  public static KeySet load(Path jwksFile, Path secretFile) {
    List<Key> keys = new ArrayList<>();
    List<String> names = new ArrayList<>();
    if (secretFile != null) {
      byte[] secret = readSecret(secretFile);
      try {
        keys.add(new Key(null, JWSAlgorithm.HS256, new MACVerifier(secret)));
      } catch (JOSEException e) {
        throw bad(secretFile, "cannot make an HS256 verifier: " + e.getMessage());
      }
      names.add("the HS256 secret of " + secretFile.getFileName());
    }
    if (jwksFile != null) {
      JWKSet set;
      try {
        set = JWKSet.parse(Files.readString(jwksFile));
      } catch (IOException e) {
        throw bad(jwksFile, "cannot read it: " + e);
      } catch (java.text.ParseException e) {
        throw bad(jwksFile, "is not a JSON Web Key Set: " + e.getMessage());
      }
      for (JWK jwk : set.getKeys()) {
        if (jwk.isPrivate()) {
          // The node verifies only; a private key here can mint tokens if the file leaks.
          LOG.log(
              System.Logger.Level.WARNING,
              "{0}: key ''{1}'' holds private key material; a node needs public keys only"
                  + " (polycall token keygen writes them apart)",
              jwksFile,
              jwk.getKeyID());
          warnIfOthersCanRead(jwksFile, "a private key");
        }
        Key k = key(jwksFile, jwk);
        if (k != null) {
          keys.add(k);
          names.add(k.alg() + " key '" + k.kid() + "'");
        }
      }
    }
    return new KeySet(keys, keys.isEmpty() ? "no keys" : String.join(", ", names));
  }

  private static Key key(Path file, JWK jwk) {
    if (KeyUse.ENCRYPTION.equals(jwk.getKeyUse())) {
      return null;
    }
    String kid = jwk.getKeyID();
    if (kid == null || kid.isEmpty()) {
      throw bad(file, "a " + jwk.getKeyType() + " key has no 'kid'; give every key an id");
    }
    try {
      return switch (jwk) {
        case RSAKey rsa -> {
          if (rsa.size() < 2048) {
            throw bad(file, "RSA key '" + kid + "' has " + rsa.size() + " bits; use 2048 or more");
          }
          yield new Key(kid, checkAlg(file, jwk, JWSAlgorithm.RS256), verifier(rsa));
        }
        case ECKey ec -> {
          if (!Curve.P_256.equals(ec.getCurve())) {
            throw bad(file, "EC key '" + kid + "' is on " + ec.getCurve() + "; ES256 needs P-256");
          }
          yield new Key(
              kid, checkAlg(file, jwk, JWSAlgorithm.ES256), new ECDSAVerifier(ec.toPublicJWK()));
        }
        case OctetSequenceKey oct -> {
          if (oct.size() < 256) {
            throw bad(
                file,
                "oct key '" + kid + "' has " + oct.size() / 8 + " bytes; HS256 needs 32 or more");
          }
          yield new Key(kid, checkAlg(file, jwk, JWSAlgorithm.HS256), new MACVerifier(oct));
        }
        default ->
            throw bad(
                file,
                "key '" + kid + "' is of type " + jwk.getKeyType() + "; use RSA, EC P-256 or oct");
      };
    } catch (JOSEException e) {
      throw bad(file, "key '" + kid + "' is unusable: " + e.getMessage());
    }
  }

  private static JWSVerifier verifier(RSAKey rsa) throws JOSEException {
    return new RSASSAVerifier(rsa.toPublicJWK());
  }

  private static JWSAlgorithm checkAlg(Path file, JWK jwk, JWSAlgorithm expected) {
    if (jwk.getAlgorithm() != null && !jwk.getAlgorithm().getName().equals(expected.getName())) {
      throw bad(
          file,
          "key '"
              + jwk.getKeyID()
              + "' says alg "
              + jwk.getAlgorithm()
              + "; a "
              + jwk.getKeyType()
              + " key verifies "
              + expected
              + " only");
    }
    return expected;
  }

  /**
   * The HS256 secret in {@code file} (trailing newlines dropped), warning when other users can read
   * it; the node's verifier and {@code polycall token issue} read it the same way.
   *
   * @throws StatusException FAILED_PRECONDITION if the file is unreadable or the secret too short
   */
  public static byte[] readSecret(Path file) {
    warnIfOthersCanRead(file, "the HS256 secret");
    byte[] b;
    try {
      b = Files.readAllBytes(file);
    } catch (IOException e) {
      throw bad(file, "cannot read it: " + e);
    }
    int n = b.length;
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) {
      n--;
    }
    byte[] secret = Arrays.copyOf(b, n);
    Arrays.fill(b, (byte) 0);
    if (secret.length < 32) {
      throw bad(
          file,
          "the HS256 secret has "
              + secret.length
              + " bytes; it needs 32 or more (make one with: head -c 32 /dev/urandom | base64 > "
              + file.getFileName()
              + ")");
    }
    return secret;
  }

  private static final System.Logger LOG = System.getLogger(KeySet.class.getName());

  /** A secret readable by other users is a secret shared with them: say so at WARNING. */
  private static void warnIfOthersCanRead(Path file, String what) {
    try {
      var perms = Files.getPosixFilePermissions(file);
      if (perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)
          || perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ)) {
        LOG.log(
            System.Logger.Level.WARNING,
            "{0} holds {1} and is readable by other users ({2}); chmod 600 {0}",
            file,
            what,
            java.nio.file.attribute.PosixFilePermissions.toString(perms));
      }
    } catch (IOException | UnsupportedOperationException e) {
      // unreadable files fail below with their own message; non-POSIX file systems have no modes
    }
  }

  private static StatusException bad(Path file, String problem) {
    return Status.FAILED_PRECONDITION.withDescription(file + ": " + problem).asException();
  }
}
