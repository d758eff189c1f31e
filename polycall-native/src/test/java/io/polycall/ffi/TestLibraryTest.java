package io.polycall.ffi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.spi.BoundFunction;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.DoublePredicate;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;
import java.util.function.LongFunction;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each native feature against the project's own C library (polycalltest.c). */
class TestLibraryTest {
  private static final String POINT = "struct Point{x: f64, y: f64}";
  private static final String MIXED = "struct Mixed{a: i8, b: i64, c: f32}";

  private PolyCall poly;
  private NativeBridge bridge;
  private NativeLibrary lib;

  @BeforeEach
  void setUp() {
    poly = PolyCall.create();
    bridge = poly.addBridge(NativeBridge.create(poly.registry()));
    lib = bridge.load(NativeConformanceFunctions.testLibrary().toString());
  }

  @AfterEach
  void tearDown() {
    poly.close(); // closes the bridge too
  }

  @Test
  void everyIntegerWidthAndSignReachesC() {
    lib.register(
        "t.widths(a: i8, b: u8, c: i16, d: u16, e: i32, f: u32, g: i64, h: u64, i: f32) -> f64"
            + " [symbol=pc_widths]");

    Value r =
        poly.call(
            "t.widths",
            (byte) -1,
            Value.Int.of(200, Type.Scalar.U8),
            (short) -2,
            Value.Int.of(60000, Type.Scalar.U16),
            -3,
            Value.u32(4000000000L),
            -4L,
            Value.u64(5),
            1.5f);

    assertEquals(Value.f64(-1 + 200 - 2 + 60000 - 3 + 4000000000L - 4 + 5 + 1.5), r);
  }

  @Test
  void unsignedResultsAreZeroExtended() {
    lib.register("t.u8(x: null) -> u8 [symbol=pc_u8_max]".replace("x: null", ""));
    lib.register("t.u16() -> u16 [symbol=pc_u16_max]");
    lib.register("t.u32() -> u32 [symbol=pc_u32_max]");
    lib.register("t.u64() -> u64 [symbol=pc_u64_max]");

    assertEquals("255", poly.call("t.u8").toString());
    assertEquals("65535", poly.call("t.u16").toString());
    assertEquals("4294967295", poly.call("t.u32").toString());
    assertEquals("18446744073709551615", poly.call("t.u64").toString());
  }

  @Test
  void aStructWithMixedAlignmentGoesInAndOutByValue() {
    lib.register("t.bump(m: " + MIXED + ") -> " + MIXED + " [symbol=pc_mixed_bump]");

    Value r = poly.call("t.bump", struct("Mixed", "a", (byte) 1, "b", 1L << 40, "c", 2.5f));

    assertEquals(struct("Mixed", "a", (byte) 2, "b", (1L << 40) + 1, "c", 3.5f), r);
  }

  @Test
  void aStructGoesInByPointer() {
    lib.register("t.sum(m: *" + MIXED + ") -> f64 [symbol=pc_mixed_sum_ptr]");

    Value r = poly.call("t.sum", struct("Mixed", "a", (byte) -1, "b", 10L, "c", 0.5f));

    assertEquals(Value.f64(9.5), r);
  }

  @Test
  void structsAreAcceptedAsMapsToo() {
    lib.register("t.norm(p: " + POINT + ") -> f64 [symbol=norm]");

    assertEquals(Value.f64(5.0), poly.call("t.norm", Map.of("x", 3.0, "y", 4.0)));
  }

  @Test
  void outParamsComeBackAsAStructAfterTheResult() {
    BoundFunction f =
        lib.register("t.divmod(a: i32, b: i32, q: out i32, r: out i32) -> i32 [symbol=pc_divmod]");

    Value r = poly.call("t.divmod", 17, 5);

    assertEquals(
        Signature.parse("t.divmod(a: i32, b: i32) -> struct{result: i32, q: i32, r: i32}"),
        f.info().signature());
    assertEquals(struct("", "result", 0, "q", 3, "r", 2), r);
  }

  @Test
  void anOutStructAloneIsTheResult() {
    lib.register(
        "t.scale_point(p: *" + POINT + ", k: f64, out: out " + POINT + ") [symbol=pc_scale_point]");

    Value r = poly.call("t.scale_point", Map.of("x", 1.0, "y", -2.0), 3.0);

    assertEquals(struct("Point", "x", 3.0, "y", -6.0), r);
  }

  @Test
  void anInOutNdarrayIsScaledInPlace() {
    lib.register("t.scale(xs: inout ndarray<f64>, n: u64 = len(xs), k: f64) [symbol=pc_scale]");
    Value.NdArray xs = Value.NdArray.copyOf(new double[] {1, 2, 3});

    Value r = poly.call("t.scale", xs, 2.0);

    assertEquals(Value.NULL, r);
    assertArrayEquals(new double[] {2, 4, 6}, xs.toDoubleArray());
  }

