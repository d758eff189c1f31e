package io.polycall.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ValueCodecTest {
  private final ValueCodec codec = ValueCodec.of();

  @Test
  void anAliasingCodecWritesTheSameBytesAsACopyingOneAndTheFrameDecodesToAnEqualArray()
      throws Exception {
    Value.NdArray nativeArray = Value.NdArray.copyOf(new double[] {1.5, -2, Double.NaN, 4e300});
    Value.NdArray heapArray =
        (Value.NdArray) ValueCodec.of().decode(ValueCodec.of().encode(nativeArray)); // long[]
    for (Value.NdArray a : List.of(nativeArray, heapArray)) {
      io.polycall.wire.proto.Frame f =
          io.polycall.wire.proto.Frame.newBuilder()
              .setResult(
                  io.polycall.wire.proto.Result.newBuilder()
                      .setValue(ValueCodec.of().aliasingNdArrays().encode(a)))
              .build();
      byte[] aliased = FrameCodec.encode(f);
      byte[] copied =
          FrameCodec.encode(
              f.toBuilder()
                  .setResult(f.getResult().toBuilder().setValue(ValueCodec.of().encode(a)))
                  .build());
      assertTrue(java.util.Arrays.equals(copied, aliased));
      // Read back through a FrameReader (which aliases the frame's bytes while parsing).
      io.polycall.wire.proto.Frame back =
          FrameReader.of()
              .read(
                  java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(aliased)));
      assertEquals(a, ValueCodec.of().decode(back.getResult().getValue()));
    }
  }

  @Test
  void everyVectorValueSurvivesARoundTripThroughTheProtoObject() {
    VectorGenerator.namedValues()
        .forEach((name, v) -> assertEquals(v, codec.decode(codec.encode(v)), name));
  }

  @Test
  void nanKeepsItsBitPatternAndNegativeZeroStaysNegative() {
    double nan = Double.longBitsToDouble(0x7ff8_0000_0000_0001L);
    Value.Float back = (Value.Float) codec.decode(codec.encodeToBytes(Value.f64(nan)));
    assertEquals(0x7ff8_0000_0000_0001L, Double.doubleToRawLongBits(back.value()));
    Value.Float z = (Value.Float) codec.decode(codec.encodeToBytes(Value.f64(-0.0)));
    assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(z.value()));
  }

  @Test
  void aBadElementDeepInsideIsNamedByItsPath() {
    var bad =
        io.polycall.wire.proto.Value.newBuilder()
            .setIntValue(300)
            .setWidth(io.polycall.wire.proto.Scalar.I8);
    var point =
        io.polycall.wire.proto.Value.newBuilder()
            .setStructValue(
                io.polycall.wire.proto.StructValue.newBuilder()
                    .setName("P")
                    .addFields(
                        io.polycall.wire.proto.StructField.newBuilder()
                            .setName("x")
                            .setValue(bad)));
    var list =
        io.polycall.wire.proto.Value.newBuilder()
            .setListValue(
                io.polycall.wire.proto.ListValue.newBuilder()
                    .addItems(codec.encode(Value.i64(1)))
                    .addItems(point))
            .build();
    StatusException e = assertThrows(StatusException.class, () -> codec.decode(list, "args[1]"));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertEquals("args[1][1].x: 300 does not fit in i8", e.status().description());
  }

  private static Value nestedMaps(int depth) {
    Value v = Value.i64(1);
    for (int i = 0; i < depth; i++) {
      v = new Value.Dict(Map.of(Value.str("k"), v));
    }
    return v;
  }

  @Test
  void oneLevelTooDeepIsRefusedNamingTheDepth() {
    assertEquals(nestedMaps(32), codec.decode(codec.encodeToBytes(nestedMaps(32))));
    byte[] bytes = codec.encodeToBytes(nestedMaps(33));
    StatusException e = assertThrows(StatusException.class, () -> codec.decode(bytes));
    assertTrue(e.getMessage().contains("depth 33"), e.getMessage());
    assertTrue(e.getMessage().contains("limit of 32"), e.getMessage());
  }

  @Test
  void aDeeperLimitAcceptsWhatTheDefaultRefuses() {
    byte[] bytes = codec.encodeToBytes(nestedMaps(40));
    assertThrows(StatusException.class, () -> codec.decode(bytes));
    assertEquals(nestedMaps(40), ValueCodec.of(WireLimits.DEFAULT.withMaxDepth(40)).decode(bytes));
  }

  @Test
  void structFieldOrderIsKept() {
    var fields = new java.util.LinkedHashMap<String, Value>();
    fields.put("z", Value.i32(1));
    fields.put("a", Value.i32(2));
    fields.put("m", Value.i32(3));
    Value.Struct s = (Value.Struct) codec.decode(codec.encode(new Value.Struct("S", fields)));
    assertEquals(List.of("z", "a", "m"), List.copyOf(s.fields().keySet()));
  }

  @Test
  void anF32ArrivesAsTheNearestFloat() {
    var w =
        io.polycall.wire.proto.Value.newBuilder()
            .setFloatValue(0.1)
            .setWidth(io.polycall.wire.proto.Scalar.F32)
            .build();
    assertEquals(Value.f32(0.1f), codec.decode(w));
  }

  @Test
  void aStatusWithFramesSurvivesTheWire() {
    Status s =
        Status.NOT_FOUND
            .withDescription("no such function")
            .withFrames(List.of(new Status.StackFrame("python", "f", "f.py", 3)));
    Status back = StatusCodec.decode(StatusCodec.encode(s));
    assertEquals(s, back);
    assertEquals(s.frames(), back.frames());
    assertEquals(Status.OK, StatusCodec.decode(StatusCodec.encode(Status.OK)));
  }

  @Test
  void anUnknownStatusCodeBecomesUnknownAndKeepsTheNumber() {
    Status s =
        StatusCodec.decode(
            io.polycall.wire.proto.Status.newBuilder().setCode(99).setMessage("odd").build());
    assertEquals(Status.Code.UNKNOWN, s.code());
    assertTrue(s.description().contains("99"));
  }

  @Test
  void fnSignaturesTravelAsCanonicalText() {
    Value fn = new Value.Fn("cb", (Type.Fn) Type.parse("fn(i64, string) -> bool"));
    assertEquals("fn(i64, string) -> bool", codec.encode(fn).getFnValue().getSignature());
    assertEquals(fn, codec.decode(codec.encode(fn)));
  }
}
