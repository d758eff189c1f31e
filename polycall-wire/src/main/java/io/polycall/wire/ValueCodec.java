package io.polycall.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.wire.proto.FnRef;
import io.polycall.wire.proto.ListValue;
import io.polycall.wire.proto.MapEntry;
import io.polycall.wire.proto.MapValue;
import io.polycall.wire.proto.NdArray;
import io.polycall.wire.proto.NullValue;
import io.polycall.wire.proto.Scalar;
import io.polycall.wire.proto.StructField;
import io.polycall.wire.proto.StructValue;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts {@link Value} to and from the wire's {@code polycall.v1.Value}, exactly as WIRE.md
 * specifies, so that Java, Python, Node and Go produce the same bytes (see {@code spec/vectors}).
 *
 * <p>Encoding never fails for a well-formed {@link Value}. Decoding checks everything a receiver
 * must check before a value is used, and refuses with a {@link StatusException} whose status is
 * {@code INVALID_ARGUMENT} and whose message names the path of the bad element ({@code value[1].x})
 * and what was wrong:
 *
 * <ul>
 *   <li>a Value with no kind set (or only a kind this version does not know);
 *   <li>a width on the wrong kind ({@code I8} on a float), or an integer outside its width;
 *   <li>an ndarray whose dtype is unset or unknown, or whose data is not exactly {@code
 *       product(shape) * size(dtype)} bytes, or a bool element other than 0 or 1;
 *   <li>duplicate map keys, duplicate struct field names;
 *   <li>nesting deeper than {@link WireLimits#maxDepth()}. Depth counts the list, map and struct
 *       values on the way down: a scalar has depth 0, {@code [1]} depth 1, {@code [[1]]} depth 2.
 *   <li>bytes that do not parse, including invalid UTF-8 in a string (for the byte-array forms).
 * </ul>
 *
 * <p>An ndarray travels as one little-endian block: encoding copies the segment's bytes once,
 * decoding copies the block once into a fresh native segment (8-byte aligned, freed when
 * unreachable). This assumes a little-endian platform, which every JDK 25 port PolyCall runs on is;
 * the class refuses to load elsewhere rather than send wrong bytes.
 *
 * <p>Immutable and thread-safe; methods do not block.
 */
public final class ValueCodec {

  static {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new ExceptionInInitializerError(
          "PolyCall's wire sends ndarrays little-endian as the platform; this platform is "
              + ByteOrder.nativeOrder());
    }
  }

  private static final ValueCodec DEFAULT = new ValueCodec(WireLimits.DEFAULT_MAX_DEPTH);

  private final int maxDepth;
  private final boolean aliasNdArrays;

  private ValueCodec(int maxDepth) {
    this(maxDepth, false);
  }

  private ValueCodec(int maxDepth, boolean aliasNdArrays) {
    if (maxDepth <= 0) {
      throw new IllegalArgumentException("maxDepth must be positive, not " + maxDepth);
    }
    this.maxDepth = maxDepth;
    this.aliasNdArrays = aliasNdArrays;
  }

  /**
   * This codec, except that {@link #encode} does not copy ndarray data: the wire value reads the
   * array's memory when it is serialized. Only for a value serialized at once on the encoding
   * thread (the memory may be confined to it, freed or changed afterwards); it saves one copy of
   * every array (about 1 ms per 8 MB).
   */
  public ValueCodec aliasingNdArrays() {
    return aliasNdArrays ? this : new ValueCodec(maxDepth, true);
  }

  /** A codec with WIRE.md's default depth limit. */
  public static ValueCodec of() {
    return DEFAULT;
  }

  /** A codec with the depth limit of {@code limits}. */
  public static ValueCodec of(WireLimits limits) {
    return limits.maxDepth() == WireLimits.DEFAULT_MAX_DEPTH
        ? DEFAULT
        : new ValueCodec(limits.maxDepth());
  }

  /** The deepest nesting of list, map and struct values that {@link #decode} accepts. */
  public int maxDepth() {
    return maxDepth;
  }

  // ---- encode ---------------------------------------------------------------------------------

  /** The wire form of {@code value}. */
  public io.polycall.wire.proto.Value encode(Value value) {
    var b = io.polycall.wire.proto.Value.newBuilder();
    switch (value) {
      case Value.Null n -> b.setNullValue(NullValue.NULL_VALUE);
      case Value.Bool v -> b.setBoolValue(v.value());
      case Value.Int v -> {
        if (v.type().isSigned()) {
          b.setIntValue(v.value());
          if (v.type() != Type.Scalar.I64) {
            b.setWidth(toProto(v.type()));
          }
        } else {
          b.setUintValue(v.value());
          if (v.type() != Type.Scalar.U64) {
            b.setWidth(toProto(v.type()));
          }
        }
      }
      case Value.Float v -> {
        b.setFloatValue(v.value());
        if (v.type() == Type.Scalar.F32) {
          b.setWidth(Scalar.F32);
        }
      }
      case Value.Str v -> b.setStringValue(v.value());
      case Value.Bytes v -> b.setBytesValue(ByteString.copyFrom(v.value()));
      case Value.Seq v -> {
        var list = ListValue.newBuilder();
        for (Value item : v.items()) {
          list.addItems(encode(item));
        }
        b.setListValue(list);
      }
      case Value.Dict v -> {
        var map = MapValue.newBuilder();
        v.entries()
            .forEach(
                (k, x) ->
                    map.addEntries(MapEntry.newBuilder().setKey(encode(k)).setValue(encode(x))));
        b.setMapValue(map);
      }
      case Value.Struct v -> {
        var st = StructValue.newBuilder().setName(v.name());
        v.fields()
            .forEach(
                (n, x) -> st.addFields(StructField.newBuilder().setName(n).setValue(encode(x))));
        b.setStructValue(st);
      }
      case Value.NdArray v -> {
        var nd = NdArray.newBuilder().setDtype(toProto(v.dtype()));
        for (long d : v.shape()) {
          nd.addShape(d);
        }
        // One copy out of the segment; the array is handed to protobuf without a second one.
        // An aliasing codec copies nothing here: protobuf reads the segment when it serializes.
        // (Only native memory or a byte[] can be seen as a ByteBuffer.)
        var seg = v.data();
        nd.setData(
            aliasNdArrays && (seg.isNative() || seg.heapBase().orElse(null) instanceof byte[])
                ? UnsafeByteOperations.unsafeWrap(seg.asByteBuffer())
                : UnsafeByteOperations.unsafeWrap(seg.toArray(ValueLayout.JAVA_BYTE)));
        b.setNdarrayValue(nd);
      }
      case Value.Handle v ->
          b.setHandleValue(
              io.polycall.wire.proto.Handle.newBuilder()
                  .setKind(v.kind())
                  .setId(v.id())
                  .setGeneration(v.generation()));
      case Value.Fn v ->
          b.setFnValue(
              FnRef.newBuilder()
                  .setName(v.name())
                  .setSignature(v.signature() == null ? "" : v.signature().toString()));
    }
    return b.build();
  }

  /** The encoded bytes of {@code value}'s wire form. */
  public byte[] encodeToBytes(Value value) {
    return encode(value).toByteArray();
  }

  // ---- decode ---------------------------------------------------------------------------------

  /**
   * The value of a wire {@code Value}, checked.
   *
   * @throws StatusException INVALID_ARGUMENT naming the path of the bad element
   */
  public Value decode(io.polycall.wire.proto.Value wire) {
    return decode(wire, "value");
  }

  /**
   * The value of a wire {@code Value}, checked; errors name paths starting at {@code path} (for
   * instance {@code "args[2]"}).
   *
   * @throws StatusException INVALID_ARGUMENT naming the path of the bad element
   */
  public Value decode(io.polycall.wire.proto.Value wire, String path) {
    return decode(wire, path, 0);
  }

  /**
   * The value encoded in {@code bytes} (a serialized {@code polycall.v1.Value}), checked.
   *
   * @throws StatusException INVALID_ARGUMENT when the bytes do not parse or the value is invalid
   */
  public Value decode(byte[] bytes) {
    return decode(parse(bytes), "value");
  }

  /**
   * Parses a serialized {@code polycall.v1.Value} with a protobuf recursion limit high enough for
   * {@link #maxDepth()}, without the semantic checks of {@link #decode}.
   *
   * @throws StatusException INVALID_ARGUMENT when the bytes do not parse
   */
  public io.polycall.wire.proto.Value parse(byte[] bytes) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.setRecursionLimit(new WireLimits(1, maxDepth, 0).protobufRecursionLimit());
    try {
      io.polycall.wire.proto.Value v = io.polycall.wire.proto.Value.parseFrom(in);
      in.checkLastTagWas(0);
      return v;
    } catch (java.io.IOException e) {
      throw invalid("value", "bytes are not a valid polycall.v1.Value: " + e.getMessage());
    }
  }

  private Value decode(io.polycall.wire.proto.Value w, String path, int depth) {
    Scalar width = w.getWidth();
    if (width == Scalar.UNRECOGNIZED) {
      throw invalid(path, "unknown width " + w.getWidthValue());
    }
    var kind = w.getKindCase();
    if (kind == io.polycall.wire.proto.Value.KindCase.KIND_NOT_SET) {
      throw invalid(
          path,
          w.getUnknownFields().asMap().isEmpty()
              ? "a Value with no kind set"
              : "a Value whose kind this version does not know (field "
                  + w.getUnknownFields().asMap().keySet()
                  + ")");
    }
    if (width != Scalar.SCALAR_UNSPECIFIED
        && kind != io.polycall.wire.proto.Value.KindCase.INT_VALUE
        && kind != io.polycall.wire.proto.Value.KindCase.UINT_VALUE
        && kind != io.polycall.wire.proto.Value.KindCase.FLOAT_VALUE) {
      throw invalid(path, "width " + width + " on a " + kindName(kind));
    }
    return switch (kind) {
      case NULL_VALUE -> {
        if (w.getNullValueValue() != 0) {
          throw invalid(path, "unknown null_value " + w.getNullValueValue());
        }
        yield Value.NULL;
      }
      case BOOL_VALUE -> Value.bool(w.getBoolValue());
      case INT_VALUE -> decodeInt(w.getIntValue(), width, path);
      case UINT_VALUE -> decodeUint(w.getUintValue(), width, path);
      case FLOAT_VALUE -> decodeFloat(w.getFloatValue(), width, path);
      case STRING_VALUE -> Value.str(w.getStringValue());
      case BYTES_VALUE -> new Value.Bytes(w.getBytesValue().toByteArray());
      case LIST_VALUE -> {
        int d = checkDepth(path, depth + 1);
        List<io.polycall.wire.proto.Value> items = w.getListValue().getItemsList();
        List<Value> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
          out.add(decode(items.get(i), path + "[" + i + "]", d));
        }
        yield new Value.Seq(out);
      }
      case MAP_VALUE -> {
        int d = checkDepth(path, depth + 1);
        List<MapEntry> entries = w.getMapValue().getEntriesList();
        Map<Value, Value> out = LinkedHashMap.newLinkedHashMap(entries.size());
        for (int i = 0; i < entries.size(); i++) {
          MapEntry e = entries.get(i);
          String at = path + "{" + i + "}";
          if (!e.hasKey()) {
            throw invalid(at, "map entry has no key");
          }
          if (!e.hasValue()) {
            throw invalid(at, "map entry has no value");
          }
          Value k = decode(e.getKey(), at + ".key", d);
          Value v = decode(e.getValue(), at + ".value", d);
          if (out.putIfAbsent(k, v) != null) {
            throw invalid(at, "duplicate map key " + k);
          }
        }
        yield new Value.Dict(out);
      }
      case STRUCT_VALUE -> {
        int d = checkDepth(path, depth + 1);
        StructValue st = w.getStructValue();
        Map<String, Value> fields = LinkedHashMap.newLinkedHashMap(st.getFieldsCount());
        for (StructField f : st.getFieldsList()) {
          String at = path + "." + f.getName();
          if (!f.hasValue()) {
            throw invalid(at, "struct field has no value");
          }
          if (fields.putIfAbsent(f.getName(), decode(f.getValue(), at, d)) != null) {
            throw invalid(at, "duplicate struct field " + f.getName());
          }
        }
        yield new Value.Struct(st.getName(), fields);
      }
      case NDARRAY_VALUE -> decodeNdArray(w.getNdarrayValue(), path);
      case HANDLE_VALUE -> {
        var h = w.getHandleValue();
        yield new Value.Handle(h.getKind(), h.getId(), h.getGeneration());
      }
      case FN_VALUE -> {
        FnRef f = w.getFnValue();
        if (f.getName().isEmpty()) {
          throw invalid(path, "fn value with an empty name");
        }
        Type.Fn sig = null;
        if (!f.getSignature().isEmpty()) {
          Type t;
          try {
            t = Type.parse(f.getSignature());
          } catch (StatusException e) {
            throw invalid(path, "fn signature: " + e.status().description());
          }
          if (!(t instanceof Type.Fn fn)) {
            throw invalid(path, "fn signature " + f.getSignature() + " is not a fn type");
          }
          sig = fn;
        }
        yield new Value.Fn(f.getName(), sig);
      }
      case KIND_NOT_SET -> throw new AssertionError("checked above");
    };
  }

  private int checkDepth(String path, int depth) {
    if (depth > maxDepth) {
      throw invalid(
          path,
          "nesting depth "
              + depth
              + " is deeper than the limit of "
              + maxDepth
              + " list/map/struct levels");
    }
    return depth;
  }

  private static Value decodeInt(long v, Scalar width, String path) {
    Type.Scalar t =
        switch (width) {
          case SCALAR_UNSPECIFIED, I64 -> Type.Scalar.I64;
          case I8 -> Type.Scalar.I8;
          case I16 -> Type.Scalar.I16;
          case I32 -> Type.Scalar.I32;
          default -> throw invalid(path, "width " + width + " on an int_value");
        };
    if (v < t.minValue() || v > t.maxValue()) {
      throw invalid(path, v + " does not fit in " + t);
    }
    return new Value.Int(v, t);
  }

  private static Value decodeUint(long bits, Scalar width, String path) {
    Type.Scalar t =
        switch (width) {
          case SCALAR_UNSPECIFIED, U64 -> Type.Scalar.U64;
          case U8 -> Type.Scalar.U8;
          case U16 -> Type.Scalar.U16;
          case U32 -> Type.Scalar.U32;
          default -> throw invalid(path, "width " + width + " on a uint_value");
        };
    if (t != Type.Scalar.U64 && Long.compareUnsigned(bits, t.maxValue()) > 0) {
      throw invalid(path, Long.toUnsignedString(bits) + " does not fit in " + t);
    }
    return new Value.Int(bits, t);
  }

  private static Value decodeFloat(double v, Scalar width, String path) {
    return switch (width) {
      case SCALAR_UNSPECIFIED, F64 -> new Value.Float(v, Type.Scalar.F64);
      case F32 -> {
        float f = (float) v;
        if (Float.isInfinite(f) && !Double.isInfinite(v)) {
          throw invalid(path, v + " does not fit in f32");
        }
        // NaN keeps its payload's top bits through the narrowing; finite values round to nearest.
        yield new Value.Float(Double.isNaN(v) ? v : f, Type.Scalar.F32);
      }
      default -> throw invalid(path, "width " + width + " on a float_value");
    };
  }

  private static Value decodeNdArray(NdArray nd, String path) {
    Scalar dtype = nd.getDtype();
    if (dtype == Scalar.UNRECOGNIZED) {
      throw invalid(path, "unknown ndarray dtype " + nd.getDtypeValue());
    }
    if (dtype == Scalar.SCALAR_UNSPECIFIED) {
      throw invalid(path, "ndarray dtype is not set");
    }
    Type.Scalar t = fromProto(dtype);
    long[] shape = new long[nd.getShapeCount()];
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = nd.getShape(i);
      if (d < 0) {
        throw invalid(path, "ndarray dimension " + Long.toUnsignedString(d) + " is too large");
      }
      shape[i] = d;
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw invalid(path, "ndarray shape " + nd.getShapeList() + " is too large");
      }
    }
    ByteString data = nd.getData();
    long want;
    try {
      want = Math.multiplyExact(n, (long) t.byteSize());
    } catch (ArithmeticException e) {
      throw invalid(path, "ndarray shape " + nd.getShapeList() + " is too large");
    }
    if (data.size() != want) {
      throw invalid(
          path,
          "ndarray of " + n + " " + t + " needs " + want + " bytes of data, got " + data.size());
    }
    // A heap array of longs: 8-byte aligned for every dtype, and its pages are already part of
    // the heap, where fresh native memory for a big array faults in page by page (about 2 ms per
    // 8 MB here). Bridges that need native memory copy into their own arena (the native bridge
    // does), so nothing downstream depends on where the bytes live.
    MemorySegment seg = MemorySegment.ofArray(new long[(int) ((want + 7) / 8)]).asSlice(0, want);
    MemorySegment.copy(MemorySegment.ofBuffer(data.asReadOnlyByteBuffer()), 0, seg, 0, want);
    if (t == Type.Scalar.BOOL) {
      for (long i = 0; i < want; i++) {
        byte b = seg.get(ValueLayout.JAVA_BYTE, i);
        if (b != 0 && b != 1) {
          throw invalid(path, "bool ndarray element " + i + " is " + (b & 0xff) + ", not 0 or 1");
        }
      }
    }
    return new Value.NdArray(t, shape, seg);
  }

  // ---- scalars ---------------------------------------------------------------------------------

  /** The wire scalar of a canonical scalar type; IllegalArgumentException for non-numeric ones. */
  public static Scalar toProto(Type.Scalar t) {
    return switch (t) {
      case BOOL -> Scalar.BOOL;
      case I8 -> Scalar.I8;
      case I16 -> Scalar.I16;
      case I32 -> Scalar.I32;
      case I64 -> Scalar.I64;
      case U8 -> Scalar.U8;
      case U16 -> Scalar.U16;
      case U32 -> Scalar.U32;
      case U64 -> Scalar.U64;
      case F32 -> Scalar.F32;
      case F64 -> Scalar.F64;
      default -> throw new IllegalArgumentException(t + " has no wire scalar");
    };
  }

  /** The canonical scalar type of a wire scalar; IllegalArgumentException when unspecified. */
  public static Type.Scalar fromProto(Scalar s) {
    return switch (s) {
      case BOOL -> Type.Scalar.BOOL;
      case I8 -> Type.Scalar.I8;
      case I16 -> Type.Scalar.I16;
      case I32 -> Type.Scalar.I32;
      case I64 -> Type.Scalar.I64;
      case U8 -> Type.Scalar.U8;
      case U16 -> Type.Scalar.U16;
      case U32 -> Type.Scalar.U32;
      case U64 -> Type.Scalar.U64;
      case F32 -> Type.Scalar.F32;
      case F64 -> Type.Scalar.F64;
      default -> throw new IllegalArgumentException("no canonical scalar for " + s);
    };
  }

  private static String kindName(io.polycall.wire.proto.Value.KindCase k) {
    return k.name().toLowerCase(java.util.Locale.ROOT);
  }

  private static StatusException invalid(String path, String what) {
    return Status.INVALID_ARGUMENT.withDescription(path + ": " + what).asException();
  }
}
