package io.polycall.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.core.PolyCall;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The suite every bridge passes: the same functions, the same values, the same errors. A bridge's
 * test subclasses it, registers the conformance functions below under its own {@link #prefix()},
 * and inherits every test.
 *
 * <pre>
 *   add_i32(a: i32, b: i32) -> i32          add_i64(a: i64, b: i64) -> i64
 *   mul_f64(a: f64, b: f64) -> f64          negate_i8(x: i8) -> i8
 *   is_positive(x: f64) -> bool             utf8_len(s: string) -> u64
 *   maybe_len(s: optional&lt;string&gt;) -> i64   (-1 for null)
 *   sum_f64(xs: ndarray&lt;f64&gt;) -> f64        byte_sum(data: bytes) -> u64
 *   checked_div(a: i64, b: i64) -> i64      (INVALID_ARGUMENT "division by zero" when b == 0)
 *   apply(f: fn(i64) -> i64, x: i64) -> i64 (f(x), f of any bridge)
 *   norm(p: struct Point{x: f64, y: f64}) -> f64
 *   midpoint(a: Point, b: Point) -> Point   sleep_ms(ms: i64) -> null
 * </pre>
 *
 * One node serves the whole suite, as in production: each test also proves that the failures before
 * it left the node working.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BridgeConformanceTest {

  /** The names every bridge registers under its prefix. */
  public static final List<String> FUNCTIONS =
      List.of(
          "add_i32",
          "add_i64",
          "mul_f64",
          "negate_i8",
          "is_positive",
          "utf8_len",
          "maybe_len",
          "sum_f64",
          "byte_sum",
          "checked_div",
          "apply",
          "norm",
          "midpoint",
          "sleep_ms");

  protected PolyCall node;

  /** A node with the conformance functions registered under {@link #prefix()}. */
  protected abstract PolyCall createNode() throws Exception;

  /** The namespace of the conformance functions, such as {@code jconf}. */
  protected abstract String prefix();

  /** The bridge name {@code describe} must report. */
  protected abstract String bridgeName();

  /**
   * False for a transport that cannot carry {@code fn} arguments yet (the remote bridge): the
   * callback tests then check that such a call is UNIMPLEMENTED and that the node keeps serving.
   */
  protected boolean supportsCallbacks() {
    return true;
  }

  private void assertCallbacksUnimplemented(Value.Fn f) {
    Status s = failure("apply", f, Value.i64(5));
    assertEquals(Status.Code.UNIMPLEMENTED, s.code(), s.toString());
    assertEquals(Value.i32(2), call("add_i32", Value.i32(1), Value.i32(1)));
  }

  @BeforeAll
  void startNode() throws Exception {
    node = createNode();
  }

  @AfterAll
  void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  protected String fn(String name) {
    return prefix() + "." + name;
  }

  protected Value call(String name, Value... args) {
    return node.call(fn(name), args);
  }

  protected Status failure(String name, Value... args) {
    StatusException e = assertThrows(StatusException.class, () -> call(name, args));
    return e.status();
  }

  private static Value point(double x, double y) {
    return new Value.Struct("Point", Map.of("x", Value.f64(x), "y", Value.f64(y)));
  }

  // ---- discovery ---------------------------------------------------------------------------

  @Test
  void everyConformanceFunctionIsListedWithItsBridge() {
    List<FunctionInfo> listed = node.functions(prefix() + ".*");
    List<String> names = listed.stream().map(FunctionInfo::name).toList();
    for (String f : FUNCTIONS) {
      assertTrue(names.contains(fn(f)), () -> fn(f) + " is not registered; found " + names);
    }
    for (FunctionInfo info : listed) {
      assertEquals(bridgeName(), info.bridge(), info.name());
    }
  }

  @Test
  void describeReportsTheCanonicalSignature() {
    FunctionInfo info = node.describe(fn("add_i64"));
    assertEquals(fn("add_i64") + "(a: i64, b: i64) -> i64", info.signature().toString());
    assertEquals(
        Type.parse("struct Point{x: f64, y: f64}"),
        node.describe(fn("midpoint")).signature().result());
  }

  // ---- scalars -----------------------------------------------------------------------------

  @Test
  void integersOfEveryWidthComeBackWithTheirDeclaredType() {
    assertEquals(Value.i32(7), call("add_i32", Value.i32(3), Value.i32(4)));
    assertEquals(
        Value.i64(Long.MAX_VALUE), call("add_i64", Value.i64(Long.MAX_VALUE - 1), Value.i64(1)));
    assertEquals(Value.i8((byte) -5), call("negate_i8", Value.i8((byte) 5)));
  }

  @Test
  void narrowerIntegersWidenExactly() {
    assertEquals(Value.i64(300), call("add_i64", Value.i8((byte) 100), Value.i32(200)));
    assertEquals(Value.i8((byte) -100), call("negate_i8", Value.i64(100)));
  }

  @Test
  void floatsAndBooleansRoundTrip() {
    assertEquals(Value.f64(7.5), call("mul_f64", Value.f64(2.5), Value.f64(3)));
    assertEquals(Value.TRUE, call("is_positive", Value.f64(0.5)));
    assertEquals(Value.FALSE, call("is_positive", Value.f64(-0.5)));
  }

  @Test
  void infinitiesPassThroughFloatArithmetic() {
    Value r = call("mul_f64", Value.f64(Double.POSITIVE_INFINITY), Value.f64(2));
    assertEquals(Value.f64(Double.POSITIVE_INFINITY), r);
    Value nan = call("mul_f64", Value.f64(Double.NaN), Value.f64(2));
    assertTrue(Double.isNaN(((Value.Float) nan).value()));
  }

  // ---- strings, optionals, blocks -------------------------------------------------------------

  @Test
  void stringsCrossAsUtf8() {
    String s = "h\u00e9llo \u4e16\u754c";
    assertEquals(
        Value.Int.of(s.getBytes(StandardCharsets.UTF_8).length, Type.Scalar.U64),
        call("utf8_len", Value.str(s)));
  }

  @Test
  void optionalAcceptsNullAndAValue() {
    assertEquals(Value.i64(-1), call("maybe_len", Value.NULL));
    assertEquals(Value.i64(3), call("maybe_len", Value.str("abc")));
  }

  @Test
  void ndarraysMoveAsOneBlock() {
    double[] xs = new double[10_000];
    double want = 0;
    for (int i = 0; i < xs.length; i++) {
      xs[i] = i * 0.5;
      want += xs[i];
    }
    Value r = call("sum_f64", Value.NdArray.copyOf(xs));
    assertEquals(want, ((Value.Float) r).value(), 1e-6);
  }

  @Test
  void aListOfNumbersIsAcceptedWhereAnNdarrayIsDeclared() {
    Value r = call("sum_f64", Value.list(Value.f64(1), Value.i32(2), Value.f64(3.5)));
    assertEquals(Value.f64(6.5), r);
  }

  @Test
  void bytesAreUnsigned() {
    Value r = call("byte_sum", Value.bytes(new byte[] {1, 2, (byte) 255}));
    assertEquals(Value.Int.of(258, Type.Scalar.U64), r);
  }

  // ---- structs and callbacks ---------------------------------------------------------------

  @Test
  void structsGoInAndComeOutByField() {
    assertEquals(Value.f64(5), call("norm", point(3, 4)));
    Value.Struct mid = (Value.Struct) call("midpoint", point(0, 0), point(2, 4));
    assertEquals(Value.f64(1), mid.field("x"));
    assertEquals(Value.f64(2), mid.field("y"));
  }

  @Test
  void aMapWithTheFieldNamesIsAcceptedAsAStruct() {
    Value asMap =
        new Value.Dict(Map.of(Value.str("x"), Value.f64(6), Value.str("y"), Value.f64(8)));
    assertEquals(Value.f64(10), call("norm", asMap));
  }

  @Test
  void aFunctionArgumentIsCalledBackAcrossTheBridge() {
    Value.Fn triple = node.callback("(x: i64) -> i64", (LongUnaryOperator) x -> x * 3);
    try {
      if (!supportsCallbacks()) {
        assertCallbacksUnimplemented(triple);
        return;
      }
      assertEquals(Value.i64(15), call("apply", triple, Value.i64(5)));
    } finally {
      node.release(triple);
    }
  }

  @Test
  void aCallbackThatFailsFailsTheOuterCallWithItsStatus() {
    Value.Fn bad =
        node.callback(
            "(x: i64) -> i64",
            (LongUnaryOperator)
                x -> {
                  throw Status.OUT_OF_RANGE.withDescription("callback refused " + x).asException();
                });
    try {
      if (!supportsCallbacks()) {
        assertCallbacksUnimplemented(bad);
        return;
      }
      Status s = failure("apply", bad, Value.i64(9));
      assertEquals(Status.Code.OUT_OF_RANGE, s.code());
      assertTrue(s.description().contains("callback refused 9"), s.description());
    } finally {
      node.release(bad);
    }
    assertEquals(Value.i32(2), call("add_i32", Value.i32(1), Value.i32(1)));
  }

  // ---- errors ------------------------------------------------------------------------------

  @Test
  void aFunctionErrorBecomesItsStatusAndTheNodeKeepsServing() {
    Status s = failure("checked_div", Value.i64(1), Value.i64(0));
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("division by zero"), s.description());
    assertEquals(Value.i64(3), call("checked_div", Value.i64(7), Value.i64(2)));
  }

  @Test
  void anIntegerThatDoesNotFitIsRejectedWithItsPath() {
    Status s = failure("negate_i8", Value.i32(300));
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().startsWith("args[0] (x)"), s.description());
    assertTrue(s.description().contains("does not fit in i8"), s.description());
    Status big = failure("add_i32", Value.i64(1L << 31), Value.i32(0));
    assertTrue(big.description().contains("args[0] (a)"), big.description());
  }

  @Test
  void nanIntoAnIntegerIsRejected() {
    Status s = failure("add_i64", Value.i64(1), Value.f64(Double.NaN));
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("args[1] (b) is NaN"), s.description());
  }

  @Test
  void aFractionIntoAnIntegerIsRejectedButAWholeFloatIsAccepted() {
    assertEquals(
        Status.Code.INVALID_ARGUMENT, failure("add_i64", Value.f64(1.5), Value.i64(1)).code());
    assertEquals(Value.i64(3), call("add_i64", Value.f64(2.0), Value.i64(1)));
  }

  @Test
  void nullWhereNotOptionalIsRejected() {
    Status s = failure("utf8_len", Value.NULL);
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("is null"), s.description());
  }

  @Test
  void wrongArityIsRejectedWithTheSignature() {
    Status s = failure("add_i32", Value.i32(1));
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("takes 2 arguments (a: i32, b: i32)"), s.description());
    assertTrue(s.description().contains("got 1"), s.description());
  }

  @Test
  void aWrongTypeIsRejected() {
    Status s = failure("mul_f64", Value.str("two"), Value.f64(1));
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("expected f64"), s.description());
    Status st = failure("norm", new Value.Struct("Point", Map.of("x", Value.f64(1))));
    assertTrue(st.description().contains("args[0].y (p) is missing"), st.description());
  }

  @Test
  void anUnknownFunctionIsNotFoundWithSuggestions() {
    StatusException e =
        assertThrows(StatusException.class, () -> node.call(fn("add_i33"), Value.i32(1)));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.status().description().contains(fn("add_i32")), e.status().description());
  }

  @Test
  void aSlowFunctionPastItsDeadlineIsDeadlineExceeded() {
    CallOptions soon = CallOptions.DEFAULT.withDeadlineAfter(Duration.ofMillis(50));
    StatusException e =
        assertThrows(
            StatusException.class, () -> node.call(fn("sleep_ms"), List.of(Value.i64(1500)), soon));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().code());
    assertEquals(Value.i32(5), call("add_i32", Value.i32(2), Value.i32(3)));
  }

  @Test
  void aFastFunctionWithinItsDeadlineSucceeds() {
    CallOptions roomy = CallOptions.DEFAULT.withDeadlineAfter(Duration.ofSeconds(30));
    assertEquals(Value.NULL, node.call(fn("sleep_ms"), List.of(Value.i64(1)), roomy));
  }

  // ---- concurrency -------------------------------------------------------------------------

  @Test
  void asyncCallsCompleteWithTheirResults() {
    List<CompletableFuture<Value>> fs = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      fs.add(node.callAsync(fn("add_i64"), Value.i64(i), Value.i64(i)));
    }
    for (int i = 0; i < 50; i++) {
      assertEquals(Value.i64(2L * i), fs.get(i).join());
    }
  }

  @Test
  void aBatchReturnsResultsInOrderAndFailuresInPlace() {
    List<CallRequest> calls = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      calls.add(CallRequest.of(fn("checked_div"), Value.i64(100), Value.i64(i % 10)));
    }
    List<CallResult> results = node.batch(calls);
    assertEquals(100, results.size());
    for (int i = 0; i < 100; i++) {
      CallResult r = results.get(i);
      if (i % 10 == 0) {
        assertEquals(Status.Code.INVALID_ARGUMENT, r.status().code());
      } else {
        assertEquals(Value.i64(100 / (i % 10)), r.value());
      }
    }
  }

  @Test
  void manyThreadsCanCallAtOnce() throws Exception {
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<Boolean>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * 1000;
        fs.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    Value v = call("add_i64", Value.i64(base), Value.i64(i));
                    if (!v.equals(Value.i64(base + i))) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> f : fs) {
        assertTrue(f.get());
      }
    }
  }

  @Test
  void resultsCarryTheirDeclaredTypes() {
    assertInstanceOf(Value.Int.class, call("utf8_len", Value.str("x")));
    assertEquals(Type.Scalar.U64, ((Value.Int) call("utf8_len", Value.str("x"))).type());
  }
}
