package io.polycall.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LimitsInterceptorTest {
  @TempDir Path dir;

  static final InputLimits SMALL = new InputLimits(1_000, 3, 10, 100, 50);

  static StatusException refused(PolyCall pc, String fn, Value arg) {
    return catchThrowableOfType(StatusException.class, () -> pc.call(fn, arg));
  }

  static Value nest(int levels) {
    Value v = Value.i64(1);
    for (int i = 0; i < levels; i++) {
      v = Value.list(v);
    }
    return v;
  }

  @Test
  void eachLimitRefusesWithThePathOfTheElementAndTheLimit() {
    LimitsInterceptor limits = new LimitsInterceptor(SMALL, Map.of("big.*", InputLimits.DEFAULTS));
    try (PolyCall pc = PolyCall.builder().withInterceptor(limits).build()) {
      pc.jvm()
          .register("any.take(x: any) -> i64", (java.util.function.ToLongFunction<Object>) x -> 1);
      pc.jvm()
          .register("big.take(x: any) -> i64", (java.util.function.ToLongFunction<Object>) x -> 1);

      StatusException e = refused(pc, "any.take", Value.list(Value.list(Value.list(nest(2)))));
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.status().description())
          .startsWith("args[0][0][0][0]: nesting depth 4 exceeds the limit of 3 levels")
          .contains("any.take@1");

      List<Value> eleven = Collections.nCopies(11, Value.i64(0));
      e = refused(pc, "any.take", Value.list(new Value.Seq(eleven)));
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.status().description())
          .startsWith("args[0][0]: a list of 11 items exceeds the limit of 10 items")
          .contains("collection_length");

      Value struct = new Value.Struct("p", Map.of("name", Value.str("x".repeat(101))));
      e = refused(pc, "any.take", Value.list(struct));
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.status().description())
          .startsWith("args[0][0].name: a string of 101 bytes exceeds the limit of 100 bytes");

      e = refused(pc, "any.take", Value.ndarray(new double[51]));
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.status().description())
          .startsWith("args[0]: an ndarray of 51 elements exceeds the limit of 50 elements");

      List<Value> strs = Collections.nCopies(10, Value.str("y".repeat(99)));
      e = refused(pc, "any.take", new Value.Seq(strs));
      assertThat(e.status().code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(e.status().description())
          .startsWith("the arguments exceed the payload limit of 1000 bytes at args[0][9]");

      // Within the limits, and a function with its own (the defaults) takes what others may not.
      assertThat(pc.call("any.take", Value.list(nest(2)))).isEqualTo(Value.i64(1));
      assertThat(pc.call("big.take", Value.ndarray(new double[51]))).isEqualTo(Value.i64(1));
      assertThat(pc.call("big.take", new Value.Seq(strs))).isEqualTo(Value.i64(1));
    }
  }

  @Test
  void aPerFunctionGlobStopsAtADotAsInThePolicy() {
    // big.* raises the limits of big.take only; big.vec.take keeps the defaults (SMALL), as the
    // same pattern in the policy would not grant big.vec.take either. big.** covers both.
    Value wide = Value.ndarray(new double[51]);
    for (String glob : List.of("big.*", "big.**")) {
      LimitsInterceptor limits = new LimitsInterceptor(SMALL, Map.of(glob, InputLimits.DEFAULTS));
      try (PolyCall pc = PolyCall.builder().withInterceptor(limits).build()) {
        pc.jvm()
            .register(
                "big.take(x: any) -> i64", (java.util.function.ToLongFunction<Object>) x -> 1);
        pc.jvm()
            .register(
                "big.vec.take(x: any) -> i64", (java.util.function.ToLongFunction<Object>) x -> 1);
        assertThat(pc.call("big.take", wide)).isEqualTo(Value.i64(1));
        if (glob.equals("big.*")) {
          assertThat(refused(pc, "big.vec.take", wide).status().code())
              .isEqualTo(Status.Code.INVALID_ARGUMENT);
        } else {
          assertThat(pc.call("big.vec.take", wide)).isEqualTo(Value.i64(1));
        }
      }
    }
  }

  @Test
  void aRefusedCallRunsNoBridgeAndLeavesAnAuditRecord() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    int[] ran = {0};
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc =
            PolyCall.builder()
                .withInterceptor(audit.interceptor())
                .withInterceptor(LimitsInterceptor.of(SMALL))
                .build()) {
      pc.jvm()
          .register(
              "s.len(s: string) -> i64",
              (java.util.function.ToLongFunction<String>)
                  s -> {
                    ran[0]++;
                    return s.length();
                  });
      StatusException e =
          catchThrowableOfType(
              StatusException.class, () -> pc.call("s.len", Value.str("z".repeat(200))));
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(ran[0]).isZero();
      assertThat(pc.call("s.len", Value.str("ok"))).isEqualTo(Value.i64(2));
    }
    List<String> l = Files.readAllLines(file);
    assertThat(l).hasSize(3);
    assertThat(l.get(1))
        .contains("\"decision\":\"limits:deny\"", "\"status\":\"INVALID_ARGUMENT\"")
        .contains("string_bytes");
    assertThat(l.get(2)).contains("\"decision\":\"none\"", "\"status\":\"OK\"");
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    assertThat(InputLimits.DEFAULTS)
        .isEqualTo(new InputLimits(64L << 20, 32, 1_000_000, 16L << 20, 16_777_216));
    List<Value> many = new ArrayList<>(Collections.nCopies(1_000_001, Value.NULL));
    try (PolyCall pc =
        PolyCall.builder().withInterceptor(LimitsInterceptor.of(InputLimits.DEFAULTS)).build()) {
      pc.jvm()
          .register("any.take(x: any) -> i64", (java.util.function.ToLongFunction<Object>) x -> 1);
      StatusException e = refused(pc, "any.take", new Value.Seq(many));
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(pc.call("any.take", nest(31))).isEqualTo(Value.i64(1));
      assertThat(refused(pc, "any.take", nest(33)).status().code())
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
  }
}
