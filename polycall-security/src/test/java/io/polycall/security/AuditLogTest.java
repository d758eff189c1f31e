package io.polycall.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polycall.CallInterceptor;
import io.polycall.CallOptions;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongBinaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  @TempDir Path dir;

  static PolyCall node(CallInterceptor... interceptors) {
    PolyCall.Builder b = PolyCall.builder();
    for (CallInterceptor i : interceptors) {
      b.withInterceptor(i);
    }
    PolyCall pc = b.build();
    pc.jvm().register("math.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    pc.jvm().register("text.echo(s: string) -> string", (UnaryOperator<String>) s -> s);
    return pc;
  }

  static List<String> lines(Path file) throws Exception {
    return Files.readAllLines(file);
  }

  @Test
  void everyCallLeavesOneChainedRecordWithItsFacts() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      CallOptions opts =
          CallOptions.DEFAULT
              .withIdentity(Identity.of("alice", Identity.LOCAL))
              .withMetadata(
                  "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      assertThat(pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), opts))
          .isEqualTo(Value.i64(3));
      assertThatThrownBy(() -> pc.call("math.add", List.of(Value.str("x")), opts))
          .isInstanceOf(StatusException.class);
    }
    List<String> lines = lines(file);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("{\"seq\":1,").contains("\"event\":\"open\"");
    String ok = lines.get(1);
    assertThat(ok)
        .startsWith("{\"seq\":2,")
        .contains("\"subject\":\"alice\"", "\"method\":\"local\"")
        .contains("\"function\":\"math.add@1\"", "\"bridge\":\"jvm\"")
        .contains("\"status\":\"OK\"", "\"code\":0")
        .contains("\"trace\":\"4bf92f3577b34da6a3ce929d0e0e4736\"")
        .containsPattern("\"args_sha256\":\"[0-9a-f]{64}\"")
        .containsPattern("\"payload_bytes\":25,");
    assertThat(lines.get(2)).contains("\"status\":\"INVALID_ARGUMENT\"", "\"code\":3");
    AuditVerifier.Result r = AuditVerifier.verify(List.of(file));
    assertThat(r.intact()).as("%s", r.problem()).isTrue();
    assertThat(r.records()).isEqualTo(3);
  }

  /**
   * The formatter reuses the JSON of a field whose String is the very one of the record before;
   * records whose facts change from one to the next must each still name their own.
   */
  @Test
  void consecutiveRecordsWithDifferentFactsEachNameTheirOwn() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    String[] subjects = {"alice", "bob", "bob", "alice"};
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      for (int i = 0; i < 8; i++) {
        CallOptions opts =
            CallOptions.DEFAULT.withIdentity(Identity.of(subjects[i % 4], Identity.LOCAL));
        if (i % 3 == 2) {
          int k = i;
          assertThatThrownBy(() -> pc.call("math.add", List.of(Value.str("x" + k)), opts))
              .isInstanceOf(StatusException.class);
        } else if (i % 2 == 0) {
          pc.call("math.add", List.of(Value.i64(i), Value.i64(1)), opts);
        } else {
          pc.call("text.echo", List.of(Value.str("s" + i)), opts);
        }
      }
    }
    List<String> l = lines(file);
    assertThat(l).hasSize(9);
    for (int i = 0; i < 8; i++) {
      String line = l.get(i + 1);
      assertThat(line).as("record %d", i).contains("\"subject\":\"" + subjects[i % 4] + "\"");
      if (i % 3 == 2) {
        assertThat(line)
            .as("record %d", i)
            .contains("\"function\":\"math.add@1\"", "\"status\":\"INVALID_ARGUMENT\"")
            .doesNotContain("\"message\":\"\"");
      } else {
        assertThat(line)
            .as("record %d", i)
            .contains(
                "\"function\":\"" + (i % 2 == 0 ? "math.add@1" : "text.echo@1") + "\"",
                "\"status\":\"OK\"",
                "\"message\":\"\"");
      }
    }
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void equalArgumentsHashEqualAndDifferentOnesDiffer() throws Exception {
    Path file = dir.resolve("a.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      pc.call("text.echo", Value.str("same"));
      pc.call("text.echo", Value.str("same"));
      pc.call("text.echo", Value.str("other"));
    }
    List<String> l = lines(file);
    assertThat(sha(l.get(1))).isEqualTo(sha(l.get(2))).isNotEqualTo(sha(l.get(3)));
  }

  private static String sha(String line) {
    int i = line.indexOf("\"args_sha256\":\"") + 15;
    return line.substring(i, i + 64);
  }

  @Test
  void reopeningContinuesTheChainAndCutsOffAPartialLastLine() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      pc.call("math.add", Value.i64(1), Value.i64(1));
    }
    // A crash in the middle of a write leaves half a record.
    Files.writeString(file, "{\"seq\":3,\"time\":\"20", java.nio.file.StandardOpenOption.APPEND);
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      pc.call("math.add", Value.i64(2), Value.i64(2));
    }
    List<String> l = lines(file);
    assertThat(l).hasSize(4);
    assertThat(l.get(2)).startsWith("{\"seq\":3,").contains("\"recovered_bytes\":19");
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void rotationKeepsNFilesAndTheChainRunsAcrossThem() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    AuditConfig cfg = AuditConfig.of(file).withRotation(2_000, 50);
    try (AuditLog audit = AuditLog.open(cfg);
        PolyCall pc = node(audit.interceptor())) {
      for (int i = 0; i < 40; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(i));
      }
    }
    List<Path> files;
    try (var s = Files.list(dir)) {
      files = s.filter(p -> !p.getFileName().toString().endsWith(".lock")).sorted().toList();
    }
    assertThat(files.size()).isGreaterThan(3);
    for (Path f : files) {
      assertThat(Files.size(f)).isLessThanOrEqualTo(2_000);
    }
    AuditVerifier.Result r = AuditVerifier.verify(files);
    assertThat(r.intact()).as("%s", r.problem()).isTrue();
    assertThat(r.records()).isEqualTo(41);

    // keep: 2 deletes the older files; what is left still verifies (from its first record).
    Path other = dir.resolve("k").resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(other).withRotation(2_000, 2));
        PolyCall pc = node(audit.interceptor())) {
      for (int i = 0; i < 40; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(i));
      }
    }
    try (var s = Files.list(other.getParent())) {
      files = s.filter(p -> !p.getFileName().toString().endsWith(".lock")).sorted().toList();
    }
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .containsExactly("audit.jsonl", "audit.jsonl.1", "audit.jsonl.2");
    r = AuditVerifier.verify(files);
    assertThat(r.intact()).as("%s", r.problem()).isTrue();
    assertThat(r.firstSeq()).isGreaterThan(1);
  }

  @Test
  void everyFsyncPolicyWritesEveryRecord() throws Exception {
    for (AuditConfig.Fsync f : AuditConfig.Fsync.values()) {
      Path file = dir.resolve("f-" + f + ".jsonl");
      try (AuditLog audit =
              AuditLog.open(AuditConfig.of(file).withFsync(f, java.time.Duration.ofMillis(10)));
          PolyCall pc = node(audit.interceptor())) {
        for (int i = 0; i < 100; i++) {
          pc.call("math.add", Value.i64(i), Value.i64(1));
        }
      }
      assertThat(lines(file)).hasSize(101);
      assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
    }
  }

  @Test
  void concurrentCallersGetOneRecordEachInOneChain() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file).withQueueCapacity(16));
        PolyCall pc = node(audit.interceptor())) {
      Thread[] ts = new Thread[4];
      for (int t = 0; t < ts.length; t++) {
        ts[t] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = 0; i < 500; i++) {
                        pc.call("math.add", Value.i64(i), Value.i64(1));
                      }
                    });
      }
      for (Thread t : ts) {
        t.join();
      }
      audit.close();
      assertThat(audit.written()).isEqualTo(2000);
    }
    assertThat(lines(file)).hasSize(2001);
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void failClosedRefusesCallsWhileTheLogCannotBeWrittenAndRecoversAfter() throws Exception {
    Path logDir = dir.resolve("logs");
    Files.createDirectories(logDir);
    Path file = logDir.resolve("audit.jsonl");
    int[] ran = {0};
    try (AuditLog audit =
            AuditLog.open(AuditConfig.of(file).withFailClosed(true).withRotation(600, 1));
        PolyCall pc = node(audit.interceptor())) {
      pc.jvm().register("count.up() -> i64", (java.util.function.LongSupplier) () -> ++ran[0]);
      pc.call("count.up");
      breakLog(logDir, file);
      StatusException first = null;
      for (int i = 0; i < 10 && first == null; i++) {
        try {
          pc.call("count.up");
        } catch (StatusException e) {
          first = e;
        }
      }
      assertThat(first).isNotNull();
      assertThat(first.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(first.status().description()).startsWith("audit log unavailable: ");
      int before = ran[0];
      StatusException refused =
          (StatusException)
              org.assertj.core.api.Assertions.catchThrowable(() -> pc.call("count.up"));
      assertThat(refused.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(refused.status().description()).contains("the call was not run");
      assertThat(ran[0]).as("a refused call does not run").isEqualTo(before);
      assertThat(audit.failure()).isNotNull();
      assertThat(audit.dropped()).isPositive();

      repairLog(logDir, file);
      Value v = null;
      for (int i = 0; i < 3 && v == null; i++) {
        try {
          v = pc.call("count.up");
        } catch (StatusException e) {
          // the refused call's record may still be the one that found the log broken
        }
      }
      assertThat(v).isNotNull();
      assertThat(audit.failure()).isNull();
    }
    List<Path> files;
    try (var s = Files.list(logDir)) {
      files =
          s.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().endsWith(".lock"))
              .toList();
    }
    AuditVerifier.Result r = AuditVerifier.verify(files);
    assertThat(r.intact()).as("%s", r.problem()).isTrue();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Makes the next rotation fail, for root as well as for other users: with {@code keep: 1} the
   * writer must delete {@code file.1}, which cannot be done to a directory that is not empty.
   */
  static void breakLog(Path logDir, Path file) throws Exception {
    Path blocker = file.resolveSibling(file.getFileName() + ".1");
    Files.deleteIfExists(blocker);
    Files.createDirectories(blocker.resolve("not-empty"));
  }

  static void repairLog(Path logDir, Path file) throws Exception {
    Path blocker = file.resolveSibling(file.getFileName() + ".1");
    Files.delete(blocker.resolve("not-empty"));
    Files.delete(blocker);
  }

  @Test
  void aSecondWriterOnOneFileIsRefusedUntilTheFirstCloses() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog first = AuditLog.open(AuditConfig.of(file))) {
      assertThatThrownBy(() -> AuditLog.open(AuditConfig.of(file)))
          .isInstanceOfSatisfying(
              StatusException.class,
              e -> {
                assertThat(e.status().code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.status().description()).contains("one log file has one writer");
              });
    }
    try (AuditLog again = AuditLog.open(AuditConfig.of(file))) {
      assertThat(again.failure()).isNull();
    }
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void aLogOnAFullDiskOrInAFileRefusesToOpen() throws Exception {
    Path full = dir.resolve("full.jsonl");
    Files.createSymbolicLink(full, Path.of("/dev/full"));
    assertThatThrownBy(() -> AuditLog.open(AuditConfig.of(full)))
        .isInstanceOfSatisfying(
            StatusException.class,
            e -> {
              assertThat(e.status().code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.status().description()).contains("No space left on device");
            });
    Path notADir = dir.resolve("plain");
    Files.writeString(notADir, "x");
    assertThatThrownBy(() -> AuditLog.open(AuditConfig.of(notADir.resolve("audit.jsonl"))))
        .isInstanceOfSatisfying(
            StatusException.class,
            e -> assertThat(e.status().code()).isEqualTo(Status.Code.FAILED_PRECONDITION));
  }

  @Test
  void failOpenGoesOnAndCountsLostRecords() throws Exception {
    Path logDir = dir.resolve("logs");
    Files.createDirectories(logDir);
    Path file = logDir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file).withRotation(600, 1));
        PolyCall pc = node(audit.interceptor())) {
      pc.call("math.add", Value.i64(1), Value.i64(1));
      while (audit.written() < 1) {
        Thread.sleep(1);
      }
      breakLog(logDir, file);
      for (int i = 0; i < 20; i++) {
        assertThat(pc.call("math.add", Value.i64(i), Value.i64(1))).isEqualTo(Value.i64(i + 1));
      }
      // Each call waits for nothing; wait until the writer has dealt with every record, so that
      // the gap record is the next one written (and not rotated out by later ones).
      while (audit.written() + audit.dropped() < 21) {
        Thread.sleep(5);
      }
      assertThat(audit.failure()).isNotNull();
      repairLog(logDir, file);
      pc.call("math.add", Value.i64(1), Value.i64(1));
      audit.close();
      assertThat(audit.failure()).isNull();
      assertThat(audit.dropped()).isPositive();
    }
    List<Path> files = List.of(file, file.resolveSibling("audit.jsonl.1"));
    String all = String.join("\n", files.stream().map(AuditLogTest::read).toList());
    assertThat(all).containsPattern("\"event\":\"gap\",\"lost\":[1-9]");
    assertThat(AuditVerifier.verify(files).intact()).isTrue();
  }

  @Test
  void nonAsciiNamesAreWrittenAsUtf8WithJsonsEscapes() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    String subject = "\u00e9\u4e2d\ud83d\ude00 lone\ud800 del\u007f ctl\u0001 q\" b\\";
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      CallOptions opts =
          CallOptions.DEFAULT.withIdentity(new Identity(subject, Identity.JWT, Map.of()));
      pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), opts);
    }
    String expected =
        io.polycall.security.internal.Json.string(new StringBuilder(), subject).toString();
    List<String> l = lines(file);
    assertThat(l.get(1)).contains("\"subject\":" + expected + ",");
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void recordsStayOneLineWhateverTheCallerPutInNames() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = node(audit.interceptor())) {
      CallOptions opts =
          CallOptions.DEFAULT
              .withIdentity(new Identity("eve\n{\"seq\":99}\u2028\"", Identity.JWT, Map.of()))
              .withMetadata("trace_id", "t\r\n1");
      pc.call("math.add", List.of(Value.i64(1), Value.i64(2)), opts);
    }
    List<String> l = lines(file);
    assertThat(l).hasSize(2);
    assertThat(l.get(1)).contains("eve\\n{\\\"seq\\\":99}\\u2028\\\"");
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }
}
