package io.polycall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoercionTest {

  private static String rejected(Value v, String type) {
    StatusException e =
        assertThrows(StatusException.class, () -> Coercion.coerce(v, Type.parse(type), "x"));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    return e.status().description();
  }

  private static Value accepted(Value v, String type) {
    return Coercion.coerce(v, Type.parse(type), "x");
  }

  @Test
  void aValueOfTheRightTypeIsReturnedAsIs() {
    Value v = Value.i32(5);
    assertSame(v, accepted(v, "i32"));
  }

  @Test
  void integersWidenAndNarrowOnlyWhenTheValueFits() {
    assertEquals(Value.i8((byte) 100), accepted(Value.i64(100), "i8"));
    assertTrue(rejected(Value.i64(300), "i8").contains("does not fit in i8 (-128..127)"));
    assertTrue(rejected(Value.i32(-1), "u32").contains("does not fit in u32"));
    assertEquals(Value.u64(-1), accepted(Value.u64(-1), "u64"));
    assertTrue(rejected(Value.u64(-1), "i64").contains("18446744073709551615"));
    assertTrue(rejected(Value.i64(-1), "u64").contains("does not fit in u64"));
  }

  @Test
  void floatsBecomeIntegersOnlyWhenWholeAndInRange() {
    assertEquals(Value.i32(2), accepted(Value.f64(2.0), "i32"));
    assertTrue(rejected(Value.f64(2.5), "i32").contains("not a whole number"));
    assertTrue(rejected(Value.f64(Double.NaN), "i32").contains("NaN"));
    assertTrue(rejected(Value.f64(Double.POSITIVE_INFINITY), "i64").contains("Infinity"));
    assertTrue(rejected(Value.f64(1e20), "i64").contains("does not fit"));
    assertEquals(Value.u64(0x8000_0000_0000_0000L), accepted(Value.f64(0x1p63), "u64"));
  }

  @Test
  void integersBecomeFloatsOnlyWhenExact() {
    assertEquals(Value.f64(3), accepted(Value.i32(3), "f64"));
    assertEquals(Value.f64(1L << 53), accepted(Value.i64(1L << 53), "f64"));
    assertTrue(rejected(Value.i64((1L << 53) + 1), "f64").contains("cannot hold exactly"));
    assertTrue(rejected(Value.i32((1 << 24) + 1), "f32").contains("cannot hold exactly"));
  }

  @Test
  void f64NarrowsToF32OnlyWhenExact() {
    assertEquals(Value.f32(0.5f), accepted(Value.f64(0.5), "f32"));
    assertTrue(rejected(Value.f64(0.1), "f32").contains("f32 cannot hold exactly"));
  }

  @Test
  void nullIsOnlyAcceptedWhereOptional() {
    assertEquals(Value.NULL, accepted(Value.NULL, "optional<i32>"));
    assertTrue(rejected(Value.NULL, "i32").contains("is null, but i32 is not optional"));
  }

  @Test
  void errorsNameThePathOfTheBadElement() {
    Value args =
        Value.list(
            Value.list(),
            Value.list(
                Value.NULL,
                Value.NULL,
                Value.NULL,
                new Value.Struct("P", Map.of("name", Value.i32(1)))));
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                Coercion.coerce(
                    args, Type.parse("list<list<optional<struct P{name: string}>>>"), "args"));
    assertTrue(
        e.status().description().startsWith("args[1][3].name is i32 1, expected string"),
        e.status().description());
  }

  @Test
  void wrongArityNamesTheSignature() {
    Signature s = Signature.parse("m.add(a: i32, b: i32) -> i32");
    StatusException e =
        assertThrows(StatusException.class, () -> Coercion.arguments(s, List.of(Value.i32(1))));
    assertEquals(
        "m.add takes 2 arguments (a: i32, b: i32) -> i32, got 1", e.status().description());
  }

  @Test
  void argumentErrorsNameTheParameter() {
    Signature s = Signature.parse("m.f(a: i32, xs: list<i8>) -> i32");
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                Coercion.arguments(
                    s, List.of(Value.i32(1), Value.list(Value.i32(1), Value.i32(999)))));
    assertTrue(
        e.status().description().startsWith("args[1][1] (xs) is 999"), e.status().description());
  }

  @Test
  void structsRejectUnknownAndMissingFields() {
    Type p = Type.parse("struct P{x: f64, y: f64}");
    StatusException extra =
        assertThrows(
            StatusException.class,
            () ->
                Coercion.coerce(
                    new Value.Struct(
                        "P", Map.of("x", Value.f64(1), "y", Value.f64(2), "z", Value.f64(3))),
                    p,
                    "p"));
    assertTrue(extra.status().description().contains("p.z is not a field"));
  }

  @Test
  void ndarraysKeepTheirDtypeAndShapeIsChecked() {
    Value.NdArray a = Value.NdArray.allocate(Type.Scalar.F64, 2, 3);
    assertSame(a, accepted(a, "ndarray<f64>[2,?]"));
    assertTrue(rejected(a, "ndarray<f64>[3,?]").contains("has shape [2, 3]"));
    assertTrue(rejected(a, "ndarray<f32>").contains("never converted element by element"));
  }

  @Test
  void aNestedListBecomesAnNdarray() {
    Value v =
        accepted(
            Value.list(
                Value.list(Value.i32(1), Value.i32(2)), Value.list(Value.i32(3), Value.i32(4))),
            "ndarray<f64>");
    Value.NdArray a = (Value.NdArray) v;
    assertEquals(List.of(2L, 2L), List.of(a.shape()[0], a.shape()[1]));
    assertEquals(4.0, a.elementAsDouble(3));
    assertTrue(
        rejected(Value.list(Value.list(Value.i32(1)), Value.list()), "ndarray<f64>")
            .contains("rectangular"));
  }

  @Test
  void anyAcceptsEverything() {
    Value v = Value.bytes(new byte[] {1});
    assertSame(v, accepted(v, "any"));
  }
}
