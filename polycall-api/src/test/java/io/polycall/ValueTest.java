package io.polycall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ValueTest {
  record Point(double x, double y) {}

  @Test
  void plainJavaValuesKeepTheirWidths() {
    assertEquals(Value.i32(1), Value.of(1));
    assertEquals(Value.i64(1), Value.of(1L));
    assertEquals(Value.f32(1f), Value.of(1f));
    assertEquals(Value.str("a"), Value.of("a"));
    assertEquals(Value.NULL, Value.of(null));
  }

  @Test
  void collectionsRecordsAndArraysConvert() {
    assertEquals(Value.list(Value.i32(1), Value.i32(2)), Value.of(List.of(1, 2)));
    Value.Struct s = (Value.Struct) Value.of(new Point(1, 2));
    assertEquals("Point", s.name());
    assertEquals(Value.f64(2), s.field("y"));
    Value.NdArray a = (Value.NdArray) Value.of(new double[] {1, 2, 3});
    assertArrayEquals(new double[] {1, 2, 3}, a.toDoubleArray());
    assertEquals(Map.of("k", 1), Value.of(Map.of("k", 1)).toJava());
  }

  @Test
  void anUnsupportedJavaTypeIsInvalidArgument() {
    StatusException e = assertThrows(StatusException.class, () -> Value.of(new Object()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
  }

  @Test
  void anNdarrayRefusesASegmentOfTheWrongSize() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Value.NdArray.of(
                Type.Scalar.F64,
                new long[] {3},
                java.lang.foreign.MemorySegment.ofArray(new byte[8])));
  }

  @Test
  void u64PrintsUnsigned() {
    assertEquals("18446744073709551615", Value.u64(-1).toString());
  }
}