  @Test
  void anInOutNdarrayOnTheJavaHeapIsCopiedInAndBack() {
    lib.register("t.scale(xs: inout ndarray<f64>, n: u64 = len(xs), k: f64) [symbol=pc_scale]");
    double[] backing = {1, 2, 3};
    Value.NdArray xs =
        Value.NdArray.of(
            Type.Scalar.F64, new long[] {3}, java.lang.foreign.MemorySegment.ofArray(backing));

    poly.call("t.scale", xs, -1.0);

    assertArrayEquals(new double[] {-1, -2, -3}, backing);
  }

  @Test
  void anInOutScalarComesBackWithTheResult() {
    lib.register("t.bump(counter: inout i64, by: i64) -> i64 [symbol=pc_bump]");

    Value r = poly.call("t.bump", 40L, 2L);

    assertEquals(struct("", "result", 40L, "counter", 42L), r);
  }

  @Test
  void anOutNdarrayIsAllocatedWithTheDeclaredCapacity() {
    lib.register("t.iota(out: out ndarray<i32>[n], n: u64, start: i32) -> u64 [symbol=pc_iota]");

    Value.Struct r = (Value.Struct) poly.call("t.iota", 4L, 10);

    assertArrayEquals(new int[] {10, 11, 12, 13}, (int[]) r.field("out").toJava());
  }

  @Test
  void aCallbackTakesAndReturnsDoubles() {
    poly.jvm().register("java.square(x: f64) -> f64", (DoubleUnaryOperator) x -> x * x);
    lib.register("t.apply_f64(f: fn(f64) -> f64, x: f64) -> f64 [symbol=pc_apply_f64]");

    assertEquals(Value.f64(6.25), poly.call("t.apply_f64", new Value.Fn("java.square", null), 2.5));
  }

  @Test
  void reduceCallsBackOncePerElement() {
    poly.jvm().register("java.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    lib.register(
        "t.reduce(xs: ndarray<i64>, n: u64 = len(xs), init: i64, f: fn(i64, i64) -> i64) -> i64"
            + " [symbol=pc_reduce]");

    Value r =
        poly.call(
            "t.reduce",
            Value.NdArray.copyOf(new long[] {1, 2, 3, 4}),
            100L,
            new Value.Fn("java.add", null));

    assertEquals(Value.i64(110), r);
  }

  @Test
  void aCallbackReceivesPointedToValuesAndReturnsBool() {
    poly.jvm().register("java.big(x: f64) -> bool", (DoublePredicate) x -> x > 10);
    lib.register(
        "t.count_if(xs: ndarray<f64>, n: u64 = len(xs), pred: fn(*f64) -> bool) -> i32"
            + " [symbol=pc_count_if]");

    Value r =
        poly.call(
            "t.count_if",
            Value.NdArray.copyOf(new double[] {1, 20, 30, 4}),
            new Value.Fn("java.big", null));

    assertEquals(Value.i32(2), r);
  }

  @Test
  void aCallbackCanCallAnotherNativeFunction() {
    NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());
    poly.jvm()
        .register(
            "java.neg_via_c(x: i64) -> i64",
            (LongUnaryOperator) x -> ((Value.Int) poly.call("cconf.add_i64", x, -2 * x)).value());

