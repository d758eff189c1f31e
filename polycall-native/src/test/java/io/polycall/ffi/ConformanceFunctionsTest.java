package io.polycall.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance functions with the semantics the bridge suite expects, checked here until
 * BridgeConformanceTest lands in polycall-testing (then NativeBridgeConformanceTest subclasses it).
 */
class ConformanceFunctionsTest {
  private PolyCall poly;
  private NativeBridge bridge;

  @BeforeEach
  void setUp() {
    poly = PolyCall.create();
    bridge = poly.addBridge(NativeBridge.create(poly.registry()));
    NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());
  }

  @AfterEach
  void tearDown() {
    poly.close(); // closes the bridge too
  }

  @Test
  void signaturesAreTheCanonicalOnes() {
    Map<String, String> expected =
        Map.of(
            "cconf.sum_f64", "cconf.sum_f64(xs: ndarray<f64>) -> f64",
            "cconf.byte_sum", "cconf.byte_sum(data: bytes) -> u64",
            "cconf.checked_div", "cconf.checked_div(a: i64, b: i64) -> i64",
            "cconf.apply", "cconf.apply(f: fn(i64) -> i64, x: i64) -> i64",
            "cconf.sleep_ms", "cconf.sleep_ms(ms: i64) -> null",
            "cconf.maybe_len", "cconf.maybe_len(s: optional<string>) -> i64");
    expected.forEach(
        (name, sig) -> assertEquals(Signature.parse(sig), poly.describe(name).signature(), name));
  }

  @Test
  void scalarsRoundTrip() {
    assertEquals(Value.i32(-1), poly.call("cconf.add_i32", Integer.MAX_VALUE, Integer.MIN_VALUE));
    assertEquals(Value.i64(Long.MIN_VALUE), poly.call("cconf.add_i64", Long.MAX_VALUE, 1L));
    assertEquals(Value.f64(-7.5), poly.call("cconf.mul_f64", 2.5, -3.0));
    assertEquals(Value.i8((byte) -128), poly.call("cconf.negate_i8", (byte) -128));
    assertEquals(Value.i8((byte) -5), poly.call("cconf.negate_i8", (byte) 5));
    assertEquals(Value.TRUE, poly.call("cconf.is_positive", 0.1));
    assertEquals(Value.FALSE, poly.call("cconf.is_positive", -0.0));
  }

  @Test
  void stringsAreUtf8() {
    String s = "h\u00e9llo \u4e16\u754c \ud83d\ude00";
    assertEquals(
        Value.u64(s.getBytes(StandardCharsets.UTF_8).length), poly.call("cconf.utf8_len", s));
    assertEquals(Value.u64(0), poly.call("cconf.utf8_len", ""));
    assertEquals(Value.i64(-1), poly.call("cconf.maybe_len", Value.NULL));
    assertEquals(Value.i64(3), poly.call("cconf.maybe_len", "abc"));
  }

  @Test
  void arraysAndBytesMoveAsBlocks() {
    assertEquals(Value.f64(6.5), poly.call("cconf.sum_f64", new double[] {1, 2, 3.5}));
    assertEquals(Value.f64(0), poly.call("cconf.sum_f64", new double[0]));
    assertEquals(
        Value.u64(255 + 1 + 128),
        poly.call("cconf.byte_sum", new byte[] {(byte) 255, 1, (byte) 128}));
    assertEquals(Value.u64(0), poly.call("cconf.byte_sum", new byte[0]));
  }

  @Test
  void checkedDivDividesOrFails() {
    assertEquals(Value.i64(-3), poly.call("cconf.checked_div", -7L, 2L));
    StatusException e =
        assertThrows(StatusException.class, () -> poly.call("cconf.checked_div", 7L, 0L));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.status().description().contains("division by zero"));
  }

  @Test
  void applyCallsARegisteredFunctionBack() {
    poly.jvm().register("java.inc(x: i64) -> i64", (LongUnaryOperator) x -> x + 1);
    assertEquals(Value.i64(42), poly.call("cconf.apply", new Value.Fn("java.inc", null), 41L));
  }

  @Test
  void pointsGoByValue() {
    assertEquals(Value.f64(5), poly.call("cconf.norm", Map.of("x", 3.0, "y", -4.0)));
    Value.Struct m =
        (Value.Struct)
            poly.call("cconf.midpoint", Map.of("x", 0.0, "y", 0.0), Map.of("x", 2.0, "y", -4.0));
    assertEquals(Value.f64(1), m.field("x"));
    assertEquals(Value.f64(-2), m.field("y"));
  }

  @Test
  void sleepReturnsNull() {
    assertEquals(Value.NULL, poly.call("cconf.sleep_ms", 1L));
  }
}
