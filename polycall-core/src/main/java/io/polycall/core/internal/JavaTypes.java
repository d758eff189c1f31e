package io.polycall.core.internal;

import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The mapping between Java types and canonical types, and the method handles that convert values
 * between them. Handles are built once per function at registration; calls only run them.
 *
 * <pre>
 *   int long short byte        i32 i64 i16 i8       Integer Long ...   optional&lt;i32&gt; ...
 *   double float boolean       f64 f32 bool         String             string
 *   byte[]                     bytes                double[] float[]   ndarray&lt;f64&gt; ndarray&lt;f32&gt;
 *   int[] long[]               ndarray&lt;i32&gt; ...    List&lt;T&gt; Map&lt;K,V&gt;   list&lt;T&gt; map&lt;K,V&gt;
 *   a record                   struct Name{...}     Value, Object      any
 *   void                       null
 * </pre>
 */
public final class JavaTypes {
  private JavaTypes() {}

  private static final MethodHandles.Lookup L = MethodHandles.lookup();

  /** The canonical type for a Java type; INVALID_ARGUMENT if there is none. */
  public static Type canonical(java.lang.reflect.Type generic) {
    Class<?> raw = rawClass(generic);
    if (raw == void.class || raw == Void.class) {
      return Type.Scalar.NULL;
    }
    if (raw == int.class) return Type.Scalar.I32;
    if (raw == long.class) return Type.Scalar.I64;
    if (raw == short.class) return Type.Scalar.I16;
    if (raw == byte.class) return Type.Scalar.I8;
    if (raw == double.class) return Type.Scalar.F64;
    if (raw == float.class) return Type.Scalar.F32;
    if (raw == boolean.class) return Type.Scalar.BOOL;
    if (raw == Integer.class) return new Type.OptionalOf(Type.Scalar.I32);
    if (raw == Long.class) return new Type.OptionalOf(Type.Scalar.I64);
    if (raw == Short.class) return new Type.OptionalOf(Type.Scalar.I16);
    if (raw == Byte.class) return new Type.OptionalOf(Type.Scalar.I8);
    if (raw == Double.class) return new Type.OptionalOf(Type.Scalar.F64);
    if (raw == Float.class) return new Type.OptionalOf(Type.Scalar.F32);
    if (raw == Boolean.class) return new Type.OptionalOf(Type.Scalar.BOOL);
    if (raw == String.class) return Type.Scalar.STRING;
    if (raw == byte[].class) return Type.Scalar.BYTES;
    if (raw == double[].class) return Type.NdArray.of(Type.Scalar.F64);
    if (raw == float[].class) return Type.NdArray.of(Type.Scalar.F32);
    if (raw == int[].class) return Type.NdArray.of(Type.Scalar.I32);
    if (raw == long[].class) return Type.NdArray.of(Type.Scalar.I64);
    if (raw == Value.NdArray.class) return Type.NdArray.of(Type.Scalar.F64);
    if (raw == Value.Fn.class) return new Type.Fn(List.of(), Type.Scalar.ANY);
    if (raw == Value.class || raw == Object.class) return Type.Scalar.ANY;
    if (List.class.isAssignableFrom(raw)) {
      return new Type.ListOf(typeArg(generic, 0));
    }
    if (Map.class.isAssignableFrom(raw)) {
      return new Type.MapOf(typeArg(generic, 0), typeArg(generic, 1));
    }
    if (raw.isRecord()) {
      List<Type.Struct.Field> fields = new ArrayList<>();
      for (RecordComponent rc : raw.getRecordComponents()) {
        fields.add(new Type.Struct.Field(rc.getName(), canonical(rc.getGenericType())));
      }
      return new Type.Struct(raw.getSimpleName(), fields);
    }
    throw Status.INVALID_ARGUMENT
        .withDescription(
            "Java type "
                + generic.getTypeName()
                + " has no PolyCall type; use a primitive, String, byte[], a primitive array,"
                + " List, Map, a record or Value")
        .asException();
  }

