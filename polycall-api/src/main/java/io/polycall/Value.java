package io.polycall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A value of a canonical {@link Type}, as it travels between bridges.
 *
 * <p>Values are immutable, except that an {@link NdArray}'s memory belongs to whoever made it (an
 * in-out native buffer writes into it). Integers keep their declared width in {@link Int#type}, so
 * a u64 above {@code Long.MAX_VALUE} is the same bit pattern as in C.
 *
 * <p>Create values with the factories ({@link #i32}, {@link #f64}, {@link #of(Object)}, ...) and
 * take them apart with a {@code switch} over the sealed records.
 */
public sealed interface Value
    permits Value.Null,
        Value.Bool,
        Value.Int,
        Value.Float,
        Value.Str,
        Value.Bytes,
        Value.Seq,
        Value.Dict,
        Value.Struct,
        Value.NdArray,
        Value.Handle,
        Value.Fn {

  /** The natural type of this value, as {@code any} would report it. */
  Type type();

  /** The value as plain Java: Long/Integer/Double/String/byte[]/List/Map/... (see {@link #of}). */
  Object toJava();

  Null NULL = new Null();
  Bool TRUE = new Bool(true);
  Bool FALSE = new Bool(false);

  static Bool bool(boolean b) {
    return b ? TRUE : FALSE;
  }

  static Int i8(byte v) {
    return new Int(v, Type.Scalar.I8);
  }

  static Int i16(short v) {
    return new Int(v, Type.Scalar.I16);
  }

  static Int i32(int v) {
    return new Int(v, Type.Scalar.I32);
  }

  static Int i64(long v) {
    return new Int(v, Type.Scalar.I64);
  }

  static Int u8(int v) {
    return Int.of(v, Type.Scalar.U8);
  }

  static Int u16(int v) {
    return Int.of(v, Type.Scalar.U16);
  }

  static Int u32(long v) {
    return Int.of(v, Type.Scalar.U32);
  }

  /** A u64 from its bit pattern: {@code u64(-1)} is 18446744073709551615. */
  static Int u64(long bits) {
    return new Int(bits, Type.Scalar.U64);
  }

  static Float f32(float v) {
    return new Float(v, Type.Scalar.F32);
  }

  static Float f64(double v) {
    return new Float(v, Type.Scalar.F64);
  }

  static Str str(String s) {
    return new Str(s);
  }

  static Bytes bytes(byte[] b) {
    return new Bytes(b.clone());
  }

  static Seq list(Value... items) {
    return new Seq(List.of(items));
  }

  static NdArray ndarray(double... data) {
    return NdArray.copyOf(data);
  }

  /**
   * A value from plain Java. Integer, Short, Byte and Long keep their widths (i32, i16, i8, i64);
   * Float and Double become f32 and f64; CharSequence a string; byte[] bytes; double[], float[],
   * int[], long[] ndarrays; Collection a list; Map a map; a Java record a struct whose fields are
   * its components; a Value itself; null the null value.
   *
   * @throws StatusException INVALID_ARGUMENT for a Java type with no canonical counterpart
   */
  static Value of(Object o) {
    return switch (o) {
      case null -> NULL;
      case Value v -> v;
      case Boolean b -> bool(b);
      case Integer i -> i32(i);
      case Long l -> i64(l);
      case Short s -> i16(s);
      case Byte b -> i8(b);
      case Double d -> f64(d);
      case java.lang.Float f -> f32(f);
      case Character c -> str(c.toString());
      case CharSequence s -> str(s.toString());
      case byte[] b -> bytes(b);
      case double[] d -> NdArray.copyOf(d);
      case float[] f -> NdArray.copyOf(f);
      case int[] i -> NdArray.copyOf(i);
      case long[] l -> NdArray.copyOf(l);
      case MemorySegment m -> NdArray.of(Type.Scalar.U8, new long[] {m.byteSize()}, m);
      case Collection<?> c -> {
        List<Value> items = new ArrayList<>(c.size());
        for (Object e : c) {
          items.add(of(e));
        }
        yield new Seq(items);
      }
      case Map<?, ?> m -> {
        Map<Value, Value> entries = new LinkedHashMap<>();
        m.forEach((k, v) -> entries.put(of(k), of(v)));
        yield new Dict(entries);
      }
      case Record r -> {
        Map<String, Value> fields = new LinkedHashMap<>();
        for (RecordComponent rc : r.getClass().getRecordComponents()) {
          try {
            fields.put(rc.getName(), of(rc.getAccessor().invoke(r)));
          } catch (ReflectiveOperationException e) {
            throw Status.INVALID_ARGUMENT
                .withDescription("cannot read record component " + rc.getName() + ": " + e)
                .asException();
          }
        }
        yield new Struct(r.getClass().getSimpleName(), fields);
      }
      default ->
          throw Status.INVALID_ARGUMENT
              .withDescription(
                  "no PolyCall type for Java "
                      + o.getClass().getName()
                      + "; pass a number, string, byte[], array, List, Map, record or Value")
              .asException();
    };
  }

  /** The null value; the only value of {@code null} and the absent value of an optional. */
  record Null() implements Value {
    @Override
    public Type type() {
      return Type.Scalar.NULL;
    }

    @Override
    public Object toJava() {
      return null;
    }

    @Override
    public String toString() {
      return "null";
    }
  }

  record Bool(boolean value) implements Value {
    @Override
    public Type type() {
      return Type.Scalar.BOOL;
    }

    @Override
    public Object toJava() {
      return value;
    }

    @Override
    public String toString() {
      return Boolean.toString(value);
    }
  }

  /**
   * An integer of a given width. Unsigned values hold their bit pattern: a u64 above {@code
   * Long.MAX_VALUE} is negative as a Java long.
   */
  record Int(long value, Type.Scalar type) implements Value {
    public Int {
      if (!type.isInteger()) {
        throw new IllegalArgumentException(type + " is not an integer type");
      }
    }

    /** An integer of the given type, checking that the value fits. */
    public static Int of(long value, Type.Scalar type) {
      boolean fits =
          type == Type.Scalar.U64
              || (type == Type.Scalar.I64)
              || (value >= type.minValue() && value <= type.maxValue());
      if (!fits) {
        throw Status.INVALID_ARGUMENT
            .withDescription(value + " does not fit in " + type)
            .asException();
      }
      return new Int(value, type);
    }

    public boolean isUnsigned64Above63Bits() {
      return type == Type.Scalar.U64 && value < 0;
    }

    @Override
    public Object toJava() {
      return switch (type) {
        case I8 -> (byte) value;
        case I16 -> (short) value;
        case I32 -> (int) value;
        default -> value;
      };
    }

    @Override
    public String toString() {
      return type == Type.Scalar.U64 ? Long.toUnsignedString(value) : Long.toString(value);
    }
  }

  record Float(double value, Type.Scalar type) implements Value {
    public Float {
      if (!type.isFloat()) {
        throw new IllegalArgumentException(type + " is not a floating-point type");
      }
    }

    @Override
    public Object toJava() {
      return type == Type.Scalar.F32 ? (Object) (float) value : (Object) value;
    }

    @Override
    public String toString() {
      return Double.toString(value);
    }
  }

  record Str(String value) implements Value {
    public Str {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public Type type() {
      return Type.Scalar.STRING;
    }

    @Override
    public Object toJava() {
      return value;
    }

    @Override
    public String toString() {
      return '"' + value + '"';
    }
  }

  /**
   * Raw bytes. The array is not copied on the way in from {@link #Bytes(byte[])}, so the hot path
   * pays nothing; {@link Value#bytes} copies.
   */
  record Bytes(byte[] value) implements Value {
    public Bytes {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public Type type() {
      return Type.Scalar.BYTES;
    }

    @Override
    public Object toJava() {
      return value.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Bytes b && Arrays.equals(b.value, value);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "bytes[" + value.length + "]";
    }
  }

  /** A list. */
  record Seq(List<Value> items) implements Value {
    public Seq {
      items = List.copyOf(items);
    }

    @Override
    public Type type() {
      Type e = items.isEmpty() ? Type.Scalar.ANY : items.getFirst().type();
      for (Value v : items) {
        if (!v.type().equals(e)) {
          e = Type.Scalar.ANY;
          break;
        }
      }
      return new Type.ListOf(e);
    }

    @Override
    public Object toJava() {
      List<Object> out = new ArrayList<>(items.size());
      for (Value v : items) {
        out.add(v.toJava());
      }
      return out;
    }

    @Override
    public String toString() {
      return items.toString();
    }
  }

  /** A map, in insertion order. */
  record Dict(Map<Value, Value> entries) implements Value {
    public Dict {
      entries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    @Override
    public Type type() {
      Type k = Type.Scalar.ANY;
      Type v = Type.Scalar.ANY;
      if (!entries.isEmpty()) {
        var first = entries.entrySet().iterator().next();
        k = first.getKey().type();
        v = first.getValue().type();
      }
      return new Type.MapOf(k, v);
    }

    @Override
    public Object toJava() {
      Map<Object, Object> out = new LinkedHashMap<>();
      entries.forEach((k, v) -> out.put(k.toJava(), v.toJava()));
      return out;
    }

    @Override
    public String toString() {
      return entries.toString();
    }
  }

  /** A struct: named fields in declaration order. */
  record Struct(String name, Map<String, Value> fields) implements Value {
    public Struct {
      name = name == null ? "" : name;
      fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public Value field(String fieldName) {
      Value v = fields.get(fieldName);
      if (v == null) {
        throw Status.INVALID_ARGUMENT
            .withDescription("struct " + name + " has no field " + fieldName)
            .asException();
      }
      return v;
    }

    @Override
    public Type type() {
      List<Type.Struct.Field> fs = new ArrayList<>();
      fields.forEach((n, v) -> fs.add(new Type.Struct.Field(n, v.type())));
      return new Type.Struct(name, fs);
    }

    @Override
    public Object toJava() {
      Map<String, Object> out = new LinkedHashMap<>();
      fields.forEach((k, v) -> out.put(k, v.toJava()));
      return out;
    }

    @Override
    public String toString() {
      return name + fields;
    }
  }

  /**
   * A dense array in C order, backed by a {@link MemorySegment} holding exactly {@code elementCount
   * * dtype.byteSize()} bytes, little-endian as the platform.
   *
   * <pre>
   *   shape [2,3], dtype f64          data (48 bytes)
   *                                   +------+------+------+------+------+------+
   *   [[a b c]                        |  a   |  b   |  c   |  d   |  e   |  f   |
   *    [d e f]]                       +------+------+------+------+------+------+
   *                                   0      8      16     24     32     40     48
   * </pre>
   */
  record NdArray(Type.Scalar dtype, long[] shape, MemorySegment data) implements Value {
    public NdArray {
      Objects.requireNonNull(dtype, "dtype");
      if (!dtype.isDtype()) {
        throw new IllegalArgumentException("ndarray dtype must be numeric or bool, not " + dtype);
      }
      shape = shape.clone();
      long n = 1;
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException(
              "negative dimension in shape " + Arrays.toString(shape));
        }
        n = Math.multiplyExact(n, d);
      }
      long want = Math.multiplyExact(n, (long) dtype.byteSize());
      if (data.byteSize() != want) {
        throw new IllegalArgumentException(
            "ndarray of "
                + n
                + " "
                + dtype
                + " needs "
                + want
                + " bytes, the segment has "
                + data.byteSize());
      }
    }

    public static NdArray of(Type.Scalar dtype, long[] shape, MemorySegment data) {
      return new NdArray(dtype, shape, data);
    }

    /** A zeroed native array, freed when unreachable. */
    public static NdArray allocate(Type.Scalar dtype, long... shape) {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      MemorySegment seg = Arena.ofAuto().allocate(n * dtype.byteSize(), 8);
      return new NdArray(dtype, shape, seg);
    }

    public static NdArray copyOf(double[] data) {
      NdArray a = allocate(Type.Scalar.F64, data.length);
      MemorySegment.copy(data, 0, a.data, ValueLayout.JAVA_DOUBLE, 0, data.length);
      return a;
    }

    public static NdArray copyOf(float[] data) {
      NdArray a = allocate(Type.Scalar.F32, data.length);
      MemorySegment.copy(data, 0, a.data, ValueLayout.JAVA_FLOAT, 0, data.length);
      return a;
    }

    public static NdArray copyOf(int[] data) {
      NdArray a = allocate(Type.Scalar.I32, data.length);
      MemorySegment.copy(data, 0, a.data, ValueLayout.JAVA_INT, 0, data.length);
      return a;
    }

    public static NdArray copyOf(long[] data) {
      NdArray a = allocate(Type.Scalar.I64, data.length);
      MemorySegment.copy(data, 0, a.data, ValueLayout.JAVA_LONG, 0, data.length);
      return a;
    }

    public long elementCount() {
      return dtype.byteSize() == 0 ? 0 : data.byteSize() / dtype.byteSize();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public int rank() {
      return shape.length;
    }

    public double[] toDoubleArray() {
      return switch (dtype) {
        case F64 -> data.toArray(ValueLayout.JAVA_DOUBLE);
        default -> {
          double[] out = new double[(int) elementCount()];
          for (int i = 0; i < out.length; i++) {
            out[i] = elementAsDouble(i);
          }
          yield out;
        }
      };
    }

    /** Element {@code i} in C order, as a double (exact for all but large 64-bit integers). */
    public double elementAsDouble(long i) {
      long off = i * dtype.byteSize();
      return switch (dtype) {
        case BOOL -> data.get(ValueLayout.JAVA_BYTE, off) != 0 ? 1 : 0;
        case I8 -> data.get(ValueLayout.JAVA_BYTE, off);
        case U8 -> Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, off));
        case I16 -> data.get(ValueLayout.JAVA_SHORT_UNALIGNED, off);
        case U16 -> Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, off));
        case I32 -> data.get(ValueLayout.JAVA_INT_UNALIGNED, off);
        case U32 -> Integer.toUnsignedLong(data.get(ValueLayout.JAVA_INT_UNALIGNED, off));
        case I64 -> data.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
        case U64 -> {
          long bits = data.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
          yield bits >= 0 ? bits : (double) (bits >>> 1) * 2.0;
        }
        case F32 -> data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off);
        case F64 -> data.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, off);
        default -> throw new IllegalStateException(dtype.toString());
      };
    }

    @Override
    public Type type() {
      List<Long> s = new ArrayList<>(shape.length);
      for (long d : shape) {
        s.add(d);
      }
      return new Type.NdArray(dtype, s);
    }

    /** For an f64 array, a {@code double[]}; otherwise the value itself stays a segment. */
    @Override
    public Object toJava() {
      return switch (dtype) {
        case F64 -> data.toArray(ValueLayout.JAVA_DOUBLE);
        case F32 -> data.toArray(ValueLayout.JAVA_FLOAT);
        case I32 -> data.toArray(ValueLayout.JAVA_INT);
        case I64 -> data.toArray(ValueLayout.JAVA_LONG);
        default -> data.toArray(ValueLayout.JAVA_BYTE);
      };
    }

    /** Equal when dtype, shape and bytes are equal. */
    @Override
    public boolean equals(Object o) {
      return o instanceof NdArray a
          && a.dtype == dtype
          && Arrays.equals(a.shape, shape)
          && data.mismatch(a.data) == -1;
    }

    @Override
    public int hashCode() {
      return Objects.hash(dtype, Arrays.hashCode(shape), data.byteSize());
    }

    @Override
    public String toString() {
      return "ndarray<" + dtype + ">" + Arrays.toString(shape);
    }
  }

  /**
   * An opaque reference to a resource held by one bridge. The generation lets the owner reject a
   * handle whose slot was freed and reused.
   */
  record Handle(String kind, long id, int generation) implements Value {
    public Handle {
      Objects.requireNonNull(kind, "kind");
    }

    @Override
    public Type type() {
      return new Type.Handle(kind);
    }

    @Override
    public Object toJava() {
      return this;
    }

    @Override
    public String toString() {
      return "handle<" + kind + ">#" + id + "." + generation;
    }
  }

  /**
   * A function reference: the name of a registered function, which any bridge can call back. A
   * lambda becomes one by registering it (see the core's {@code PolyCall.callback}).
   *
   * @param signature the function's type; may be null when unknown to the sender
   */
  record Fn(String name, Type.Fn signature) implements Value {
    public Fn {
      Objects.requireNonNull(name, "name");
    }

    @Override
    public Type type() {
      return signature != null ? signature : new Type.Fn(List.of(), Type.Scalar.ANY);
    }

    @Override
    public Object toJava() {
      return this;
    }

    @Override
    public String toString() {
      return "fn " + name;
    }
  }
}
