package io.polycall.ffi.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.Type;
import io.polycall.ffi.internal.Declaration.CParam;
import io.polycall.ffi.internal.Declaration.Check;
import io.polycall.ffi.internal.Declaration.Derive;
import io.polycall.ffi.internal.Declaration.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeclarationParserTest {

  @Test
  void theSymbolDefaultsToTheLastSegmentOfTheName() {
    Declaration d = DeclarationParser.parse("math.trig.cos(x: f64) -> f64");

    assertEquals("math.trig.cos", d.name());
    assertEquals("cos", d.symbol());
    assertEquals(Type.Scalar.F64, d.result());
    assertFalse(d.options().critical());
  }

  @Test
  void optionsFollowInBrackets() {
    Declaration d =
        DeclarationParser.parse(
            "t.div(a: i64, b: i64, q: out i64) -> i32"
                + " [symbol=checked_div, error=nonzero, errno, status=INVALID_ARGUMENT,"
                + " message=pc_last_error, pure, critical]");

    assertEquals("checked_div", d.symbol());
    assertEquals(Check.NONZERO, d.options().check());
    assertTrue(d.options().errno());
    assertTrue(d.options().critical());
    assertEquals(Status.Code.INVALID_ARGUMENT, d.options().status());
    assertEquals("pc_last_error", d.options().message());
    assertEquals(java.util.Set.of("pure"), d.options().tags());
  }

  @Test
  void aTrailingNdarrayShapeIsNotMistakenForOptions() {
    Declaration d = DeclarationParser.parse("t.eye() -> ndarray<f64>[3,?]");

    assertEquals(Type.parse("ndarray<f64>[3,?]"), d.result());
  }

  @Test
  void modesPointersDerivedLengthsAndCapacitiesAreRead() {
    Declaration d =
        DeclarationParser.parse(
            "z.compress(dest: out bytes[destLen], destLen: inout u64, source: bytes,"
                + " sourceLen: u64 = len(source), p: *struct P{x: f64}, h: release handle<mem>,"
                + " k: i32 = 7, buf: out ndarray<f32>[16])");
    List<CParam> ps = d.params();

    assertEquals(Mode.OUT, ps.get(0).mode());
    assertEquals("destLen", ps.get(0).sizeOf());
    assertTrue(ps.get(0).isOutBuffer());
    assertEquals(Mode.INOUT, ps.get(1).mode());
    assertEquals(new Derive(Derive.Kind.LEN, "source", 0), ps.get(3).derive());
    assertFalse(ps.get(3).visible());
    assertTrue(ps.get(4).pointer());
    assertEquals(Mode.RELEASE, ps.get(5).mode());
    assertEquals(new Derive(Derive.Kind.CONST, null, 7), ps.get(6).derive());
    assertEquals(16, ps.get(7).sizeFixed());
    assertEquals(Type.NdArray.of(Type.Scalar.F32), ps.get(7).type());
    assertNull(d.result());
  }

  @Test
  void callbackParametersMayBePointers() {
    CParam cmp =
        DeclarationParser.parse("c.qsort(cmp: fn(*i32, *i32) -> i32, f: fn(f64) -> null)")
            .params()
            .getFirst();

    assertEquals(Type.parse("fn(i32, i32) -> i32"), cmp.type());
    assertEquals(List.of(true, true), cmp.callbackPointers());
  }
}
