package io.polycall.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Coercion;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonValuesTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "null",
        "true",
        "false",
        "0",
        "-42",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "1.5",
        "-0.25",
        "\"text with \\\"quotes\\\" and \u20ac\"",
        "[]",
        "[1,2.5,\"x\",null,[true]]",
        "{}",
        "{\"a\":1,\"b\":{\"c\":[1,2]}}"
      })
  void plainJsonRoundTripsThroughValuesUnchanged(String json) {
    assertEquals(json, JsonValues.toJsonText(JsonValues.parse(json, "test")));
  }

  @Test
  void integersBecomeI64AndDecimalsF64() {
    assertEquals(Value.i64(7), JsonValues.parse("7", "t"));
    assertEquals(Value.f64(7.5), JsonValues.parse("7.5", "t"));
  }

  @Test
  void anIntegerAboveLongMaxBecomesU64AndPrintsUnsigned() {
    Value v = JsonValues.parse("18446744073709551615", "t");
    assertEquals(Value.u64(-1L), v);
    assertEquals("18446744073709551615", JsonValues.toJsonText(Value.u64(-1L)));
  }

  @Test
  void anIntegerBeyond64BitsIsRefusedByTheCoreForIntegerTypes() {
    Value v = JsonValues.parse("36893488147419103232", "t"); // 2^65
    StatusException e =
        assertThrows(StatusException.class, () -> Coercion.coerce(v, Type.Scalar.U64, "x"));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
  }

  @Test
  void anArrayBecomesAListThatTheCoreTurnsIntoAnNdarray() {
    Value v = JsonValues.parse("[[1, 2], [3, 4.5]]", "t");
    Value nd = Coercion.coerce(v, Type.NdArray.of(Type.Scalar.F64), "x");
    assertTrue(nd instanceof Value.NdArray);
    assertArrayEquals(new long[] {2, 2}, ((Value.NdArray) nd).shape());
    assertEquals("[[1.0,2.0],[3.0,4.5]]", JsonValues.toJsonText(nd));
  }

  @Test
  void ndarraysOfEveryWidthPrintAsNestedArraysOfNumbers() {
    assertEquals("[1,2,3]", JsonValues.toJsonText(Value.NdArray.copyOf(new int[] {1, 2, 3})));
    assertEquals("[0.5,1.0]", JsonValues.toJsonText(Value.NdArray.copyOf(new float[] {0.5f, 1})));
    Value.NdArray u8 = Value.NdArray.allocate(Type.Scalar.U8, 2);
    u8.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 255);
    assertEquals("[255,0]", JsonValues.toJsonText(u8));
    Value.NdArray u64 = Value.NdArray.allocate(Type.Scalar.U64, 1);
    u64.data().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, -1L);
    assertEquals("[18446744073709551615]", JsonValues.toJsonText(u64));
  }

  @Test
  void bytesPrintAsBase64AndReadBackFromBase64OrText() {
    byte[] raw = {0, 1, 2, (byte) 0xff};
    String json = JsonValues.toJsonText(Value.bytes(raw));
    assertEquals("\"AAEC/w==\"", json);
    Value back = JsonValues.parse("{\"base64\": \"AAEC/w==\"}", Type.Scalar.BYTES, "t");
    assertArrayEquals(raw, ((Value.Bytes) back).value());
    Value text = JsonValues.parse("\"h\\u00e9\"", Type.Scalar.BYTES, "t");
    assertArrayEquals("h\u00e9".getBytes(StandardCharsets.UTF_8), ((Value.Bytes) text).value());
  }

  @Test
  void aStructPrintsAsAnObjectAndAnObjectCoercesToTheDeclaredStruct() {
    Map<String, Value> fields = new LinkedHashMap<>();
    fields.put("x", Value.f64(1));
    fields.put("y", Value.f64(2));
    Value.Struct p = new Value.Struct("Point", fields);
    String json = JsonValues.toJsonText(p);
    assertEquals("{\"x\":1.0,\"y\":2.0}", json);
    Type point = Type.parse("struct Point{x: f64, y: f64}");
    assertEquals(p, Coercion.coerce(JsonValues.parse(json, point, "t"), point, "p"));
  }

  @Test
  void aStringForAFnParameterNamesAFunction() {
    Type fn = Type.parse("fn(i64) -> i64");
    assertEquals(
        new Value.Fn("math.twice", (Type.Fn) fn), JsonValues.parse("\"math.twice\"", fn, "t"));
    assertEquals(
        "{\"fn\":\"math.twice\"}", JsonValues.toJsonText(new Value.Fn("math.twice", null)));
  }

  @Test
  void aHandleRoundTripsAsAnObject() {
    Value.Handle h = new Value.Handle("file", 7, 2);
    String json = JsonValues.toJsonText(h);
    assertEquals("{\"handle\":\"file\",\"id\":7,\"generation\":2}", json);
    assertEquals(h, JsonValues.parse(json, new Type.Handle("file"), "t"));
  }

  @Test
  void aDecimalForAnF32IsTheNearestF32NotARefusedF64() {
    Value v = JsonValues.parse("0.1", Type.Scalar.F32, "t");
    assertEquals(Value.f32(0.1f), v);
    assertEquals("0.1", JsonValues.toJsonText(v));
  }

  @Test
  void optionalTypesReadTheirInnerTypeAndNull() {
    Type opt = Type.parse("optional<bytes>");
    assertEquals(Value.NULL, JsonValues.parse("null", opt, "t"));
    assertTrue(JsonValues.parse("\"x\"", opt, "t") instanceof Value.Bytes);
  }

  @Test
  void nanAndInfinityPrintAsStrings() {
    assertEquals("\"NaN\"", JsonValues.toJsonText(Value.f64(Double.NaN)));
    assertEquals("\"-Infinity\"", JsonValues.toJsonText(Value.f64(Double.NEGATIVE_INFINITY)));
  }

  @Test
  void mapsWithNonStringKeysUseTheKeysJsonText() {
    Value.Dict d = new Value.Dict(Map.of(Value.i32(1), Value.str("one")));
    assertEquals("{\"1\":\"one\"}", JsonValues.toJsonText(d));
  }

  @Test
  void textThatIsNotJsonIsInvalidArgumentWithAHintAboutQuoting() {
    StatusException e =
        assertThrows(StatusException.class, () -> JsonValues.parse("hello", "argument 1"));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.getMessage().contains("argument 1 is not JSON"), e.getMessage());
    assertTrue(e.getMessage().contains("double quotes"), e.getMessage());
  }

  @Test
  void plainJavaValuesPrintAsExpected() {
    assertEquals("[1,\"a\",true]", JsonValues.toJsonText(Value.of(List.of(1, "a", true))));
  }

  // ---- the HTTP dialect ---------------------------------------------------------------------

  private static Value http(String json, Type t) {
    return JsonValues.toValue(JsonValues.readTree(json, "t"), t, JsonValues.Dialect.HTTP);
  }

  @Test
  void inTheHttpDialectAStringForBytesIsBase64AndBytesComeBackAsBase64() {
    Value v = http("\"AAEC/w==\"", Type.Scalar.BYTES);
    assertArrayEquals(new byte[] {0, 1, 2, -1}, ((Value.Bytes) v).value());
    assertEquals("\"AAEC/w==\"", JsonValues.toJson(v, JsonValues.Dialect.HTTP).toString());
    StatusException e =
        assertThrows(StatusException.class, () -> http("\"%%%\"", Type.Scalar.BYTES));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
  }

  @Test
  void integersWrittenAsStringsAndFloatWordsAreReadWhereTheTypeSaysSo() {
    assertEquals(Value.u64(-1L), http("\"18446744073709551615\"", Type.Scalar.U64));
    assertEquals(Value.i64(-5), http("\"-5\"", Type.Scalar.I64));
    assertTrue(Double.isNaN(((Value.Float) http("\"NaN\"", Type.Scalar.F64)).value()));
    assertEquals(
        Double.NEGATIVE_INFINITY, ((Value.Float) http("\"-Infinity\"", Type.Scalar.F64)).value());
    assertEquals(Value.str("12"), http("\"12\"", Type.Scalar.STRING));
  }

  @Test
  void anNdarrayIsWrittenAsABlockAndReadBackFromIt() {
    Value.NdArray a = Value.NdArray.copyOf(new int[] {1, 2, 3, 4});
    var block = JsonValues.toJson(a, JsonValues.Dialect.HTTP);
    assertEquals("i32", block.get("dtype").asText());
    assertEquals("[4]", block.get("shape").toString());
    Value back = http(block.toString(), new Type.NdArray(Type.Scalar.I32, List.of(4L)));
    assertEquals(a, back);
    StatusException wrongSize =
        assertThrows(
            StatusException.class,
            () ->
                http(
                    "{\"dtype\": \"i32\", \"shape\": [3], \"data\": \"AAAA\"}",
                    Type.NdArray.of(Type.Scalar.I32)));
    assertTrue(wrongSize.getMessage().contains("needs 12"), wrongSize.getMessage());
    StatusException badDtype =
        assertThrows(
            StatusException.class,
            () ->
                http(
                    "{\"dtype\": \"str\", \"shape\": [], \"data\": \"\"}",
                    Type.NdArray.of(Type.Scalar.I32)));
    assertTrue(badDtype.getMessage().contains("dtype 'str'"), badDtype.getMessage());
  }
}