  private static Type typeArg(java.lang.reflect.Type generic, int i) {
    if (generic instanceof ParameterizedType p) {
      return canonical(p.getActualTypeArguments()[i]);
    }
    return Type.Scalar.ANY;
  }

  private static Class<?> rawClass(java.lang.reflect.Type t) {
    return switch (t) {
      case Class<?> c -> c;
      case ParameterizedType p -> (Class<?>) p.getRawType();
      default -> Object.class;
    };
  }

  // ---- Value -> Java --------------------------------------------------------------------

  /**
   * A handle {@code (Value) -> javaType}. The value has already been coerced to {@code declared},
   * so the handle may cast without checking.
   */
  public static MethodHandle fromValue(Class<?> javaType, Type declared) {
    try {
      if (javaType == Value.class) {
        return MethodHandles.identity(Value.class);
      }
      if (javaType == Object.class) {
        return find("toJavaObject", Object.class);
      }
      if (javaType.isPrimitive()) {
        return switch (javaType.getName()) {
          case "int" -> find("toInt", int.class);
          case "long" -> find("toLong", long.class);
          case "short" -> find("toShort", short.class);
          case "byte" -> find("toByte", byte.class);
          case "double" -> find("toDouble", double.class);
          case "float" -> find("toFloat", float.class);
          case "boolean" -> find("toBoolean", boolean.class);
          default -> throw unsupported(javaType, declared);
        };
      }
      if (javaType == String.class) return find("toStringValue", String.class);
      if (javaType == byte[].class) return find("toBytes", byte[].class);
      if (javaType == MemorySegment.class) return find("toSegment", MemorySegment.class);
      if (Value.class.isAssignableFrom(javaType)) {
        return MethodHandles.identity(Value.class)
            .asType(MethodType.methodType(javaType, Value.class));
      }
      MethodHandle generic =
          MethodHandles.insertArguments(find("toJavaOf", Object.class, Class.class), 1, javaType);
      return generic.asType(MethodType.methodType(javaType, Value.class));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MethodHandle find(String name, Class<?> ret, Class<?>... extra)
      throws ReflectiveOperationException {
    Class<?>[] params = new Class<?>[extra.length + 1];
    params[0] = Value.class;
    System.arraycopy(extra, 0, params, 1, extra.length);
    return L.findStatic(JavaTypes.class, name, MethodType.methodType(ret, params));
  }

  private static IllegalArgumentException unsupported(Class<?> javaType, Type declared) {
    return new IllegalArgumentException(
        "cannot pass " + declared + " as Java " + javaType.getName());
  }

  static int toInt(Value v) {
    return (int) ((Value.Int) v).value();
  }

  static long toLong(Value v) {
    return ((Value.Int) v).value();
  }

  static short toShort(Value v) {
    return (short) ((Value.Int) v).value();
  }

  static byte toByte(Value v) {
    return (byte) ((Value.Int) v).value();
  }

  static double toDouble(Value v) {
    return v instanceof Value.Float f ? f.value() : (double) ((Value.Int) v).value();
  }

  static float toFloat(Value v) {
    return (float) ((Value.Float) v).value();
  }

  static boolean toBoolean(Value v) {
    return ((Value.Bool) v).value();
  }

  static String toStringValue(Value v) {
    return v instanceof Value.Null ? null : ((Value.Str) v).value();
  }

  static byte[] toBytes(Value v) {
    return v instanceof Value.Null ? null : ((Value.Bytes) v).value();
  }

  static MemorySegment toSegment(Value v) {
    return switch (v) {
      case Value.NdArray a -> a.data();
      case Value.Bytes b -> MemorySegment.ofArray(b.value());
      default -> MemorySegment.NULL;
    };
  }

  static Object toJavaObject(Value v) {
    return v.toJava();
  }

  /** Value to an arbitrary Java class: boxed numbers, arrays, collections and records. */
  public static Object toJavaOf(Value v, Class<?> type) {
    if (v instanceof Value.Null) {
      return null;
    }
    if (type.isInstance(v)) {
      return v;
    }
    if (type.isRecord() && v instanceof Value.Struct s) {
      return toRecord(s, type);
    }
    Object o = v.toJava();
    if (type == Integer.class && o instanceof Number n) return n.intValue();
    if (type == Long.class && o instanceof Number n) return n.longValue();
    if (type == Short.class && o instanceof Number n) return n.shortValue();
    if (type == Byte.class && o instanceof Number n) return n.byteValue();
    if (type == Double.class && o instanceof Number n) return n.doubleValue();
    if (type == Float.class && o instanceof Number n) return n.floatValue();
    if (type.isInstance(o)) {
      return o;
    }
    throw Status.INVALID_ARGUMENT
        .withDescription("cannot convert " + v.type() + " to Java " + type.getName())
        .asException();
  }

  private static Object toRecord(Value.Struct s, Class<?> type) {
    RecordComponent[] rcs = type.getRecordComponents();
    Class<?>[] types = new Class<?>[rcs.length];
    Object[] args = new Object[rcs.length];
    for (int i = 0; i < rcs.length; i++) {
      types[i] = rcs[i].getType();
      Value fv = s.fields().getOrDefault(rcs[i].getName(), Value.NULL);
      args[i] = types[i].isPrimitive() ? primitive(fv, types[i]) : toJavaOf(fv, types[i]);
    }
    try {
      Constructor<?> c = type.getDeclaredConstructor(types);
      c.setAccessible(true);
      return c.newInstance(args);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription("cannot build record " + type.getName() + " from " + s + ": " + e)
          .asException();
    }
  }

  private static Object primitive(Value v, Class<?> t) {
    return switch (t.getName()) {
      case "int" -> toInt(v);
      case "long" -> toLong(v);
      case "short" -> toShort(v);
      case "byte" -> toByte(v);
      case "double" -> toDouble(v);
      case "float" -> toFloat(v);
      case "boolean" -> toBoolean(v);
      default -> throw new IllegalArgumentException(t.getName());
    };
  }

  // ---- Java -> Value --------------------------------------------------------------------

  /** A handle {@code (javaType) -> Value} producing a value of the declared type. */
  public static MethodHandle toValue(Class<?> javaType, Type declared) {
    try {
      if (javaType == void.class) {
        return MethodHandles.constant(Value.class, Value.NULL);
      }
      if (javaType.isPrimitive() && declared instanceof Type.Scalar s) {
        MethodHandle h =
            switch (javaType.getName()) {
              case "int", "long", "short", "byte" -> {
                MethodHandle f =
                    L.findStatic(
                        JavaTypes.class,
                        "intValue",
                        MethodType.methodType(Value.class, long.class, Type.Scalar.class));
                yield MethodHandles.insertArguments(f, 1, s.isInteger() ? s : Type.Scalar.I64);
              }
              case "double", "float" -> {
                MethodHandle f =
                    L.findStatic(
                        JavaTypes.class,
                        "floatValue",
                        MethodType.methodType(Value.class, double.class, Type.Scalar.class));
                yield MethodHandles.insertArguments(f, 1, s.isFloat() ? s : Type.Scalar.F64);
              }
              case "boolean" ->
                  L.findStatic(
                          Value.class,
                          "bool",
                          MethodType.methodType(Value.Bool.class, boolean.class))
                      .asType(MethodType.methodType(Value.class, boolean.class));
              default -> throw unsupported(javaType, declared);
            };
        return h.asType(MethodType.methodType(Value.class, javaType));
      }
      MethodHandle of =
          L.findStatic(
              JavaTypes.class,
              "boxedValue",
              MethodType.methodType(Value.class, Object.class, Type.class));
      return MethodHandles.insertArguments(of, 1, declared)
          .asType(MethodType.methodType(Value.class, javaType));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  static Value intValue(long v, Type.Scalar type) {
    return Value.Int.of(v, type);
  }

  static Value floatValue(double v, Type.Scalar type) {
    return new Value.Float(v, type);
  }

  static Value boxedValue(Object o, Type declared) {
    Value v = Value.of(o);
    // Narrower Java values widen to the declared type here; the core re-checks results anyway.
    return v;
  }
}
