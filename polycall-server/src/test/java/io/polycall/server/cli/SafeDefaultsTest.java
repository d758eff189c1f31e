package io.polycall.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code polycall serve} refuses a listener beyond loopback without authentication, and lets it
 * through with {@code --insecure}. The address is 192.0.2.1 (TEST-NET-1, documentation only): no
 * machine has it, so the listener never opens and nothing is exposed; with --insecure the failure
 * becomes the bind itself, which shows the safety check let the listener through.
 */
class SafeDefaultsTest {
  @TempDir Path dir;

  Path config(String extra) throws Exception {
    Path config = dir.resolve("polycall.yaml");
    Files.writeString(config, "jvm: [io.polycall.server.examples.MathFunctions]\n" + extra);
    return config;
  }

  @Test
  void aListenerBeyondLoopbackWithoutAuthenticationIsRefusedNamingTheWaysOut() throws Exception {
    PolyCallCliTest.Run r =
        PolyCallCliTest.run(
            "-c", config("").toString(), "serve", "--http", "192.0.2.1:0", "--for", "1s");
    assertEquals(ExitCodes.CONFIG, r.exitCode(), r.err());
    assertTrue(
        r.err().contains("refusing to listen on 192.0.2.1:0 (--http) without authentication"),
        r.err());
    assertTrue(r.err().contains("--insecure"), r.err());
  }

  @Test
  void aGrpcListenerBeyondLoopbackIsRefusedTheSameWay() throws Exception {
    PolyCallCliTest.Run r =
        PolyCallCliTest.run(
            "-c", config("").toString(), "serve", "--grpc", "192.0.2.1:0", "--for", "1s");
    assertEquals(ExitCodes.CONFIG, r.exitCode(), r.err());
    assertTrue(r.err().contains("refusing to listen on 192.0.2.1:0 (--grpc)"), r.err());
  }

  @Test
  void insecureLetsTheListenerThrough() throws Exception {
    PolyCallCliTest.Run r =
        PolyCallCliTest.run(
            "-c",
            config("").toString(),
            "serve",
            "--insecure",
            "--http",
            "192.0.2.1:0",
            "--for",
            "1s");
    assertFalse(r.err().contains("refusing to listen"), r.err());
  }

  @Test
  void aLoopbackListenerNeedsNoAuthentication() throws Exception {
    PolyCallCliTest.Run r =
        PolyCallCliTest.run(
            "-c", config("").toString(), "serve", "--http", "127.0.0.1:0", "--for", "200ms");
    assertEquals(0, r.exitCode(), r.err());
  }

  @Test
  void withAuthenticationConfiguredTheCheckPasses() throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(dir.resolve("policy.yaml"), "roles: {}\n");
    String security =
        """
        security:
          authentication:
            jwt: {audience: polycall, hs256_secret_file: hs256.secret}
          policy: policy.yaml
        """;
    PolyCallCliTest.Run r =
        PolyCallCliTest.run(
            "-c", config(security).toString(), "serve", "--http", "192.0.2.1:0", "--for", "1s");
    assertFalse(r.err().contains("refusing to listen"), r.err());
  }
}
