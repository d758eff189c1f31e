package io.polycall.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.worker.WorkerSpec;
import io.polycall.worker.WorkerSupervisor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Python worker processes and a real socket client against a node with authentication and
 * authorization: nobody reached through a transport gets rights it was not given.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkerEscalationTest {
  static final String POLICY =
      """
      roles:
        reader:                          # alice: the vault, and the relay worker's functions
          functions: ["vault.*", "relay.*", "math.*"]
          bridges: [jvm, python]
        relay-worker:                    # the worker's own nested calls: arithmetic only
          functions: ["math.*"]
        admin: {functions: ["**"], bridges: ["*"], permissions: ["*"]}
      subjects:
        alice: [reader]
        "worker:py": [relay-worker]
        "local:app": [admin]
      """;

  @TempDir static Path dir;
  PolyCall pc;
  WorkerSupervisor workers;
  AuthenticationInterceptor authn;
  Nodes.Records records;
  String aliceToken;

  static Path python() {
    Path p = Path.of(System.getProperty("polycall.python", "sdks/python/.venv/bin/python"));
    assumeTrue(Files.isExecutable(p), "no Python SDK environment at " + p + "; run `make tools`");
    return p;
  }

  @BeforeAll
  void start() throws Exception {
    Path secret = dir.resolve("hs256.secret");
    TestKeys.writeSecret(secret);
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    authn = AuthenticationInterceptor.jwt(JwtSettings.ofHs256(TestKeys.AUDIENCE, secret));
    records = new Nodes.Records();
    pc =
        PolyCall.builder()
            .withInterceptor(records)
            .withInterceptor(authn)
            .withInterceptor(AuthorizationInterceptor.watching(policy))
            .build();
    pc.jvm()
        .register("vault.secret() -> string", (java.util.function.Supplier<String>) () -> "s3cr3t");
    pc.jvm().register("math.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(
        WorkerSpec.python("py", python(), List.of("authz_relay"))
            .withEnvironment(
                Map.of("PYTHONPATH", Path.of("src/test/python").toAbsolutePath().toString()))
            .withStartTimeout(Duration.ofSeconds(30)));
    assertTrue(workers.awaitReady(Duration.ofSeconds(30)), "the Python worker did not start");
    aliceToken = TestKeys.signHs256(TestKeys.SECRET, null, TestKeys.claims("alice").build());
  }

  @AfterAll
  void stop() {
    if (pc != null) {
      pc.close();
    }
  }

  CallOptions alice() {
    return CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + aliceToken);
  }

  @Test
  void a_nested_call_runs_with_the_workers_identity_and_cannot_reach_what_only_its_caller_may() {
    assertEquals("s3cr3t", pc.call("vault.secret", List.of(), alice()).toJava());
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("relay.read_vault", List.of(), alice()));
    assertEquals(Status.Code.PERMISSION_DENIED, e.status().code(), e.status().toString());
    assertTrue(
        e.status().description().contains("worker:py (worker) may not call vault.secret [jvm]"),
        e.status().description());
    assertTrue(
        records.all.stream()
            .anyMatch(
                r ->
                    r.identity().subject().equals("worker:py")
                        && r.decision().equals("authz:deny")),
        "the refused nested call left a record");
    // What the worker itself may do still works, and the node keeps serving.
    assertEquals(
        5L, pc.call("relay.add_via_worker", List.of(Value.i64(2), Value.i64(3)), alice()).toJava());
  }

  @Test
  void a_socket_client_never_gets_the_local_identitys_rights() throws Exception {
    LocalCaller app = authn.localCaller(pc, "app");
    assertEquals("s3cr3t", app.call("vault.secret").toJava());
    String script =
        """
        import sys, polycall
        with polycall.connect(sys.argv[1]) as c:
            try:
                c.call("vault.secret")
                print("LEAKED")
            except polycall.PolyCallError as e:
                print(e.code.name)
        """;
    Process p =
        new ProcessBuilder(python().toString(), "-c", script, workers.socketPath().toString())
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "client did not finish");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals("PERMISSION_DENIED", out.lines().reduce((a, b) -> b).orElse(""), out);
  }

  @Test
  void an_unauthenticated_caller_reaching_a_worker_is_refused_before_it_runs() throws IOException {
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> pc.call("relay.add_via_worker", Value.i64(1), Value.i64(2)));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
  }
}
