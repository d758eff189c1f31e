package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.AuditConfig;
import io.polycall.security.AuditVerifier;
import io.polycall.security.InputLimits;
import io.polycall.security.RateLimits;
import io.polycall.server.PolyCallConfig.Safeguards;
import io.polycall.server.PolyCallConfig.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The audit, limits, rate_limits, sandbox and native keys of {@code security:}. */
class SafeguardsConfigTest extends ConfigTestSupport {
  static final String MATH = "jvm: [io.polycall.server.examples.MathFunctions]\n";

  @Test
  void everySafeguardKeyIsRead() {
    PolyCallConfig c =
        parse(
            """
            security:
              audit:
                file: logs/audit.jsonl
                fsync: 200ms
                rotate_bytes: 10MiB
                keep: 3
                fail_closed: true
              limits:
                payload_bytes: 1MiB
                depth: 8
                collection_length: 1000
                string_bytes: 64KiB
                ndarray_elements: 100000
                functions:
                  "ml.*": {payload_bytes: 256MiB, ndarray_elements: 0}
              rate_limits:
                subjects:
                  mallory: {rate: 1/s, burst: 2}
                  "*": 100/s
                functions:
                  "ml.train": {rate: 10000/d}
              sandbox: {memory: 2GiB, cpu_seconds: 600, open_files: 256}
              native: {allow: [m, "libpolycall*.so"]}
            workers:
              - {name: a, language: python, modules: [x]}
              - {name: b, language: python, modules: [x], sandbox: {memory: 1GiB}}
            """);
    Safeguards s = c.safeguards();
    AuditConfig a = s.audit();
    assertEquals(dir.resolve("logs/audit.jsonl"), a.file());
    assertEquals(AuditConfig.Fsync.INTERVAL, a.fsync());
    assertEquals(Duration.ofMillis(200), a.fsyncInterval());
    assertEquals(10L << 20, a.rotateBytes());
    assertEquals(3, a.keep());
    assertTrue(a.failClosed());
    assertEquals(new InputLimits(1 << 20, 8, 1000, 64 << 10, 100_000), s.limits());
    assertEquals(new InputLimits(256L << 20, 8, 1000, 64 << 10, 0), s.functionLimits().get("ml.*"));
    RateLimits r = s.rateLimits();
    assertEquals(List.of("mallory", "*"), List.copyOf(r.subjects().keySet()));
    assertEquals(new RateLimits.Rate(1, 2), r.subjects().get("mallory"));
    assertEquals(new RateLimits.Rate(100, 100), r.subjects().get("*"));
    assertEquals(10000, r.functions().get("ml.train").burst());
    assertEquals(new Sandbox(2L << 30, 600, 256), s.sandbox());
    assertEquals(List.of("m", "libpolycall*.so"), s.nativeAllow());
    assertEquals(new Sandbox(2L << 30, 600, 256), c.workers().get(0).sandbox());
    assertEquals(new Sandbox(1L << 30, 600, 256), c.workers().get(1).sandbox());
  }

  @Test
  void withSecurityTheDefaultsAreOnAndWithoutItNothingChanges() {
    PolyCallConfig c =
        parse("security: {}\nworkers:\n  - {name: a, language: python, modules: [x]}\n");
    assertEquals(InputLimits.DEFAULTS, c.safeguards().limits());
    assertNull(c.safeguards().audit());
    assertNull(c.safeguards().rateLimits());
    assertEquals(Sandbox.DEFAULTS, c.workers().get(0).sandbox());
    assertEquals(List.of(), c.safeguards().nativeAllow());
    PolyCallConfig plain = parse("workers:\n  - {name: a, language: python, modules: [x]}\n");
    assertNull(plain.safeguards());
    assertEquals(Sandbox.NONE, plain.workers().get(0).sandbox());
  }

