package io.polycall.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.polycall.CallOptions;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.RateLimits.Rate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RateLimitInterceptorTest {
  @TempDir Path dir;
  final AtomicLong clock = new AtomicLong(1_000_000_000L);

  /** Patterns match in config order: a map that keeps it. */
  static Map<String, Rate> ordered(String k1, Rate v1, String k2, Rate v2) {
    Map<String, Rate> m = new java.util.LinkedHashMap<>();
    m.put(k1, v1);
    m.put(k2, v2);
    return m;
  }

  static CallOptions as(String subject) {
    return CallOptions.DEFAULT.withIdentity(Identity.of(subject, Identity.JWT));
  }

  /** Calls {@code n} times as {@code subject}; returns how many were accepted. */
  static int flood(PolyCall pc, String subject, String fn, int n, List<StatusException> refused) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
      try {
        pc.call(fn, List.of(Value.i64(i), Value.i64(1)), as(subject));
        ok++;
      } catch (StatusException e) {
        refused.add(e);
      }
    }
    return ok;
  }

  @Test
  void aFloodPastTheSubjectsBucketIsRefusedWithARetryHintAndOthersAreUnaffected() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    RateLimits limits =
        new RateLimits(ordered("mallory", new Rate(10, 20), "*", new Rate(100, 100)), Map.of());
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc =
            AuditLogTest.node(audit.interceptor(), new RateLimitInterceptor(limits, clock::get))) {
      List<StatusException> refused = new java.util.ArrayList<>();
      assertThat(flood(pc, "mallory", "math.add", 1000, refused)).isEqualTo(20);
      assertThat(refused).hasSize(980);
      Status s = refused.getFirst().status();
      assertThat(s.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(s.description())
          .startsWith("rate limit of subject 'mallory' exceeded (10/s, burst 20)")
          .contains("retry_after_ms=100");
      assertThat(RateLimitInterceptor.retryAfterMillis(s)).hasValue(100);

      // Alice has her own bucket: mallory's flood takes nothing from it.
      assertThat(flood(pc, "alice", "math.add", 100, new java.util.ArrayList<>())).isEqualTo(100);
      assertThat(flood(pc, "bob", "math.add", 150, new java.util.ArrayList<>())).isEqualTo(100);

      // A quarter second later mallory may make 2.5 calls: 2.
      clock.addAndGet(250_000_000L);
      assertThat(flood(pc, "mallory", "math.add", 10, new java.util.ArrayList<>())).isEqualTo(2);
      // After a long quiet spell the bucket holds its burst again, no more.
      clock.addAndGet(3_600_000_000_000L);
      assertThat(flood(pc, "mallory", "math.add", 50, new java.util.ArrayList<>())).isEqualTo(20);
    }
    List<String> lines = Files.readAllLines(file);
    long denied = lines.stream().filter(l -> l.contains("\"decision\":\"rate:deny\"")).count();
    assertThat(denied).isEqualTo(980 + 50 + 8 + 30);
    assertThat(AuditVerifier.verify(List.of(file)).intact()).isTrue();
  }

  @Test
  void aFunctionGlobMeansWhatItMeansInThePolicyOneStarStopsAtADot() {
    // "math.*" covers math.add but not math.vec.add (as in the policy and the registry);
    // "math.**" covers both. A rate limit that silently covered more than the policy's pattern
    // of the same text would be a surprise in either direction.
    for (String glob : List.of("math.*", "math.**")) {
      RateLimits limits = new RateLimits(Map.of(), Map.of(glob, new Rate(1, 1)));
      try (PolyCall pc = AuditLogTest.node(new RateLimitInterceptor(limits, clock::get))) {
        pc.jvm()
            .register(
                "math.vec.add(a: i64, b: i64) -> i64",
                (java.util.function.LongBinaryOperator) Long::sum);
        List<StatusException> refused = new java.util.ArrayList<>();
        assertThat(flood(pc, "alice", "math.add", 3, refused)).as(glob).isEqualTo(1);
        int nested = flood(pc, "alice", "math.vec.add", 3, refused);
        assertThat(nested).as(glob).isEqualTo(glob.equals("math.*") ? 3 : 1);
      }
    }
  }

  @Test
  void aFunctionsBucketIsSharedByItsCallersAndARefusalTakesNoSubjectToken() {
    RateLimits limits =
        new RateLimits(Map.of("*", new Rate(1000, 5)), Map.of("math.*", new Rate(1, 3)));
    try (PolyCall pc = AuditLogTest.node(new RateLimitInterceptor(limits, clock::get))) {
      List<StatusException> refused = new java.util.ArrayList<>();
      assertThat(flood(pc, "alice", "math.add", 2, refused)).isEqualTo(2);
      assertThat(flood(pc, "bob", "math.add", 5, refused)).isEqualTo(1);
      assertThat(refused.getFirst().status().description())
          .startsWith("rate limit of function math.add@1 exceeded (1/s, burst 3)")
          .contains("retry_after_ms=1000");
      // text.echo has no function limit; alice still has 3 of her 5 subject tokens.
      int ok = 0;
      for (int i = 0; i < 10; i++) {
        try {
          pc.call("text.echo", List.of(Value.str("hi")), as("alice"));
          ok++;
        } catch (StatusException e) {
          assertThat(e.status().description()).contains("subject 'alice'");
        }
      }
      assertThat(ok).isEqualTo(3);
    }
  }

  @Test
  void bucketsOfManySubjectsStayBoundedWithoutChangingADecision() {
    RateLimits limits = new RateLimits(Map.of("*", new Rate(10, 2)), Map.of());
    RateLimitInterceptor rate = new RateLimitInterceptor(limits, clock::get, 100);
    try (PolyCall pc = AuditLogTest.node(rate)) {
      // 1000 subjects call once each, 100 ms apart: a bucket is full again 100 ms after its one
      // call, so the sweeps drop the old ones.
      for (int i = 0; i < 1000; i++) {
        assertThat(flood(pc, "s" + i, "math.add", 1, new java.util.ArrayList<>())).isEqualTo(1);
        clock.addAndGet(100_000_000L);
      }
      assertThat(rate.bucketCount()).isLessThanOrEqualTo(101);
      // A bucket that is not full is kept through the sweeps: mallory stays refused.
      assertThat(flood(pc, "mallory", "math.add", 5, new java.util.ArrayList<>())).isEqualTo(2);
      for (int i = 0; i < 150; i++) {
        assertThat(flood(pc, "t" + i, "math.add", 1, new java.util.ArrayList<>())).isEqualTo(1);
      }
      assertThat(flood(pc, "mallory", "math.add", 1, new java.util.ArrayList<>())).isZero();
    }
  }

  @Test
  void aQuotaIsABucketWithALongPeriod() {
    RateLimits limits =
        new RateLimits(Map.of("batch-*", new Rate(1000.0 / 86_400, 1000)), Map.of());
    try (PolyCall pc = AuditLogTest.node(new RateLimitInterceptor(limits, clock::get))) {
      assertThat(flood(pc, "batch-1", "math.add", 1500, new java.util.ArrayList<>()))
          .isEqualTo(1000);
      clock.addAndGet(86_400L * 1_000_000_000L / 2);
      assertThat(flood(pc, "batch-1", "math.add", 1500, new java.util.ArrayList<>()))
          .isEqualTo(500);
      // Subjects that no pattern names are not limited.
      assertThat(flood(pc, "alice", "math.add", 1500, new java.util.ArrayList<>())).isEqualTo(1500);
    }
  }
}
