package io.polycall.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code polycall policy check|explain}, run in-process as a user types them. */
class PolicyCommandTest {
  @TempDir Path dir;

  static void assertContains(String text, String part) {
    assertTrue(text.contains(part), () -> "expected '" + part + "' in:\n" + text);
  }

  Path policy(String text) throws Exception {
    Path p = dir.resolve("policy.yaml");
    Files.writeString(p, text);
    return p;
  }

  static final String POLICY =
      """
      roles:
        calc: {functions: ["math.*"], bridges: [jvm]}
        analyst: {functions: ["stats.**"], bridges: [jvm, python]}
        trainer: {functions: ["ml.*"], bridges: [python], permissions: [gpu]}
      subjects:
        alice: [calc]
        "role:analyst": [analyst]
        "worker:py": [calc]
      """;

  @Test
  void checkPrintsTheRolesOrTheFirstMistakeWithLineAndColumn() throws Exception {
    PolyCallCliTest.Run ok = PolyCallCliTest.run("policy", "check", policy(POLICY).toString());
    assertEquals(0, ok.exitCode(), ok.err());
    assertContains(ok.out(), "ok, roles [analyst, calc, trainer]");
    PolyCallCliTest.Run bad =
        PolyCallCliTest.run("policy", "check", policy("roles:\n  a: {functions: [x]\n").toString());
    assertEquals(ExitCodes.CONFIG, bad.exitCode());
    assertContains(bad.err(), "policy.yaml:3:1: is not valid YAML");
  }

  @Test
  void explainSaysAllowWithTheRoleOrDenyWithWhatWouldAllowIt() throws Exception {
    Path p = policy(POLICY);
    PolyCallCliTest.Run allow =
        PolyCallCliTest.run(
            "policy",
            "explain",
            p.toString(),
            "--subject",
            "bob",
            "--role",
            "analyst",
            "--function",
            "stats.mean");
    assertEquals(0, allow.exitCode(), allow.err());
    assertContains(allow.out(), "ALLOW: role analyst");
    PolyCallCliTest.Run deny =
        PolyCallCliTest.run(
            "policy",
            "explain",
            p.toString(),
            "--subject",
            "worker:py",
            "--function",
            "ml.train",
            "--bridge",
            "python",
            "--tag",
            "gpu");
    assertEquals(ExitCodes.CALL_FAILED, deny.exitCode());
    assertContains(deny.out(), "roles of worker:py (worker): [calc]");
    assertContains(deny.out(), "permissions needed: {gpu=tag gpu}");
    assertContains(deny.out(), "DENY: worker:py (worker) may not call ml.train [python]");
  }
}