  @Test
  void badValuesSayWhatToWrite() {
    assertMessage(
        parseFails("security:\n  audit: {file: a.jsonl, fsync: sometimes}\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2 security.audit.fsync",
        "every_record");
    assertMessage(
        parseFails("security:\n  audit: {fsync: never}\n"),
        Status.Code.INVALID_ARGUMENT,
        "needs key 'file'");
    assertMessage(
        parseFails("security:\n  rate_limits:\n    subjects: {alice: fast}\n"),
        Status.Code.INVALID_ARGUMENT,
        "security.rate_limits.subjects.alice",
        "10/s, 600/m");
    assertMessage(
        parseFails("security:\n  limits: {depht: 3}\n"),
        Status.Code.INVALID_ARGUMENT,
        "security.limits.depht",
        "did you mean 'depth'");
    assertMessage(
        parseFails("security:\n  sandbox: {memory: lots}\n"),
        Status.Code.INVALID_ARGUMENT,
        "security.sandbox.memory",
        "8GiB");
  }

  @Test
  void aSecuredNodeAuditsEveryCallAndRefusesOversizedAndFloodingOnesAndKeepsServing()
      throws Exception {
    Path log = dir.resolve("audit.jsonl");
    PolyCallConfig c =
        parse(
            MATH
                + """
                security:
                  audit: {file: audit.jsonl, fsync: every_record}
                  limits:
                    string_bytes: 16
                  rate_limits:
                    functions:
                      "math.mul": {rate: 1/h, burst: 5}
                """);
    try (PolyCall pc = Node.start(c)) {
      assertEquals(Value.i64(3), pc.call("math.add", Value.i64(1), Value.i64(2)));
      int accepted = 0;
      int refused = 0;
      for (int i = 0; i < 50; i++) {
        try {
          pc.call("math.mul", Value.f64(i), Value.f64(1));
          accepted++;
        } catch (StatusException e) {
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.status().code());
          assertTrue(e.getMessage().contains("retry_after_ms="), e.getMessage());
          refused++;
        }
      }
      assertEquals(5, accepted);
      assertEquals(45, refused);
      // The flood of math.mul takes nothing from math.add.
      assertEquals(Value.i64(5), pc.call("math.add", Value.i64(2), Value.i64(3)));
    }
    List<String> lines = Files.readAllLines(log);
    assertEquals(1 + 1 + 50 + 1, lines.size());
    assertEquals(45, lines.stream().filter(l -> l.contains("\"decision\":\"rate:deny\"")).count());
    AuditVerifier.Result r = AuditVerifier.verify(List.of(log));
    assertTrue(r.intact(), String.valueOf(r.problem()));
  }

  @Test
  void withSecurityANativeLibraryLoadsOnlyWhenAllowed() {
    String lib = "native:\n  - library: m\n    functions: [\"math.cos(x: f64) -> f64 [pure]\"]\n";
    assertMessage(
        startFails(lib + "security: {}\n"),
        Status.Code.PERMISSION_DENIED,
        "test.yaml:2 native[0]",
        "native library m is not allowed by security.native.allow []");
    try (PolyCall pc = Node.start(parse(lib + "security:\n  native: {allow: [m]}\n"))) {
      assertEquals(Value.f64(1.0), pc.call("math.cos", Value.f64(0)));
    }
    try (PolyCall pc = Node.start(parse(lib))) {
      assertEquals(Value.f64(1.0), pc.call("math.cos", Value.f64(0)));
    }
  }

  @Test
  void aLogThatCannotBeOpenedStopsTheNodeFromStarting() throws Exception {
    Files.writeString(dir.resolve("plain"), "x");
    assertMessage(
        startFails(MATH + "security:\n  audit: {file: plain/audit.jsonl}\n"),
        Status.Code.FAILED_PRECONDITION,
        "security.audit",
        "cannot open the audit log");
  }

  @Test
  void nativeAllowMatchesNamesFileNamesAndPathsByGlob() {
    assertTrue(Node.nativeAllowed(List.of("m"), "m"));
    assertTrue(Node.nativeAllowed(List.of("libpolycall*.so"), "/x/y/libpolycalltest.so"));
    assertTrue(Node.nativeAllowed(List.of("/x/*"), "/x/y/libz.so"));
    assertTrue(!Node.nativeAllowed(List.of("libz*"), "/x/y/libpolycalltest.so"));
    assertTrue(!Node.nativeAllowed(List.of(), "m"));
  }
}