    assertEquals(Value.i64(-7), poly.call("cconf.apply", new Value.Fn("java.neg_via_c", null), 7L));
  }

  @Test
  void aCallbackResultOfTheWrongTypeFailsTheCall() {
    // Declared -> string, so the core hands back a string, which i64 cannot take.
    poly.jvm().register("java.text(x: i64) -> string", (LongFunction<String>) x -> "nope");
    NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());

    StatusException e =
        assertThrows(
            StatusException.class,
            () -> poly.call("cconf.apply", new Value.Fn("java.text", null), 1L));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.getMessage().contains("callback f (java.text)"), e.getMessage());
  }

  @Test
  void errnoDecidesTheStatusCodeAndIsInTheMessage() {
    lib.register("t.open(name: string) -> i32 [symbol=pc_open_thing, error=negative, errno]");

    StatusException e = assertThrows(StatusException.class, () -> poly.call("t.open", "missing"));

    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.getMessage().contains("errno 2 (No such file or directory)"), e.getMessage());
    assertEquals(Value.i32(3), poly.call("t.open", "present"));
  }

  @Test
  void anExplicitStatusWinsOverErrno() {
    lib.register(
        "t.open(name: string) -> i32 [symbol=pc_open_thing, error=negative, errno,"
            + " status=UNAVAILABLE]");

    StatusException e = assertThrows(StatusException.class, () -> poly.call("t.open", "missing"));

    assertEquals(Status.Code.UNAVAILABLE, e.status().code());
  }

  @Test
  void aCriticalFunctionReadsAHeapArrayInPlaceAndStillCapturesErrno() {
    lib.register("t.sum(xs: ndarray<f64>, n: u64 = len(xs)) -> f64 [symbol=sum_f64, critical]");
    lib.register(
        "t.open(name: string) -> i32 [symbol=pc_open_thing, error=negative, errno, critical]");
    Value.NdArray onHeap =
        Value.NdArray.of(
            Type.Scalar.F64,
            new long[] {2},
            java.lang.foreign.MemorySegment.ofArray(new double[] {1.5, 2}));

    assertEquals(Value.f64(3.5), poly.call("t.sum", onHeap));
    StatusException e = assertThrows(StatusException.class, () -> poly.call("t.open", "missing"));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
  }

  @Test
  void stringsComeBackCopied() {
    lib.register("t.greeting() -> string [symbol=pc_greeting]");
    lib.register("t.maybe(give: bool) -> optional<string> [symbol=pc_maybe_null]");

    assertEquals(Value.str("hello from C"), poly.call("t.greeting"));
    assertEquals(Value.str("given"), poly.call("t.maybe", true));
    assertEquals(Value.NULL, poly.call("t.maybe", false));
  }

  @Test
  void aNullStringWhereNoneIsDeclaredOptionalIsAnError() {
    lib.register("t.maybe(give: bool) -> string [symbol=pc_maybe_null]");

    StatusException e = assertThrows(StatusException.class, () -> poly.call("t.maybe", false));

    assertEquals(Status.Code.INTERNAL, e.status().code());
  }

  @Test
  void pointersTravelAsHandlesAndAreRefusedAfterRelease() {
    lib.register(
        "t.counter_new(start: i64) -> handle<counter> [symbol=pc_counter_new, error=null]");
    lib.register("t.counter_add(c: handle<counter>, by: i64) -> i64 [symbol=pc_counter_add]");
    lib.register("t.counter_free(c: release handle<counter>) [symbol=pc_counter_free]");

    Value.Handle c = (Value.Handle) poly.call("t.counter_new", 10L);
    assertEquals("counter", c.kind());
    assertEquals(Value.i64(15), poly.call("t.counter_add", c, 5L));
    poly.call("t.counter_free", c);

    StatusException stale =
        assertThrows(StatusException.class, () -> poly.call("t.counter_add", c, 1L));
    assertEquals(Status.Code.FAILED_PRECONDITION, stale.status().code());
    StatusException forged =
        assertThrows(
            StatusException.class,
            () -> poly.call("t.counter_add", new Value.Handle("counter", 999, 0), 1L));
    assertEquals(Status.Code.INVALID_ARGUMENT, forged.status().code());
  }

  @Test
  void aHandleOfAnotherKindIsRefusedBeforeC() {
    lib.register("t.counter_add(c: handle<counter>, by: i64) -> i64 [symbol=pc_counter_add]");

    StatusException e =
        assertThrows(
            StatusException.class,
            () -> poly.call("t.counter_add", new Value.Handle("file", 0, 0), 1L));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
  }

  @Test
  void closingTheBridgeUnregistersItsFunctionsAndRefusesOldHandles() {
    BoundFunction add = lib.register("t.add(a: i32, b: i32) -> i32 [symbol=add_i32]");

    bridge.close();
    bridge.close(); // idempotent

    assertTrue(poly.registry().lookup("t.add").isEmpty());
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> add.invoker().invoke(new Value[] {Value.i32(1), Value.i32(2)}, null));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.status().code());
    assertThrows(StatusException.class, () -> bridge.load("m"));
  }

  @Test
  void closingDuringACallLetsItFinishAndUnloadsWhenItReturns() throws Exception {
    NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());
    BoundFunction add = lib.bind("t.add(a: i32, b: i32) -> i32 [symbol=add_i32]");
    CountDownLatch insideC = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    poly.jvm()
        .register(
            "java.wait(x: i64) -> i64",
            (LongUnaryOperator)
                x -> {
                  insideC.countDown(); // C's apply() is on the stack below us now
                  try {
                    closed.await();
                  } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                  return x;
                });
    try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
      Future<Value> running =
          pool.submit(() -> poly.call("cconf.apply", new Value.Fn("java.wait", null), 7L));
      insideC.await();

      bridge.close();
      StatusException refused =
          assertThrows(
              StatusException.class,
              () -> add.invoker().invoke(new Value[] {Value.i32(1), Value.i32(2)}, null));
      closed.countDown();

      assertEquals(Value.i64(7), running.get());
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.status().code());
    }
    assertThrows(StatusException.class, () -> lib.hasSymbol("add_i32"));
  }

  @Test
  void aDirectHandleExistsOnlyForAllNumberSignatures() {
    assertTrue(lib.bind("t.add(a: i32, b: i32) -> i32 [symbol=add_i32]").direct() != null);
    assertNull(lib.bind("t.len(s: string) -> u64 [symbol=utf8_len]").direct());
    assertNull(
        lib.bind("t.div(a: i64, b: i64, q: out i64) -> i32 [symbol=checked_div, error=nonzero]")
            .direct());
  }

  private static Value struct(String name, Object... kv) {
    Map<String, Value> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], Value.of(kv[i + 1]));
    }
    return new Value.Struct(name, m);
  }
}
