package io.polycall;

import io.polycall.internal.SignatureParser;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A canonical PolyCall type. The set is closed: every bridge, wire and SDK maps these and only
 * these.
 *
 * <pre>
 *   null bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 string bytes any   (Scalar)
 *   list&lt;T&gt;  map&lt;K,V&gt;  optional&lt;T&gt;  struct Name{a: T, b: U}  ndarray&lt;f64&gt;[2,?]
 *   handle&lt;file&gt;  fn(i32, i32) -&gt; i32
 * </pre>
 *
 * <p>{@link #toString()} prints the canonical spelling, which {@link #parse} reads back.
 */
public sealed interface Type
    permits Type.Scalar,
        Type.ListOf,
        Type.MapOf,
        Type.OptionalOf,
        Type.Struct,
        Type.NdArray,
        Type.Handle,
        Type.Fn {

  /** Parses a type such as {@code list<map<string, f64>>}; INVALID_ARGUMENT on a syntax error. */
  static Type parse(String text) {
    return SignatureParser.parseType(text);
  }

  /** The types with no parameters. */
  enum Scalar implements Type {
    NULL("null", 0),
    BOOL("bool", 1),
    I8("i8", 1),
    I16("i16", 2),
    I32("i32", 4),
    I64("i64", 8),
    U8("u8", 1),
    U16("u16", 2),
    U32("u32", 4),
    U64("u64", 8),
    F32("f32", 4),
    F64("f64", 8),
    STRING("string", 0),
    BYTES("bytes", 0),
    ANY("any", 0);

    private final String spelling;
    private final int byteSize;

    Scalar(String spelling, int byteSize) {
      this.spelling = spelling;
      this.byteSize = byteSize;
    }

    /** Size of one element when used as an ndarray dtype; 0 for non-numeric scalars. */
    public int byteSize() {
      return byteSize;
    }

    public boolean isInteger() {
      return ordinal() >= I8.ordinal() && ordinal() <= U64.ordinal();
    }

    public boolean isSigned() {
      return ordinal() >= I8.ordinal() && ordinal() <= I64.ordinal();
    }

    public boolean isFloat() {
      return this == F32 || this == F64;
    }

    /** True for the types an ndarray may hold. */
    public boolean isDtype() {
      return isInteger() || isFloat() || this == BOOL;
    }

    /** Smallest value of an integer type (as a signed long; 0 for unsigned). */
    public long minValue() {
      return switch (this) {
        case I8 -> Byte.MIN_VALUE;
        case I16 -> Short.MIN_VALUE;
        case I32 -> Integer.MIN_VALUE;
        case I64 -> Long.MIN_VALUE;
        case U8, U16, U32, U64 -> 0;
        default -> throw new IllegalStateException(this + " is not an integer type");
      };
    }

    /** Largest value of an integer type; for u64 this is -1, the all-ones bit pattern. */
    public long maxValue() {
      return switch (this) {
        case I8 -> Byte.MAX_VALUE;
        case I16 -> Short.MAX_VALUE;
        case I32 -> Integer.MAX_VALUE;
        case I64 -> Long.MAX_VALUE;
        case U8 -> 0xFFL;
        case U16 -> 0xFFFFL;
        case U32 -> 0xFFFF_FFFFL;
        case U64 -> -1L;
        default -> throw new IllegalStateException(this + " is not an integer type");
      };
    }

    /** The scalar for a spelling such as {@code "f64"}, or null. */
    public static Scalar ofSpelling(String s) {
      for (Scalar t : values()) {
        if (t.spelling.equals(s)) {
          return t;
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return spelling;
    }
  }

  record ListOf(Type element) implements Type {
    public ListOf {
      Objects.requireNonNull(element, "element");
    }

    @Override
    public String toString() {
      return "list<" + element + ">";
    }
  }

  record MapOf(Type key, Type value) implements Type {
    public MapOf {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
      return "map<" + key + ", " + value + ">";
    }
  }

  /** A value that may be null. */
  record OptionalOf(Type inner) implements Type {
    public OptionalOf {
      Objects.requireNonNull(inner, "inner");
    }

    @Override
    public String toString() {
      return "optional<" + inner + ">";
    }
  }

  /**
   * A record of named fields, in declaration order (which is also the C layout order).
   *
   * @param name may be empty for an anonymous struct
   */
  record Struct(String name, List<Field> fields) implements Type {
    public Struct {
      name = name == null ? "" : name;
      fields = List.copyOf(fields);
    }

    public record Field(String name, Type type) {
      public Field {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
      }

      @Override
      public String toString() {
        return name + ": " + type;
      }
    }

    /** Index of a field by name, or -1. */
    public int indexOf(String fieldName) {
      for (int i = 0; i < fields.size(); i++) {
        if (fields.get(i).name().equals(fieldName)) {
          return i;
        }
      }
      return -1;
    }

    @Override
    public String toString() {
      return "struct"
          + (name.isEmpty() ? "" : " " + name)
          + fields.stream().map(Field::toString).collect(Collectors.joining(", ", "{", "}"));
    }
  }

  /**
   * A dense array in C order.
   *
   * @param shape the expected shape, -1 for a dimension of any size; null for any rank
   */
  record NdArray(Scalar dtype, List<Long> shape) implements Type {
    public NdArray {
      Objects.requireNonNull(dtype, "dtype");
      if (!dtype.isDtype()) {
        throw new IllegalArgumentException("ndarray dtype must be numeric or bool, not " + dtype);
      }
      shape = shape == null ? null : List.copyOf(shape);
    }

    public static NdArray of(Scalar dtype) {
      return new NdArray(dtype, null);
    }

    @Override
    public String toString() {
      if (shape == null) {
        return "ndarray<" + dtype + ">";
      }
      return "ndarray<"
          + dtype
          + ">"
          + shape.stream()
              .map(d -> d < 0 ? "?" : Long.toString(d))
              .collect(Collectors.joining(",", "[", "]"));
    }
  }

  /** An opaque reference to a resource held by one bridge. */
  record Handle(String kind) implements Type {
    public Handle {
      Objects.requireNonNull(kind, "kind");
    }

    @Override
    public String toString() {
      return "handle<" + kind + ">";
    }
  }

  /** A function reference: a callback any bridge can invoke. */
  record Fn(List<Type> params, Type result) implements Type {
    public Fn {
      params = List.copyOf(params);
      Objects.requireNonNull(result, "result");
    }

    @Override
    public String toString() {
      return params.stream().map(Type::toString).collect(Collectors.joining(", ", "fn(", ")"))
          + " -> "
          + result;
    }
  }
}
