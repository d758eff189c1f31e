package io.polycall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SignatureTest {

  @Test
  void aSimpleSignatureParsesIntoNameParamsAndResult() {
    Signature s = Signature.parse("math.cos(x: f64) -> f64");
    assertEquals("math.cos", s.name());
    assertEquals(List.of(new Signature.Param("x", Type.Scalar.F64)), s.params());
    assertEquals(Type.Scalar.F64, s.result());
    assertEquals("math", s.namespace());
  }

  @Test
  void aSignatureWithoutResultReturnsNull() {
    assertEquals(Type.Scalar.NULL, Signature.parse("log.write(line: string)").result());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "math.cos(x: f64) -> f64",
        "stats.mean(xs: ndarray<f64>) -> f64",
        "m.f(a: list<map<string, list<i32>>>, b: optional<bytes>) -> null",
        "geo.mid(a: struct Point{x: f64, y: f64}) -> struct Point{x: f64, y: f64}",
        "img.blur(px: ndarray<u8>[?,?,3], k: handle<kernel>) -> ndarray<u8>[?,?,3]",
        "c.qsort(cmp: fn(i32, i32) -> i32) -> null",
        "a.b.c.d(x: any, y: u64, z: i16, w: bool, v: f32) -> struct{}",
      })
  void printingAParsedSignatureGivesTheSameText(String text) {
    assertEquals(text, Signature.parse(text).toString());
    assertEquals(Signature.parse(text), Signature.parse(Signature.parse(text).toString()));
  }

  @Test
  void aQuestionMarkIsShorthandForOptional() {
    assertEquals(new Type.OptionalOf(Type.Scalar.STRING), Type.parse("string?"));
  }

  @Test
  void fnParametersMayBeNamed() {
    assertEquals(Type.parse("fn(i64) -> i64"), Type.parse("fn(x: i64) -> i64"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "math.cos(x: f65) -> f64",
        "math.cos(x f64) -> f64",
        "math.cos(x: f64 -> f64",
        "math.cos(x: f64) -> ",
        "(x: f64) -> f64",
        "m.f(a: list<i32) -> i32",
        "m.f(a: ndarray<string>) -> i32",
        "m.f(a: i32, a: i32) -> i32",
        "m.f() -> i32 trailing",
        "",
      })
  void aMalformedSignatureIsInvalidArgumentWithTheColumn(String text) {
    StatusException e = assertThrows(StatusException.class, () -> Signature.parse(text));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.status().description().startsWith("malformed"), e.status().description());
  }

  @Test
  void theErrorPointsAtTheBadColumn() {
    StatusException e =
        assertThrows(StatusException.class, () -> Signature.parse("math.cos(x: f65) -> f64"));
    assertTrue(e.status().description().contains("column 13"), e.status().description());
    assertTrue(e.status().description().contains("unknown type 'f65'"), e.status().description());
  }

  @Test
  void functionRefsCarryAnOptionalVersion() {
    assertEquals(new FunctionRef("math.cos", 0), FunctionRef.parse("math.cos"));
    assertEquals(new FunctionRef("math.cos", 2), FunctionRef.parse("math.cos@2"));
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        assertThrows(StatusException.class, () -> FunctionRef.parse("math.cos@x")).status().code());
  }
}
