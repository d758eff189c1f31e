package io.polycall.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthorizationInterceptorTest {
  static final String ALLOW_MATH =
      """
      roles:
        calc: {functions: ["math.*"], bridges: [jvm]}
      subjects:
        alice: [calc]
      """;
  static final String ALLOW_MATH_AND_ADMIN =
      ALLOW_MATH
          + """
            bob: [calc]
          """;

  @TempDir Path dir;
  Path policyFile;
  AuthorizationInterceptor authz;
  Nodes.Records records;
  PolyCall pc;

  static final CallOptions ALICE =
      CallOptions.DEFAULT.withIdentity(Identity.of("alice", Identity.JWT));
  static final CallOptions BOB = CallOptions.DEFAULT.withIdentity(Identity.of("bob", Identity.JWT));

  @BeforeEach
  void start() throws Exception {
    policyFile = dir.resolve("policy.yaml");
    Files.writeString(policyFile, ALLOW_MATH);
    authz = AuthorizationInterceptor.watching(policyFile, Duration.ofHours(1));
    records = new Nodes.Records();
    pc = PolyCall.builder().withInterceptor(records).withInterceptor(authz).build();
    Nodes.whoami(pc, "math.whoami", "jvm");
    Nodes.whoami(pc, "admin.whoami", "jvm");
  }

  @AfterEach
  void stop() {
    pc.close();
  }

  void rewrite(String text) throws Exception {
    FileTime before = Files.getLastModifiedTime(policyFile);
    Files.writeString(policyFile, text);
    Files.setLastModifiedTime(policyFile, FileTime.from(before.toInstant().plusSeconds(1)));
  }

  static Status.Code code(Runnable r) {
    return assertThrows(StatusException.class, r::run).status().code();
  }

  @Test
  void an_allowed_call_goes_through_and_is_recorded_with_its_rule() {
    assertEquals("alice", pc.call("math.whoami", List.of(), ALICE).toJava());
    assertEquals("authz:allow", records.last().decision());
    assertTrue(records.last().reason().contains("role calc"), records.last().reason());
  }

  @Test
  void anonymous_is_unauthenticated_and_a_known_subject_without_a_rule_is_permission_denied() {
    StatusException anon =
        assertThrows(
            StatusException.class, () -> pc.call("math.whoami", List.of(), CallOptions.DEFAULT));
    assertEquals(Status.Code.UNAUTHENTICATED, anon.status().code());
    assertEquals("authz:deny", records.last().decision());
    StatusException denied =
        assertThrows(StatusException.class, () -> pc.call("admin.whoami", List.of(), ALICE));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.status().code());
    assertTrue(
        denied.status().description().startsWith("alice (jwt) may not call admin.whoami [jvm]"),
        denied.status().description());
    assertEquals("authz:deny", records.last().decision());
    assertEquals("alice", pc.call("math.whoami", List.of(), ALICE).toJava());
  }

  @Test
  void a_changed_policy_file_takes_effect_without_a_restart() throws Exception {
    assertEquals(Status.Code.PERMISSION_DENIED, code(() -> pc.call("math.whoami", List.of(), BOB)));
    rewrite(ALLOW_MATH_AND_ADMIN);
    assertTrue(authz.reloadIfChanged());
    assertEquals("bob", pc.call("math.whoami", List.of(), BOB).toJava());
  }

  @Test
  void a_policy_with_a_syntax_error_keeps_the_old_one_in_force_and_says_where() throws Exception {
    rewrite("roles:\n  calc: {functions: [\"**\"]\nsubjects: {bob: [calc]}\n");
    assertEquals(false, authz.reloadIfChanged());
    assertTrue(authz.lastReloadError().startsWith(policyFile + ":3:"), authz.lastReloadError());
    assertEquals(Status.Code.PERMISSION_DENIED, code(() -> pc.call("math.whoami", List.of(), BOB)));
    assertEquals("alice", pc.call("math.whoami", List.of(), ALICE).toJava());
    // Fixing the file brings the new policy in.
    rewrite(ALLOW_MATH_AND_ADMIN);
    assertTrue(authz.reloadIfChanged());
    assertEquals("", authz.lastReloadError());
    assertEquals("bob", pc.call("math.whoami", List.of(), BOB).toJava());
  }

  @Test
  void a_policy_file_that_disappears_keeps_the_old_policy() throws Exception {
    Files.delete(policyFile);
    assertEquals(false, authz.reloadIfChanged());
    assertEquals("alice", pc.call("math.whoami", List.of(), ALICE).toJava());
  }

  @Test
  void reloads_under_concurrent_calls_never_let_a_denied_call_through() throws Exception {
    // alice may call math.* in every version of the file; bob never may call admin.* in any.
    // The file flips between two valid policies and a broken one while calls run.
    String a = ALLOW_MATH;
    String b = ALLOW_MATH_AND_ADMIN;
    String broken = "roles: [\n";
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong leaked = new AtomicLong();
    AtomicLong wronglyDenied = new AtomicLong();
    AtomicLong calls = new AtomicLong();
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        fs.add(
            pool.submit(
                () -> {
                  while (!stop.get()) {
                    calls.incrementAndGet();
                    try {
                      pc.call("admin.whoami", List.of(), BOB);
                      leaked.incrementAndGet();
                    } catch (StatusException e) {
                      // expected: PERMISSION_DENIED
                    }
                    try {
                      pc.call("math.whoami", List.of(), ALICE);
                    } catch (StatusException e) {
                      wronglyDenied.incrementAndGet();
                    }
                  }
                }));
      }
      String[] versions = {b, broken, a, b, a, broken};
      for (int i = 0; i < 60; i++) {
        rewrite(versions[i % versions.length]);
        authz.reloadIfChanged();
      }
      stop.set(true);
      for (Future<?> f : fs) {
        f.get();
      }
    }
    assertTrue(calls.get() > 0);
    assertEquals(0, leaked.get(), "denied calls that got through");
    assertEquals(0, wronglyDenied.get(), "allowed calls that were refused");
  }

  @Test
  void the_file_is_polled_on_the_call_path() throws Exception {
    AuthorizationInterceptor polling = AuthorizationInterceptor.watching(policyFile, Duration.ZERO);
    try (PolyCall node = PolyCall.builder().withInterceptor(polling).build()) {
      Nodes.whoami(node, "math.whoami", "jvm");
      assertEquals(
          Status.Code.PERMISSION_DENIED, code(() -> node.call("math.whoami", List.of(), BOB)));
      rewrite(ALLOW_MATH_AND_ADMIN);
      assertEquals("bob", node.call("math.whoami", List.of(), BOB).toJava());
    }
  }

  @Test
  void a_node_does_not_start_on_a_broken_policy() throws Exception {
    Files.writeString(policyFile, "roles: {a: {functions: [x]}}\nsubjects: {alice: [b]}\n");
    StatusException e =
        assertThrows(StatusException.class, () -> AuthorizationInterceptor.watching(policyFile));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.status().description().contains(":2:"), e.status().description());
    Instant.now();
  }
}
