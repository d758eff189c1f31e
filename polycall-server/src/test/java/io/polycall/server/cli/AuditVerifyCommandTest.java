package io.polycall.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.AuditConfig;
import io.polycall.security.AuditLog;
import io.polycall.server.cli.PolyCallCliTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code polycall audit verify}: exit codes and the first bad record, for each kind of tampering.
 */
class AuditVerifyCommandTest {
  @TempDir Path dir;
  Path log;

  @BeforeEach
  void writeLog() {
    log = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(log).withRotation(1_500, 10));
        PolyCall pc = PolyCall.builder().withInterceptor(audit.interceptor()).build()) {
      pc.jvm().register("math.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
      for (int i = 0; i < 12; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(1));
      }
    }
  }

  String[] allFiles() throws Exception {
    List<String> args = new ArrayList<>(List.of("audit", "verify"));
    try (var s = Files.list(dir)) {
      s.filter(p -> !p.getFileName().toString().endsWith(".lock"))
          .sorted()
          .forEach(p -> args.add(p.toString()));
    }
    return args.toArray(String[]::new);
  }

  @Test
  void anUntouchedLogExitsZeroAndPrintsItsHead() throws Exception {
    Run r = PolyCallCliTest.run(allFiles());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().startsWith("intact: 13 records, seq 1..13 in "), r.out());
    assertTrue(r.out().contains("head: "), r.out());
    String head = r.out().substring(r.out().indexOf("head: ") + 6).strip();
    List<String> args = new ArrayList<>(List.of(allFiles()));
    args.add(2, "--expect-head");
    args.add(3, head);
    assertEquals(0, PolyCallCliTest.run(args.toArray(String[]::new)).exitCode());
    args.set(3, "0".repeat(64));
    Run bad = PolyCallCliTest.run(args.toArray(String[]::new));
    assertEquals(1, bad.exitCode());
    assertTrue(bad.err().contains("no record has the expected head hash"), bad.err());
  }

  @Test
  void anEditedLineExitsNonZeroNamingFileLineAndSeq() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(log));
    lines.set(0, lines.get(0).replace("\"code\":0", "\"code\":5"));
    Files.writeString(log, String.join("\n", lines) + "\n");
    Run r = PolyCallCliTest.run(allFiles());
    assertEquals(1, r.exitCode());
    assertTrue(r.err().startsWith("TAMPERED: " + log + ":1 (seq "), r.err());
    assertTrue(r.err().contains(": edited: "), r.err());
  }

  @Test
  void swappedLinesExitNonZeroAsReordered() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(log));
    Collections.swap(lines, 0, 1);
    Files.writeString(log, String.join("\n", lines) + "\n");
    Run r = PolyCallCliTest.run(allFiles());
    assertEquals(1, r.exitCode());
    assertTrue(r.err().contains(": reordered: "), r.err());
  }

  @Test
  void aMissingRotatedFileExitsNonZero() throws Exception {
    Files.delete(dir.resolve("audit.jsonl.2"));
    Run r = PolyCallCliTest.run(allFiles());
    assertEquals(1, r.exitCode());
    assertTrue(r.err().contains(": deleted: "), r.err());
    assertTrue(r.err().contains("a rotated file is missing"), r.err());
  }

  @Test
  void aFileThatDoesNotExistIsAUsageError() {
    Run r = PolyCallCliTest.run("audit", "verify", dir.resolve("nope.jsonl").toString());
    assertEquals(2, r.exitCode());
    assertTrue(r.err().contains("is not a readable file"), r.err());
  }

  @Test
  void helpShowsExamples() {
    Run r = PolyCallCliTest.run("audit", "verify", "--help");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().contains("polycall audit verify /var/log/polycall/audit.jsonl"), r.out());
    assertTrue(r.out().contains("Exit codes: 0 intact, 1 tampered"), r.out());
  }
}
