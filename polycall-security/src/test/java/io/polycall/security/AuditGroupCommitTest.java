package io.polycall.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.polycall.CallOptions;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How records reach the file: the open batch is written by the writer thread on its commit timer,
 * by a caller whose batch is full, or by a fail-closed caller waiting for its own record.
 */
class AuditGroupCommitTest {
  @TempDir Path dir;

  @Test
  void aLoneRecordReachesTheFileWithoutCloseOrAnotherCall() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      pc.call("math.add", Value.i64(1), Value.i64(2));
      // Bounded: the commit timer is about a millisecond; 20 s only guards a stalled machine.
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (Files.readAllLines(file).size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      assertThat(Files.readAllLines(file)).hasSize(2);
      assertThat(audit.written()).isEqualTo(1);
    }
  }

  /**
   * While calls trickle in, the writer stretches its commit round (up to 8 ms) rather than wake a
   * thousand times a second; every record must still reach the file on the writer's own timer, with
   * no further call and no close, and the chain must hold across the stretched rounds.
   */
  @Test
  void aSlowTrickleOfRecordsReachesTheFileWithoutCloseOrAnotherCall() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    int calls = 40;
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      for (int i = 0; i < calls; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(1));
        Thread.sleep(1);
      }
      // Bounded: the rounds are 8 ms at most; 20 s only guards a stalled machine.
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (Files.readAllLines(file).size() < 1 + calls && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      assertThat(Files.readAllLines(file)).hasSize(1 + calls);
      assertThat(audit.written()).isEqualTo(calls);
      assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
      // And a burst after the trickle: the round shrinks back, nothing is lost or reordered.
      for (int i = 0; i < 2000; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(2));
      }
    }
    assertThat(Files.readAllLines(file)).hasSize(1 + calls + 2000);
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void eachCallersRecordsAreInTheOrderOfItsCallsInOneChain() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    int threads = 4;
    int calls = 300;
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file).withQueueCapacity(64));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String name = "t" + t;
        ts.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = 0; i < calls; i++) {
                        pc.call(
                            "math.add",
                            List.of(Value.i64(i), Value.i64(1)),
                            CallOptions.DEFAULT.withMetadata("trace_id", name + "-" + i));
                      }
                    }));
      }
      for (Thread t : ts) {
        t.join();
      }
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(1 + threads * calls);
    Pattern trace = Pattern.compile("\"trace\":\"(t\\d)-(\\d+)\"");
    Map<String, Integer> next = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      Matcher m = trace.matcher(line);
      assertThat(m.find()).as(line).isTrue();
      int expected = next.getOrDefault(m.group(1), 0);
      assertThat(Integer.parseInt(m.group(2)))
          .as("%s's calls in order", m.group(1))
          .isEqualTo(expected);
      next.put(m.group(1), expected + 1);
    }
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void aFullQueueMakesTheCallerWriteSoAtMostTwoRecordsAreEverPending() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file).withQueueCapacity(1));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      for (int i = 0; i < 200; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(1));
        // One record may wait in the open batch and one be in the writer's hands; never more.
        assertThat(audit.written()).isGreaterThanOrEqualTo(i + 1 - 2L);
      }
    }
    assertThat(Files.readAllLines(file)).hasSize(201);
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void aFailClosedCallReturnsOnlyOnceItsRecordIsInTheFile() throws Exception {
    for (AuditConfig.Fsync fsync : AuditConfig.Fsync.values()) {
      Path file = dir.resolve("closed-" + fsync + ".jsonl");
      try (AuditLog audit =
              AuditLog.open(
                  AuditConfig.of(file)
                      .withFailClosed(true)
                      .withFsync(fsync, java.time.Duration.ofSeconds(1)));
          PolyCall pc = AuditLogTest.node(audit.interceptor())) {
        for (int i = 1; i <= 20; i++) {
          pc.call("math.add", Value.i64(i), Value.i64(1));
          assertThat(Files.readAllLines(file)).as("after call %d (%s)", i, fsync).hasSize(1 + i);
        }
      }
      assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
    }
  }

  /**
   * Pins the virtual-thread path: there the argument digest and the record formatter are borrowed
   * from shared slots (a virtual thread lives for one gRPC call), so two calls using one at once
   * would mix their hashes or bodies.
   */
  @Test
  void callsOnManyVirtualThreadsAtOnceEachRecordTheirOwnArgumentsHash() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    int calls = 400;
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      List<Thread> ts = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        String arg = "v" + i + "x".repeat(i % 97);
        ts.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        go.await();
                      } catch (InterruptedException e) {
                        return;
                      }
                      pc.call(
                          "text.echo",
                          List.of(Value.str(arg)),
                          CallOptions.DEFAULT.withMetadata("trace_id", arg));
                    }));
      }
      go.countDown();
      for (Thread t : ts) {
        t.join(60_000);
      }
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(1 + calls);
    Pattern trace = Pattern.compile("\"trace\":\"([^\"]+)\"");
    io.polycall.security.internal.ArgsDigest digest =
        io.polycall.security.internal.ArgsDigest.acquire();
    for (String line : lines.subList(1, lines.size())) {
      Matcher m = trace.matcher(line);
      assertThat(m.find()).as(line).isTrue();
      String expected =
          java.util.HexFormat.of().formatHex(digest.digest(List.of(Value.str(m.group(1)))));
      assertThat(line).contains("\"args_sha256\":\"" + expected + "\"");
    }
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }
}
