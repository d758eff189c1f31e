package io.polycall.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code polycall token} and {@code call --token}, run in-process as a user types them. */
class TokenCommandTest {
  @TempDir Path dir;

  static void assertContains(String text, String part) {
    assertTrue(text.contains(part), () -> "expected '" + part + "' in:\n" + text);
  }

  Path config(String jwtKeys) throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        roles:
          calc: {functions: ["math.*"]}
        subjects:
          alice: [calc]
          "role:ops": [calc]
        """);
    Path config = dir.resolve("polycall.yaml");
    Files.writeString(
        config,
        """
        jvm: [io.polycall.server.examples.MathFunctions, io.polycall.server.examples.StatsFunctions]
        security:
          authentication:
            jwt:
              audience: polycall
              %s
          policy: policy.yaml
        """
            .formatted(jwtKeys));
    return config;
  }

  @Test
  void aTokenIssuedWithTheConfiguredSecretCallsWhatThePolicyAllows() throws Exception {
    Path config = config("hs256_secret_file: hs256.secret");
    PolyCallCliTest.Run issued =
        PolyCallCliTest.run(
            "-c", config.toString(), "token", "issue", "--sub", "alice", "--ttl", "5m");
    assertEquals(0, issued.exitCode(), issued.err());
    String token = issued.out().strip();
    assertEquals(3, token.split("\\.").length, token);
    PolyCallCliTest.Run call =
        PolyCallCliTest.run(
            "-c", config.toString(), "call", "--token", token, "math.add", "1", "2");
    assertEquals(0, call.exitCode(), call.err());
    assertEquals("3", call.out().strip());
    PolyCallCliTest.Run denied =
        PolyCallCliTest.run(
            "-c", config.toString(), "call", "--token", token, "stats.mean", "[1, 2]");
    assertEquals(1, denied.exitCode(), denied.err());
    assertContains(denied.err(), "PERMISSION_DENIED: alice (jwt) may not call stats.mean");
    PolyCallCliTest.Run anonymous =
        PolyCallCliTest.run("-c", config.toString(), "call", "math.add", "1", "2");
    assertContains(anonymous.err(), "UNAUTHENTICATED");
  }

  @Test
  void keygenMakesAnEs256KeyWhoseTokensTheNodeVerifiesThroughItsJwks() throws Exception {
    Path config = config("jwks_file: jwks.json");
    PolyCallCliTest.Run gen =
        PolyCallCliTest.run(
            "token",
            "keygen",
            "--alg",
            "ES256",
            "--kid",
            "k1",
            "--private",
            dir.resolve("signing.jwk").toString(),
            "--jwks",
            dir.resolve("jwks.json").toString());
    assertEquals(0, gen.exitCode(), gen.err());
    assertContains(Files.readString(dir.resolve("jwks.json")), "\"k1\"");
    assertTrue(
        !Files.readString(dir.resolve("jwks.json")).contains("\"d\""),
        "no private part in the JWKS");
    PolyCallCliTest.Run issued =
        PolyCallCliTest.run(
            "-c",
            config.toString(),
            "token",
            "issue",
            "--key",
            dir.resolve("signing.jwk").toString(),
            "--sub",
            "bob",
            "--role",
            "ops");
    assertEquals(0, issued.exitCode(), issued.err());
    PolyCallCliTest.Run call =
        PolyCallCliTest.run(
            "-c", config.toString(), "call", "--token", issued.out().strip(), "math.add", "2", "2");
    assertEquals(0, call.exitCode(), call.err());
    assertEquals("4", call.out().strip());
  }

  @Test
  void issueExplainsWhatIsMissingAndHelpShowsExamples() {
    PolyCallCliTest.Run noKey =
        PolyCallCliTest.run("token", "issue", "--sub", "alice", "--aud", "polycall");
    assertEquals(ExitCodes.USAGE, noKey.exitCode());
    assertContains(noKey.err(), "no signing key: pass --secret-file FILE");
    PolyCallCliTest.Run badTtl =
        PolyCallCliTest.run("token", "issue", "--sub", "a", "--aud", "b", "--ttl", "soon");
    assertContains(badTtl.err(), "--ttl soon is not a duration");
    PolyCallCliTest.Run help = PolyCallCliTest.run("token", "issue", "--help");
    assertEquals(0, help.exitCode());
    assertContains(help.out(), "polycall token issue --secret-file hs256.secret --sub alice");
  }
}
