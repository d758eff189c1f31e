package io.polycall;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a value against a type and converts it when, and only when, the conversion is exact: 100
 * into {@code i8} is fine, 300 is not; 2.0 into {@code i32} is 2, 2.5 and NaN are refused; 2^53+1
 * into {@code f64} is refused because it would round. Everything refused is INVALID_ARGUMENT with
 * the path of the bad element, as in {@code args[1][3].name}.
 *
 * <p>Stateless and thread-safe. A value that already has the wanted type is returned as is, so the
 * common case costs a type test.
 */
public final class Coercion {
  private Coercion() {}

  /**
   * Checks and converts call arguments. Wrong arity is INVALID_ARGUMENT naming the signature.
   *
   * @return a fresh array of converted arguments
   */
  public static Value[] arguments(Signature signature, List<Value> args) {
    List<Signature.Param> params = signature.params();
    if (args.size() != params.size()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              signature.name()
                  + " takes "
                  + params.size()
                  + (params.size() == 1 ? " argument " : " arguments ")
                  + signature.shape()
                  + ", got "
                  + args.size())
          .asException();
    }
    Value[] out = new Value[params.size()];
    for (int i = 0; i < out.length; i++) {
      Value v = args.get(i);
      Type t = params.get(i).type();
      out[i] = fastMatch(v, t) ? v : coerce(v, t, new Path(i, params.get(i).name()));
    }
    return out;
  }

  /** Checks and converts a result against the declared result type. */
  public static Value result(Signature signature, Value v) {
    if (fastMatch(v, signature.result())) {
      return v;
    }
    return coerce(v, signature.result(), new Path("result of " + signature.name()));
  }

  /** Checks and converts {@code v} to {@code t}; {@code path} names it in errors. */
  public static Value coerce(Value v, Type t, String path) {
    return coerce(v, t, new Path(path));
  }

  private static boolean fastMatch(Value v, Type t) {
    return switch (v) {
      case Value.Int i -> i.type() == t;
      case Value.Float f -> f.type() == t;
      case Value.Str s -> t == Type.Scalar.STRING;
      case Value.Bool b -> t == Type.Scalar.BOOL;
      default -> t == Type.Scalar.ANY;
    };
  }

  private static Value coerce(Value v, Type t, Path path) {
    if (v == null) {
      throw fail(path, "is missing (Java null); pass Value.NULL for a null value");
    }
    return switch (t) {
      case Type.Scalar s -> scalar(v, s, path);
      case Type.OptionalOf o -> v instanceof Value.Null ? v : coerce(v, o.inner(), path);
      case Type.ListOf l -> {
        if (v instanceof Value.Seq seq) {
          List<Value> items = seq.items();
          Value[] out = null;
          for (int i = 0; i < items.size(); i++) {
            Value item = items.get(i);
            Value c =
                fastMatch(item, l.element()) ? item : coerce(item, l.element(), path.index(i));
            if (c != item && out == null) {
              out = items.toArray(new Value[0]);
            }
            if (out != null) {
              out[i] = c;
            }
          }
          yield out == null ? v : new Value.Seq(Arrays.asList(out));
        }
        throw mismatch(v, t, path);
      }
      case Type.MapOf m -> {
        Map<Value, Value> entries =
            switch (v) {
              case Value.Dict d -> d.entries();
              case Value.Struct s -> {
                Map<Value, Value> e = new LinkedHashMap<>();
                s.fields().forEach((k, x) -> e.put(Value.str(k), x));
                yield e;
              }
              default -> throw mismatch(v, t, path);
            };
        Map<Value, Value> out = new LinkedHashMap<>();
        for (var e : entries.entrySet()) {
          Path at = path.key(e.getKey());
          out.put(coerce(e.getKey(), m.key(), at), coerce(e.getValue(), m.value(), at));
        }
        yield new Value.Dict(out);
      }
      case Type.Struct st -> struct(v, st, path);
      case Type.NdArray nd -> ndarray(v, nd, path);
      case Type.Handle h -> {
        if (v instanceof Value.Handle hv && hv.kind().equals(h.kind())) {
          yield v;
        }
        throw mismatch(v, t, path);
      }
      case Type.Fn fn -> {
        if (v instanceof Value.Fn f) {
          if (f.signature() != null && f.signature().params().size() != fn.params().size()) {
            throw fail(
                path,
                "is function "
                    + f.name()
                    + " of type "
                    + f.signature()
                    + ", which does not take "
                    + fn.params().size()
                    + " parameters as "
                    + fn
                    + " does");
          }
          yield v;
        }
        throw mismatch(v, t, path);
      }
    };
  }

  private static Value scalar(Value v, Type.Scalar s, Path path) {
    if (s == Type.Scalar.ANY) {
      return v;
    }
    if (v instanceof Value.Null && s != Type.Scalar.NULL) {
      throw fail(path, "is null, but " + s + " is not optional (declare optional<" + s + ">)");
    }
    if (s.isInteger()) {
      return integer(v, s, path);
    }
    if (s.isFloat()) {
      return floating(v, s, path);
    }
    boolean ok =
        switch (s) {
          case NULL -> v instanceof Value.Null;
          case BOOL -> v instanceof Value.Bool;
          case STRING -> v instanceof Value.Str;
          case BYTES -> v instanceof Value.Bytes;
          default -> false;
        };
    if (ok) {
      return v;
    }
    throw mismatch(v, s, path);
  }

  private static Value integer(Value v, Type.Scalar s, Path path) {
    switch (v) {
      case Value.Int i -> {
        if (i.type() == s) {
          return i;
        }
        if (fits(i, s)) {
          return new Value.Int(i.value(), s);
        }
        throw fail(path, "is " + i + " (" + i.type() + "), which does not fit in " + s + range(s));
      }
      case Value.Float f -> {
        double d = f.value();
        if (Double.isNaN(d)) {
          throw fail(path, "is NaN, which has no " + s + " value");
        }
        if (Double.isInfinite(d)) {
          throw fail(path, "is " + d + ", which has no " + s + " value");
        }
        if (d != Math.rint(d)) {
          throw fail(path, "is " + d + ", which is not a whole number; " + s + " needs one");
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal lo = BigDecimal.valueOf(s.minValue());
        BigDecimal hi =
            s == Type.Scalar.U64
                ? new BigDecimal(Long.toUnsignedString(-1L))
                : BigDecimal.valueOf(s.maxValue());
        if (exact.compareTo(lo) < 0 || exact.compareTo(hi) > 0) {
          throw fail(path, "is " + d + ", which does not fit in " + s + range(s));
        }
        long bits =
            s == Type.Scalar.U64 && d >= 0x1p63
                ? exact.toBigInteger().longValue()
                : exact.longValueExact();
        return new Value.Int(bits, s);
      }
      default -> throw mismatch(v, s, path);
    }
  }

  private static boolean fits(Value.Int i, Type.Scalar s) {
    long x = i.value();
    boolean srcUnsigned = !i.type().isSigned();
    boolean negative = !srcUnsigned && x < 0;
    boolean above63 = srcUnsigned && x < 0; // u64 with the top bit set
    if (s == Type.Scalar.U64) {
      return !negative;
    }
    if (above63) {
      return false;
    }
    return x >= s.minValue() && x <= s.maxValue();
  }

  private static String range(Type.Scalar s) {
    String max = s == Type.Scalar.U64 ? Long.toUnsignedString(-1L) : Long.toString(s.maxValue());
    return " (" + s.minValue() + ".." + max + ")";
  }

  private static Value floating(Value v, Type.Scalar s, Path path) {
    switch (v) {
      case Value.Float f -> {
        if (f.type() == s) {
          return f;
        }
        double d = f.value();
        if (s == Type.Scalar.F64 || Double.isNaN(d) || (double) (float) d == d) {
          return new Value.Float(s == Type.Scalar.F32 ? (float) d : d, s);
        }
        throw fail(path, "is " + d + ", which f32 cannot hold exactly");
      }
      case Value.Int i -> {
        long x = i.value();
        boolean unsignedBig = i.type() == Type.Scalar.U64 && x < 0;
        double d = unsignedBig ? new BigDecimal(Long.toUnsignedString(x)).doubleValue() : x;
        boolean exact =
            unsignedBig
                ? new BigDecimal(d).toBigInteger().toString().equals(Long.toUnsignedString(x))
                : (d == x && (long) d == x && (x != Long.MAX_VALUE));
        if (exact && s == Type.Scalar.F32) {
          exact = (double) (float) d == d;
        }
        if (!exact) {
          throw fail(path, "is " + i + ", which " + s + " cannot hold exactly");
        }
        return new Value.Float(d, s);
      }
      default -> throw mismatch(v, s, path);
    }
  }

  private static Value struct(Value v, Type.Struct st, Path path) {
    Map<String, Value> given =
        switch (v) {
          case Value.Struct s -> s.fields();
          case Value.Dict d -> {
            Map<String, Value> m = new LinkedHashMap<>();
            for (var e : d.entries().entrySet()) {
              if (!(e.getKey() instanceof Value.Str k)) {
                throw fail(
                    path, "has a non-string key " + e.getKey() + "; struct fields are named");
              }
              m.put(k.value(), e.getValue());
            }
            yield m;
          }
          default -> throw mismatch(v, st, path);
        };
    for (String k : given.keySet()) {
      if (st.indexOf(k) < 0) {
        throw fail(path.field(k), "is not a field of " + st);
      }
    }
    Map<String, Value> out = new LinkedHashMap<>();
    for (Type.Struct.Field f : st.fields()) {
      Value fv = given.get(f.name());
      if (fv == null) {
        if (f.type() instanceof Type.OptionalOf) {
          fv = Value.NULL;
        } else {
          throw fail(path.field(f.name()), "is missing; " + st + " requires it");
        }
      }
      out.put(f.name(), coerce(fv, f.type(), path.field(f.name())));
    }
    return new Value.Struct(
        st.name().isEmpty() && v instanceof Value.Struct s ? s.name() : st.name(), out);
  }

  private static Value ndarray(Value v, Type.NdArray nd, Path path) {
    Value.NdArray a =
        switch (v) {
          case Value.NdArray x -> x;
          case Value.Seq s -> fromNestedList(s, nd.dtype(), path);
          default -> throw mismatch(v, nd, path);
        };
    if (a.dtype() != nd.dtype()) {
      throw fail(
          path,
          "is "
              + a
              + " but "
              + nd
              + " is expected; convert the array on the caller's side (ndarrays move as one"
              + " block and are never converted element by element)");
    }
    if (nd.shape() != null) {
      long[] shape = a.shape();
      boolean ok = shape.length == nd.shape().size();
      for (int i = 0; ok && i < shape.length; i++) {
        long want = nd.shape().get(i);
        ok = want < 0 || want == shape[i];
      }
      if (!ok) {
        throw fail(path, "has shape " + Arrays.toString(shape) + " but " + nd + " is expected");
      }
    }
    return a;
  }

  /** A JSON-style nested list of numbers into a fresh array: used by the CLI and config. */
  private static Value.NdArray fromNestedList(Value.Seq s, Type.Scalar dtype, Path path) {
    List<Long> shape = new ArrayList<>();
    Value cur = s;
    while (cur instanceof Value.Seq q) {
      shape.add((long) q.items().size());
      cur = q.items().isEmpty() ? null : q.items().getFirst();
    }
    long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
    Value.NdArray out = Value.NdArray.allocate(dtype, dims);
    long[] index = {0};
    fill(s, 0, dims, dtype, out.data(), index, path);
    return out;
  }

  private static void fill(
      Value v,
      int depth,
      long[] dims,
      Type.Scalar dtype,
      MemorySegment seg,
      long[] index,
      Path path) {
    if (depth == dims.length) {
      Value c = coerce(v, dtype, path);
      long off = index[0]++ * dtype.byteSize();
      switch (c) {
        case Value.Float f when dtype == Type.Scalar.F64 ->
            seg.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, off, f.value());
        case Value.Float f -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, off, (float) f.value());
        case Value.Bool b -> seg.set(ValueLayout.JAVA_BYTE, off, (byte) (b.value() ? 1 : 0));
        case Value.Int i ->
            MemorySegment.copy(
                MemorySegment.ofArray(new long[] {i.value()}), 0, seg, off, dtype.byteSize());
        default -> throw mismatch(v, dtype, path);
      }
      return;
    }
    if (!(v instanceof Value.Seq q) || q.items().size() != dims[depth]) {
      throw fail(path, "is not a rectangular nested list; an ndarray needs equal-length rows");
    }
    for (int i = 0; i < q.items().size(); i++) {
      fill(q.items().get(i), depth + 1, dims, dtype, seg, index, path.index(i));
    }
  }

  private static StatusException mismatch(Value v, Type t, Path path) {
    return fail(path, "is " + describe(v) + ", expected " + t);
  }

  private static String describe(Value v) {
    return switch (v) {
      case Value.Null n -> "null";
      case Value.Str s -> "a string";
      case Value.Seq s -> "a list";
      case Value.Dict d -> "a map";
      case Value.Struct s -> "a struct";
      default -> v.type() + " " + v;
    };
  }

  private static StatusException fail(Path path, String what) {
    return Status.INVALID_ARGUMENT.withDescription(path + " " + what).asException();
  }

  /** The path of an element, built only when an error is reported. */
  private record Path(String text) {
    Path(int arg, String name) {
      this("args[" + arg + "] (" + name + ")");
    }

    Path index(int i) {
      return new Path(base() + "[" + i + "]" + suffix());
    }

    Path field(String f) {
      return new Path(base() + "." + f + suffix());
    }

    Path key(Value k) {
      return new Path(base() + "[" + k + "]" + suffix());
    }

    // "args[1] (xs)" keeps the parameter name at the end: args[1][3].name (xs)
    private String base() {
      int p = text.indexOf(" (");
      return p < 0 ? text : text.substring(0, p);
    }

    private String suffix() {
      int p = text.indexOf(" (");
      return p < 0 ? "" : text.substring(p);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
