package io.polycall.bench;

import io.polycall.CallOptions;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.AuditConfig;
import io.polycall.security.AuditLog;
import io.polycall.security.AuthenticationInterceptor;
import io.polycall.security.AuthorizationInterceptor;
import io.polycall.security.InputLimits;
import io.polycall.security.JwtSettings;
import io.polycall.security.LimitsInterceptor;
import io.polycall.security.LocalCaller;
import io.polycall.security.Policy;
import io.polycall.security.RateLimitInterceptor;
import io.polycall.security.RateLimits;
import io.polycall.security.TokenIssuer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What security costs an in-process call (issue 5: at most +2 us with authentication, authorization
 * and audit on). The same no-op two-argument Java function is called by name with the chain of a
 * secured node and without it ({@code security=off}, the peer), in the same run.
 *
 * <ul>
 *   <li>{@code on}: a real HS256 JWT in the call's metadata (verified once, then remembered),
 *       authorization by a policy, and the audit log (a real file, fsync every second, its writer
 *       thread running): the issue's target
 *   <li>{@code audit}, {@code auth}: the audit log alone, authentication and authorization alone
 *       (to tell the costs apart)
 *   <li>{@code local}: the embedding program's {@code LocalCaller} instead of a token, authorized
 *   <li>{@code full}: {@code on} plus input limits (the defaults) and a rate limit every call
 *       passes (a bucket per subject)
 * </ul>
 *
 * <p>{@link #call} reports the mean ({@code avgt}); {@link #callSampled} times calls one by one
 * ({@code sample}), for the p50 beside the mean: on a shared machine the mean of the audited call
 * is set by rare long stalls (the writer thread or the caller descheduled), the p50 by the call's
 * own work.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SecuredCallBench {

  @Param({"off", "auth", "local", "audit", "on", "full"})
  public String security;

  LocalCaller local;

  PolyCall pc;
  AuditLog audit;
  Path dir;
  final List<Value> args = List.of(Value.i64(17), Value.i64(25));
  CallOptions options;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    PolyCall.Builder b = PolyCall.builder();
    AuthenticationInterceptor authn = null;
    options =
        CallOptions.DEFAULT.withMetadata(
            "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    if (!security.equals("off")) {
      dir = Files.createTempDirectory("polycall-bench-audit");
      Path secret = dir.resolve("hs256.secret");
      Files.writeString(secret, "0123456789abcdef0123456789abcdef\n");
      String token =
          TokenIssuer.hs256(secret)
              .issue(
                  new TokenIssuer.Claims(
                      "bench", "polycall", null, Duration.ofHours(1), List.of(), "roles"));
      options =
          CallOptions.DEFAULT
              .withMetadata("authorization", "Bearer " + token)
              .withMetadata(
                  "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      if (!security.equals("auth") && !security.equals("local")) {
        audit = AuditLog.open(AuditConfig.of(dir.resolve("audit.jsonl")));
        b.withInterceptor(audit.interceptor());
      }
      if (security.equals("local")) {
        options =
            CallOptions.DEFAULT.withMetadata(
                "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      }
      if (!security.equals("audit")) {
        authn = AuthenticationInterceptor.jwt(JwtSettings.ofHs256("polycall", secret));
        b.withInterceptor(authn)
            .withInterceptor(
                AuthorizationInterceptor.of(
                    Policy.parse(
                        "roles: {calc: {functions: [\"bench.*\"]}}\n"
                            + "subjects: {bench: [calc], \"local:app\": [calc]}\n",
                        "bench policy")));
      }
      if (security.equals("full")) {
        b.withInterceptor(LimitsInterceptor.of(InputLimits.DEFAULTS))
            .withInterceptor(
                new RateLimitInterceptor(
                    new RateLimits(
                        Map.of("*", new RateLimits.Rate(1e12, 1_000_000_000L)), Map.of())));
      }
    }
    pc = b.build();
    pc.jvm().register("bench.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    if (security.equals("local")) {
      local = authn.localCaller(pc, "app");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    pc.close();
    if (audit != null) {
      audit.close();
    }
    if (dir != null) {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Benchmark
  public Value call() {
    return local != null
        ? local.call("bench.add", args, options)
        : pc.call("bench.add", args, options);
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  public Value callSampled() {
    return call();
  }
}
