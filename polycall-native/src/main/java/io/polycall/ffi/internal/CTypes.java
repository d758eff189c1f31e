package io.polycall.ffi.internal;

import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Canonical scalars as C sees them (x86-64 and AArch64, LP64): layouts, the Java carrier types of
 * downcall handles, and reads and writes of values in native memory.
 *
 * <pre>
 *   canonical   C                       layout          carrier
 *   bool        bool (_Bool, 1 byte)    JAVA_BOOLEAN    boolean
 *   i8  u8      int8_t  uint8_t         JAVA_BYTE       byte     (u8 as its bit pattern)
 *   i16 u16     int16_t uint16_t        JAVA_SHORT      short    (u16 as its bit pattern)
 *   i32 u32     int32_t uint32_t        JAVA_INT        int      (u32 as its bit pattern)
 *   i64 u64     int64_t uint64_t        JAVA_LONG       long     (u64 as its bit pattern)
 *               size_t, long, ulong     JAVA_LONG       long
 *   f32 f64     float double            JAVA_FLOAT/DOUBLE
 * </pre>
 *
 * Unsigned values travel as the signed carrier of the same width and are zero-extended when read
 * back, so a C {@code uint32_t} of 4294967295 is the u32 4294967295, never -1. Stateless and
 * thread-safe.
 */
final class CTypes {
  private CTypes() {}

  static ValueLayout layout(Type.Scalar s) {
    return switch (s) {
      case BOOL -> ValueLayout.JAVA_BOOLEAN;
      case I8, U8 -> ValueLayout.JAVA_BYTE;
      case I16, U16 -> ValueLayout.JAVA_SHORT;
      case I32, U32 -> ValueLayout.JAVA_INT;
      case I64, U64 -> ValueLayout.JAVA_LONG;
      case F32 -> ValueLayout.JAVA_FLOAT;
      case F64 -> ValueLayout.JAVA_DOUBLE;
      default -> throw new IllegalArgumentException(s + " has no C scalar layout");
    };
  }

  /** True for the scalars that are one C number or bool. */
  static boolean isNumeric(Type t) {
    return t instanceof Type.Scalar s && s.isDtype();
  }

  /** The carrier value for a value already coerced to {@code s}. */
  static Object toCarrier(Value v, Type.Scalar s) {
    return switch (v) {
      case Value.Int i ->
          switch (s) {
            case I8, U8 -> (byte) i.value();
            case I16, U16 -> (short) i.value();
            case I32, U32 -> (int) i.value();
            case I64, U64 -> i.value();
            case F32 -> (float) i.value();
            case F64 -> (double) i.value();
            default -> throw mismatch(v, s);
          };
      case Value.Float f when s == Type.Scalar.F32 -> (float) f.value();
      case Value.Float f when s == Type.Scalar.F64 -> f.value();
      case Value.Bool b when s == Type.Scalar.BOOL -> b.value();
      default -> throw mismatch(v, s);
    };
  }

  /** The value for a carrier returned by C. */
  static Value fromCarrier(Object o, Type.Scalar s) {
    return switch (s) {
      case BOOL -> Value.bool((Boolean) o);
      case I8 -> new Value.Int((Byte) o, s);
      case U8 -> new Value.Int(Byte.toUnsignedInt((Byte) o), s);
      case I16 -> new Value.Int((Short) o, s);
      case U16 -> new Value.Int(Short.toUnsignedInt((Short) o), s);
      case I32 -> new Value.Int((Integer) o, s);
      case U32 -> new Value.Int(Integer.toUnsignedLong((Integer) o), s);
      case I64, U64 -> new Value.Int((Long) o, s);
      case F32 -> new Value.Float((Float) o, s);
      case F64 -> new Value.Float((Double) o, s);
      default -> throw new IllegalArgumentException(s + " has no C scalar layout");
    };
  }

  /** The carrier as a long, for derived lengths and error checks on integer returns. */
  static long asLong(Object carrier) {
    return switch (carrier) {
      case Number n -> n.longValue();
      case Boolean b -> b ? 1 : 0;
      case MemorySegment m -> m.address();
      default -> throw new IllegalArgumentException("not a number: " + carrier);
    };
  }

  /** A carrier holding {@code x} for an integer scalar (derived lengths, constants). */
  static Object integerCarrier(long x, Type.Scalar s) {
    return toCarrier(new Value.Int(x, Type.Scalar.I64), s);
  }

  /** What a failed callback returns to C: zero of the carrier type (null for void). */
  static Object neutral(Class<?> carrier) {
    if (carrier == int.class) {
      return 0;
    } else if (carrier == long.class) {
      return 0L;
    } else if (carrier == double.class) {
      return 0.0;
    } else if (carrier == float.class) {
      return 0.0f;
    } else if (carrier == byte.class) {
      return (byte) 0;
    } else if (carrier == short.class) {
      return (short) 0;
    } else if (carrier == boolean.class) {
      return false;
    } else if (carrier == MemorySegment.class) {
      return MemorySegment.NULL;
    }
    return null;
  }

  static void write(MemorySegment seg, long offset, Type.Scalar s, Value v) {
    Object c = toCarrier(v, s);
    switch (c) {
      case Boolean b -> seg.set(ValueLayout.JAVA_BOOLEAN, offset, b);
      case Byte b -> seg.set(ValueLayout.JAVA_BYTE, offset, b);
      case Short x -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, offset, x);
      case Integer x -> seg.set(ValueLayout.JAVA_INT_UNALIGNED, offset, x);
      case Long x -> seg.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, x);
      case Float x -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, offset, x);
      case Double x -> seg.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, offset, x);
      default -> throw new IllegalStateException(c.toString());
    }
  }

  static Value read(MemorySegment seg, long offset, Type.Scalar s) {
    Object c =
        switch (s) {
          case BOOL -> seg.get(ValueLayout.JAVA_BOOLEAN, offset);
          case I8, U8 -> seg.get(ValueLayout.JAVA_BYTE, offset);
          case I16, U16 -> seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset);
          case I32, U32 -> seg.get(ValueLayout.JAVA_INT_UNALIGNED, offset);
          case I64, U64 -> seg.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
          case F32 -> seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, offset);
          case F64 -> seg.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, offset);
          default -> throw new IllegalArgumentException(s + " has no C scalar layout");
        };
    return fromCarrier(c, s);
  }

  /** The layout of a value C holds in memory: a scalar or a struct. */
  static MemoryLayout memoryLayout(Type t, String where) {
    return switch (t) {
      case Type.Scalar s when s.isDtype() -> layout(s);
      case Type.Struct st -> CStruct.of(st, where).layout();
      default ->
          throw DeclarationParser.malformed(
              where, t + " cannot be held in C memory here; use a number, bool or struct");
    };
  }

  static Value readMemory(MemorySegment seg, long offset, Type t) {
    return t instanceof Type.Struct st
        ? CStruct.of(st, "").read(seg.asSlice(offset))
        : read(seg, offset, (Type.Scalar) t);
  }

  static void writeMemory(MemorySegment seg, long offset, Type t, Value v) {
    if (t instanceof Type.Struct st) {
      CStruct.of(st, "").write(seg.asSlice(offset), (Value.Struct) v);
    } else {
      write(seg, offset, (Type.Scalar) t, v);
    }
  }

  private static IllegalArgumentException mismatch(Value v, Type.Scalar s) {
    // Coercion runs before any invoker, so reaching here is a bridge bug, not a user error.
    return new IllegalArgumentException(
        "internal: " + v + " was not coerced to " + s + " before the native call");
  }
}
