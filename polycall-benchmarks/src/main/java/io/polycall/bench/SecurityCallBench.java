package io.polycall.bench;

import io.polycall.CallOptions;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.AuditConfig;
import io.polycall.security.AuditLog;
import io.polycall.security.AuthenticationInterceptor;
import io.polycall.security.AuthorizationInterceptor;
import io.polycall.security.JwtSettings;
import io.polycall.security.TokenIssuer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What security costs an in-process call (issue 5: at most 2 us more with authentication,
 * authorization and audit on). The peer is {@code plain}: the same call by name on a node with no
 * interceptors.
 *
 * <ul>
 *   <li>{@code bearerToken}: a bearer token (HS256) in the metadata, verified (from the cache after
 *       the first call) and authorized by a policy file
 *   <li>{@code localIdentity}: the embedding program's {@code LocalCaller}, authorized
 *   <li>{@code bearerTokenAudited}: {@code bearerToken} with the hash-chained audit log in front
 *       (fsync on interval)
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SecurityCallBench {
  static final String POLICY =
      """
      roles:
        calc: {functions: ["bench.*"], bridges: [jvm]}
      subjects:
        alice: [calc]
        "local:app": [calc]
      """;

  Path dir;
  PolyCall plain;
  PolyCall secured;
  PolyCall audited;
  AuditLog audit;
  io.polycall.security.LocalCaller app;
  CallOptions withToken;
  List<Value> args = List.of(Value.i64(17), Value.i64(25));

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("polycall-bench-security");
    Path secret = dir.resolve("hs256.secret");
    Files.writeString(secret, "0123456789abcdef0123456789abcdef-bench\n");
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    String token =
        TokenIssuer.hs256(secret)
            .issue(
                new TokenIssuer.Claims(
                    "alice", "polycall", null, Duration.ofHours(2), List.of(), "roles"));
    withToken = CallOptions.DEFAULT.withMetadata("authorization", "Bearer " + token);

    plain = PolyCall.create();
    AuthenticationInterceptor authn =
        AuthenticationInterceptor.jwt(JwtSettings.ofHs256("polycall", secret));
    secured =
        PolyCall.builder()
            .withInterceptor(authn)
            .withInterceptor(AuthorizationInterceptor.watching(policy))
            .build();
    app = authn.localCaller(secured, "app");
    audit = AuditLog.open(AuditConfig.of(dir.resolve("audit.jsonl")));
    audited =
        PolyCall.builder()
            .withInterceptor(audit.interceptor())
            .withInterceptor(AuthenticationInterceptor.jwt(JwtSettings.ofHs256("polycall", secret)))
            .withInterceptor(AuthorizationInterceptor.watching(policy))
            .build();
    for (PolyCall pc : List.of(plain, secured, audited)) {
      pc.jvm().register("bench.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    plain.close();
    secured.close();
    audited.close();
    audit.close();
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
    }
    Files.deleteIfExists(dir);
  }

  @Benchmark
  public Value plain() {
    return plain.call("bench.add", args, CallOptions.DEFAULT);
  }

  @Benchmark
  public Value bearerToken() {
    return secured.call("bench.add", args, withToken);
  }

  @Benchmark
  public Value localIdentity() {
    return app.call("bench.add", args, CallOptions.DEFAULT);
  }

  @Benchmark
  public Value bearerTokenAudited() {
    return audited.call("bench.add", args, withToken);
  }
}
