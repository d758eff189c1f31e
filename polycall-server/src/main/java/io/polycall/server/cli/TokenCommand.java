package io.polycall.server.cli;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.security.JwtSettings;
import io.polycall.security.TokenIssuer;
import io.polycall.server.PolyCallConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code polycall token issue|keygen}: bearer tokens and signing keys for the node's callers. */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description = "Makes bearer tokens (JWT) for callers, and keys to sign them.",
    subcommands = {TokenCommand.Issue.class, TokenCommand.Keygen.class},
    footer = {
      "",
      "Examples:",
      "  (umask 077; head -c 32 /dev/urandom | base64 > hs256.secret)",
      "  polycall token issue --secret-file hs256.secret --sub alice --aud polycall --ttl 1h",
      "  polycall token keygen --alg ES256 --kid k1 --private signing.jwk --jwks jwks.json",
      "  polycall token issue --key signing.jwk --sub svc-reports --role analyst --ttl 15m",
      "  polycall -c polycall.yaml token issue --sub alice   # key, aud, iss from the config"
    })
final class TokenCommand implements Runnable {
  @CommandLine.ParentCommand PolyCallCli cli;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "issue",
      mixinStandardHelpOptions = true,
      description = {
        "Prints a signed token for --sub on stdout.",
        "Signs with --secret-file (HS256) or --key (a private JWK: RS256 for RSA, ES256 for EC"
            + " P-256); without either, with the config's"
            + " security.authentication.jwt.hs256_secret_file. --aud and --iss default to the"
            + " config's audience and issuer."
      },
      footer = {
        "",
        "Examples:",
        "  polycall token issue --secret-file hs256.secret --sub alice --aud polycall --ttl 1h",
        "  polycall token issue --key signing.jwk --sub bob --role analyst --role ops --ttl 30m",
        "  TOKEN=$(polycall -c polycall.yaml token issue --sub alice)",
        "  polycall -c polycall.yaml call --token \"$TOKEN\" math.add 1 2"
      })
  static final class Issue implements Callable<Integer> {
    @CommandLine.ParentCommand TokenCommand parent;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--sub",
        required = true,
        paramLabel = "SUBJECT",
        description = "Whom it is for.")
    String subject;

    @Option(names = "--aud", paramLabel = "AUDIENCE", description = "The node's audience.")
    String audience;

    @Option(names = "--iss", paramLabel = "ISSUER", description = "The issuer to name.")
    String issuer;

    @Option(
        names = "--ttl",
        paramLabel = "DURATION",
        defaultValue = "1h",
        description = "How long it is valid: 90s, 15m, 1h, 7d (default: ${DEFAULT-VALUE}).")
    String ttl;

    @Option(
        names = "--role",
        paramLabel = "ROLE",
        description = "A role for the roles claim (repeat for several).")
    List<String> roles = new ArrayList<>();

    @Option(names = "--secret-file", paramLabel = "FILE", description = "An HS256 secret file.")
    Path secretFile;

    @Option(names = "--key", paramLabel = "FILE", description = "A private JWK (or JWK set).")
    Path keyFile;

    @Option(names = "--kid", paramLabel = "KID", description = "Which key of a JWK set to use.")
    String kid;

    @Override
    public Integer call() {
      if (secretFile != null && keyFile != null) {
        throw usage("give --secret-file or --key, not both");
      }
      Duration validFor = ttl(ttl);
      JwtSettings configured = null;
      if (secretFile == null && keyFile == null || audience == null) {
        configured = configuredJwt();
      }
      TokenIssuer issuerKey;
      try {
        if (keyFile != null) {
          issuerKey = TokenIssuer.privateKey(keyFile, kid);
        } else if (secretFile != null) {
          issuerKey = TokenIssuer.hs256(secretFile);
        } else if (configured != null && configured.hs256SecretFile() != null) {
          issuerKey = TokenIssuer.hs256(configured.hs256SecretFile());
        } else {
          throw usage(
              "no signing key: pass --secret-file FILE (HS256) or --key FILE (a private JWK), or"
                  + " configure security.authentication.jwt.hs256_secret_file");
        }
      } catch (StatusException e) {
        throw new PolyCallCli.ConfigException(e.status());
      }
      String aud = audience != null ? audience : configured != null ? configured.audience() : null;
      if (aud == null) {
        throw usage(
            "no audience: pass --aud NAME or configure security.authentication.jwt.audience");
      }
      String iss = issuer != null ? issuer : configured != null ? configured.issuer() : null;
      String rolesClaim = configured != null ? configured.rolesClaim() : "roles";
      for (String r : roles) {
        if (r.isBlank() || r.contains(",")) {
          throw usage("--role '" + r + "' must be a non-blank name without commas");
        }
      }
      String token =
          issuerKey.issue(new TokenIssuer.Claims(subject, aud, iss, validFor, roles, rolesClaim));
      spec.commandLine().getOut().println(token);
      return ExitCodes.OK;
    }

    private JwtSettings configuredJwt() {
      PolyCallConfig config;
      try {
        config = parent.cli.loadConfig();
      } catch (StatusException e) {
        throw new PolyCallCli.ConfigException(e.status());
      }
      return config.auth().jwt();
    }
  }

  @Command(
      name = "keygen",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a signing key pair: the private JWK goes to --private (mode 0600), the public key is"
            + " added to the --jwks file the node verifies with (created if missing; a key with"
            + " the same kid is replaced). Remove a kid from the JWKS file to retire its key."
      },
      footer = {
        "",
        "Example:",
        "  polycall token keygen --alg ES256 --kid 2026-11 --private signing.jwk --jwks jwks.json"
      })
  static final class Keygen implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--alg",
        defaultValue = "ES256",
        paramLabel = "ALG",
        description = "ES256 (EC P-256) or RS256 (RSA 2048); default ${DEFAULT-VALUE}.")
    String alg;

    @Option(names = "--kid", required = true, paramLabel = "KID", description = "The key's id.")
    String kid;

    @Option(
        names = "--private",
        required = true,
        paramLabel = "FILE",
        description = "Where the private JWK goes (must not exist).")
    Path privateFile;

    @Option(
        names = "--jwks",
        required = true,
        paramLabel = "FILE",
        description = "The JWKS file the public key is added to.")
    Path jwksFile;

    @Override
    public Integer call() throws IOException {
      if (Files.exists(privateFile)) {
        throw usage("--private " + privateFile + " exists; refusing to overwrite a key");
      }
      JWK key;
      try {
        key = TokenIssuer.generateKey(alg.toUpperCase(Locale.ROOT), kid);
      } catch (StatusException e) {
        throw new PolyCallCli.UsageException(e.status());
      }
      List<JWK> keys = new ArrayList<>();
      if (Files.exists(jwksFile)) {
        try {
          for (JWK k : JWKSet.parse(Files.readString(jwksFile)).getKeys()) {
            if (!kid.equals(k.getKeyID())) {
              keys.add(k);
            }
          }
        } catch (java.text.ParseException e) {
          throw new PolyCallCli.ConfigException(
              Status.FAILED_PRECONDITION.withDescription(
                  jwksFile + " is not a JWK set: " + e.getMessage()));
        }
      }
      keys.add(key.toPublicJWK());
      Files.createFile(
          privateFile,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(privateFile, key.toJSONString() + "\n");
      Path tmp = jwksFile.toAbsolutePath().resolveSibling(jwksFile.getFileName() + ".tmp");
      Files.writeString(tmp, new JWKSet(keys).toString(true) + "\n");
      // Atomic: a node re-reading the file sees the old set or the new one, never half.
      Files.move(
          tmp,
          jwksFile.toAbsolutePath(),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      spec.commandLine()
          .getOut()
          .println(
              "wrote "
                  + privateFile
                  + " (private, "
                  + alg.toUpperCase(Locale.ROOT)
                  + ") and added kid '"
                  + kid
                  + "' to "
                  + jwksFile
                  + " ("
                  + keys.size()
                  + " keys)");
      return ExitCodes.OK;
    }
  }

  /** {@code 90s}, {@code 15m}, {@code 1h}, {@code 7d}. */
  static Duration ttl(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      Duration d =
          switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> null;
          };
      if (d != null && d.isPositive()) {
        return d;
      }
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      // falls through to the usage error
    }
    throw usage("--ttl " + text + " is not a duration; write 90s, 15m, 1h or 7d");
  }

  private static PolyCallCli.UsageException usage(String message) {
    return new PolyCallCli.UsageException(Status.INVALID_ARGUMENT.withDescription(message));
  }
}
