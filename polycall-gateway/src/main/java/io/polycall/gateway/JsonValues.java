package io.polycall.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place where JSON (and CBOR, read into the same tree) becomes {@link Value} and back, for
 * the CLI and the HTTP gateway.
 *
 * <p>JSON to value, without a declared type ({@link #toValue(JsonNode)}):
 *
 * <ul>
 *   <li>an integer becomes {@code i64}; one above {@code Long.MAX_VALUE} and below 2^64 becomes
 *       {@code u64}; any other number becomes {@code f64}. Narrowing to the declared type is the
 *       core's job ({@link io.polycall.Coercion} converts when exact, and only then);
 *   <li>a string, {@code true}/{@code false} and {@code null} become themselves;
 *   <li>an array becomes a list (the core turns a list into an ndarray when one is declared);
 *   <li>an object becomes a map with string keys (the core turns it into a struct when one is
 *       declared).
 * </ul>
 *
 * <p>With a declared type ({@link #toValue(JsonNode, Type)}) the few things JSON cannot say on its
 * own are read from the type: a string for {@code bytes} is its UTF-8 text, or raw bytes written as
 * {@code {"base64": "..."}}; a string for {@code fn} names a registered function; an object {@code
 * {"handle": kind, "id": n, "generation": g}} is a handle; a decimal number for {@code f32} is the
 * nearest f32 (the text "0.1" means the f32 nearest to 0.1, not the f64 nearest to it, which f32
 * cannot hold exactly).
 *
 * <p>Value to JSON ({@link #toJson}): integers as numbers (a u64 above {@code Long.MAX_VALUE} as
 * its unsigned value), floats as numbers (NaN and infinities as the strings {@code "NaN"}, {@code
 * "Infinity"}), bytes as a base64 string, lists and ndarrays as (nested) arrays, maps and structs
 * as objects (map keys as their JSON text when they are not strings), handles as {@code {"handle",
 * "id", "generation"}} and function references as {@code {"fn": name}}.
 *
 * <p>Two {@link Dialect}s differ where people and programs want different things: the CLI's reads a
 * string for {@code bytes} as text and writes ndarrays as nested lists; the HTTP gateway's reads
 * and writes bytes as base64 (so that a result can be sent back as an argument) and writes an
 * ndarray as one block {@code {"dtype": "f64", "shape": [2, 2], "data": base64}}. Both read every
 * form: nested lists and blocks for ndarrays, {@code {"base64": ...}} for bytes, integers written
 * as strings (a JavaScript client cannot hold i64 values beyond 2^53 as numbers), and {@code
 * "NaN"}, {@code "Infinity"}, {@code "-Infinity"} for floats.
 *
 * <p>Stateless and thread-safe.
 */
public final class JsonValues {
  /** What a string means for {@code bytes}, and how ndarrays and bytes are written. */
  public enum Dialect {
    /** For people: bytes given as text, ndarrays printed as nested lists. */
    CLI,
    /** For programs: bytes as base64 (raw in CBOR), ndarrays as {dtype, shape, data} blocks. */
    HTTP
  }

  private static final ObjectMapper MAPPER =
      new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
  private static final ObjectMapper PRETTY =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);
  private static final java.util.regex.Pattern INTEGER_TEXT =
      java.util.regex.Pattern.compile("-?[0-9]{1,20}");

  private JsonValues() {}

  /**
   * Parses JSON text into a value.
   *
   * @param what names the text in errors, such as {@code "argument 2"}
   * @throws io.polycall.StatusException INVALID_ARGUMENT with the parser's message and a hint
   */
  public static Value parse(String json, String what) {
    return toValue(readTree(json, what));
  }

  /** As {@link #parse(String, String)}, reading what JSON cannot say from the declared type. */
  public static Value parse(String json, Type declared, String what) {
    return toValue(readTree(json, what), declared);
  }

  /** Reads JSON text into a tree; INVALID_ARGUMENT naming {@code what} when it is not JSON. */
  public static JsonNode readTree(String json, String what) {
    try {
      JsonNode node = MAPPER.readTree(json);
      if (node == null || node.isMissingNode()) {
        throw Status.INVALID_ARGUMENT
            .withDescription(what + " is empty; write JSON such as 1, \"text\" or [1, 2]")
            .asException();
      }
      return node;
    } catch (JsonProcessingException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              what
                  + " is not JSON ("
                  + e.getOriginalMessage()
                  + "): "
                  + abbreviate(json)
                  + "; strings need double quotes, which the shell needs quoted: '\"text\"'")
          .asException();
    }
  }

  /** A JSON tree as a value, with no declared type to guide it. */
  public static Value toValue(JsonNode node) {
    return toValue(node, Type.Scalar.ANY);
  }

  /** A JSON tree as a value of (or convertible by the core to) {@code declared}. */
  public static Value toValue(JsonNode node, Type declared) {
    return toValue(node, declared, Dialect.CLI);
  }

  /** As {@link #toValue(JsonNode, Type)} in the given dialect. */
  public static Value toValue(JsonNode node, Type declared, Dialect dialect) {
    Type t = declared instanceof Type.OptionalOf o && !node.isNull() ? o.inner() : declared;
    if (node.isBinary()) {
      try {
        return new Value.Bytes(node.binaryValue());
      } catch (java.io.IOException e) {
        throw Status.INVALID_ARGUMENT.withDescription("unreadable byte string").asException();
      }
    }
    if (node.isNull()) {
      return Value.NULL;
    }
    if (node.isBoolean()) {
      return Value.bool(node.booleanValue());
    }
    if (node.isIntegralNumber()) {
      return integer(node.bigIntegerValue());
    }
    if (node.isNumber()) {
      return t == Type.Scalar.F32
          ? Value.f32(Float.parseFloat(node.asText()))
          : Value.f64(node.doubleValue());
    }
    if (node.isTextual()) {
      String s = node.textValue();
      if (t == Type.Scalar.BYTES) {
        return dialect == Dialect.HTTP
            ? bytesOfBase64(s)
            : Value.bytes(s.getBytes(StandardCharsets.UTF_8));
      }
      if (t instanceof Type.Scalar sc && sc.isInteger() && INTEGER_TEXT.matcher(s).matches()) {
        return integer(new BigInteger(s));
      }
      if (t instanceof Type.Scalar sc && sc.isFloat()) {
        switch (s) {
          case "NaN" -> {
            return sc == Type.Scalar.F32 ? Value.f32(Float.NaN) : Value.f64(Double.NaN);
          }
          case "Infinity" -> {
            return sc == Type.Scalar.F32
                ? Value.f32(Float.POSITIVE_INFINITY)
                : Value.f64(Double.POSITIVE_INFINITY);
          }
          case "-Infinity" -> {
            return sc == Type.Scalar.F32
                ? Value.f32(Float.NEGATIVE_INFINITY)
                : Value.f64(Double.NEGATIVE_INFINITY);
          }
          default -> {}
        }
      }
      if (t instanceof Type.Fn fn) {
        return new Value.Fn(s, fn);
      }
      return Value.str(s);
    }
    if (node.isArray()) {
      Type element =
          switch (t) {
            case Type.ListOf l -> l.element();
            case Type.NdArray nd -> nd.dtype();
            default -> Type.Scalar.ANY;
          };
      List<Value> items = new ArrayList<>(node.size());
      for (JsonNode item : node) {
        // An ndarray's nested rows keep the ndarray type so that their leaves see the dtype.
        items.add(
            toValue(item, item.isArray() && t instanceof Type.NdArray ? t : element, dialect));
      }
      return new Value.Seq(items);
    }
    if (node.isObject()) {
      if (t == Type.Scalar.BYTES && node.size() == 1 && node.get("base64") != null) {
        return bytesOfBase64(node.get("base64").asText());
      }
      if ((t instanceof Type.NdArray || t == Type.Scalar.ANY && node.size() == 3)
          && node.has("dtype")
          && node.has("shape")
          && node.has("data")) {
        return ndarrayOfBlock(node);
      }
      if (t instanceof Type.Handle && node.has("handle")) {
        return new Value.Handle(
            node.get("handle").asText(), node.path("id").asLong(), node.path("generation").asInt());
      }
      Map<Value, Value> entries = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = node.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        entries.put(
            Value.str(e.getKey()), toValue(e.getValue(), fieldType(t, e.getKey()), dialect));
      }
      return new Value.Dict(entries);
    }
    throw Status.INVALID_ARGUMENT
        .withDescription("unsupported JSON node " + node.getNodeType())
        .asException();
  }

  private static Type fieldType(Type t, String key) {
    return switch (t) {
      case Type.Struct st -> {
        int i = st.indexOf(key);
        yield i < 0 ? Type.Scalar.ANY : st.fields().get(i).type();
      }
      case Type.MapOf m -> m.value();
      default -> Type.Scalar.ANY;
    };
  }

  private static Value integer(BigInteger b) {
    if (b.bitLength() < 64) {
      return Value.i64(b.longValue());
    }
    if (b.signum() > 0 && b.compareTo(TWO_TO_64) < 0) {
      return Value.u64(b.longValue());
    }
    // Beyond 64 bits: the nearest f64, which the core refuses for an integer type (not exact)
    // and accepts for f64, as it would any other number too big to be exact.
    return Value.f64(b.doubleValue());
  }

  private static Value bytesOfBase64(String text) {
    try {
      return new Value.Bytes(Base64.getDecoder().decode(text));
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription("{\"base64\": ...} holds no valid base64: " + e.getMessage())
          .asException();
    }
  }

  /** A value as a JSON tree, in the CLI's dialect. */
  public static JsonNode toJson(Value v) {
    return toJson(v, Dialect.CLI);
  }

  /**
   * A value as a JSON tree. In the HTTP dialect bytes become binary nodes, which a JSON writer
   * prints as base64 and a CBOR writer as a byte string.
   */
  public static JsonNode toJson(Value v, Dialect dialect) {
    return switch (v) {
      case Value.Null n -> NODES.nullNode();
      case Value.Bool b -> NODES.booleanNode(b.value());
      case Value.Int i ->
          i.isUnsigned64Above63Bits()
              ? NODES.numberNode(new BigInteger(Long.toUnsignedString(i.value())))
              : NODES.numberNode(i.value());
      case Value.Float f -> floatNode(f.value(), f.type() == Type.Scalar.F32);
      case Value.Str s -> NODES.textNode(s.value());
      case Value.Bytes b ->
          dialect == Dialect.HTTP
              ? NODES.binaryNode(b.value())
              : NODES.textNode(Base64.getEncoder().encodeToString(b.value()));
      case Value.Seq s -> {
        ArrayNode a = NODES.arrayNode(s.items().size());
        s.items().forEach(x -> a.add(toJson(x, dialect)));
        yield a;
      }
      case Value.Dict d -> {
        ObjectNode o = NODES.objectNode();
        d.entries().forEach((k, x) -> o.set(keyText(k), toJson(x, dialect)));
        yield o;
      }
      case Value.Struct s -> {
        ObjectNode o = NODES.objectNode();
        s.fields().forEach((k, x) -> o.set(k, toJson(x, dialect)));
        yield o;
      }
      case Value.NdArray a -> dialect == Dialect.HTTP ? ndarrayBlock(a) : ndarray(a);
      case Value.Handle h -> {
        ObjectNode o = NODES.objectNode();
        o.put("handle", h.kind());
        o.put("id", h.id());
        o.put("generation", h.generation());
        yield o;
      }
      case Value.Fn f -> NODES.objectNode().put("fn", f.name());
    };
  }

  /** A value as compact JSON text. */
  public static String toJsonText(Value v) {
    return write(MAPPER, v);
  }

  /** A value as indented JSON text, for people. */
  public static String toPrettyJsonText(Value v) {
    return write(PRETTY, v);
  }

  private static String write(ObjectMapper mapper, Value v) {
    try {
      return mapper.writeValueAsString(toJson(v));
    } catch (JsonProcessingException e) {
      throw Status.INTERNAL
          .withDescription("cannot write " + v.type() + " as JSON")
          .withCause(e)
          .asException();
    }
  }

  private static JsonNode floatNode(double d, boolean f32) {
    // JSON has no NaN or infinities; strings keep the value readable and round-trippable.
    if (!Double.isFinite(d)) {
      return NODES.textNode(Double.toString(d));
    }
    // An f32 prints as the shortest text that reads back as that f32: 0.1, not 0.10000000149.
    return f32 ? NODES.numberNode((float) d) : NODES.numberNode(d);
  }

  private static String keyText(Value k) {
    return k instanceof Value.Str s ? s.value() : toJsonText(k);
  }

  private static JsonNode ndarray(Value.NdArray a) {
    long[] shape = a.shape();
    if (shape.length == 0) {
      return element(a, 0);
    }
    long[] next = {0};
    return rows(a, shape, 0, next);
  }

  private static JsonNode rows(Value.NdArray a, long[] shape, int depth, long[] next) {
    ArrayNode out = NODES.arrayNode();
    for (long i = 0; i < shape[depth]; i++) {
      out.add(depth == shape.length - 1 ? element(a, next[0]++) : rows(a, shape, depth + 1, next));
    }
    return out;
  }

  private static JsonNode element(Value.NdArray a, long i) {
    long off = i * a.dtype().byteSize();
    var seg = a.data();
    return switch (a.dtype()) {
      case BOOL -> NODES.booleanNode(seg.get(ValueLayout.JAVA_BYTE, off) != 0);
      case I8 -> NODES.numberNode(seg.get(ValueLayout.JAVA_BYTE, off));
      case U8 -> NODES.numberNode(Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, off)));
      case I16 -> NODES.numberNode(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, off));
      case U16 ->
          NODES.numberNode(Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, off)));
      case I32 -> NODES.numberNode(seg.get(ValueLayout.JAVA_INT_UNALIGNED, off));
      case U32 ->
          NODES.numberNode(Integer.toUnsignedLong(seg.get(ValueLayout.JAVA_INT_UNALIGNED, off)));
      case I64 -> NODES.numberNode(seg.get(ValueLayout.JAVA_LONG_UNALIGNED, off));
      case U64 -> {
        long bits = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
        yield bits >= 0
            ? NODES.numberNode(bits)
            : NODES.numberNode(new BigInteger(Long.toUnsignedString(bits)));
      }
      case F32 -> floatNode(seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off), true);
      case F64 -> floatNode(seg.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, off), false);
      default -> throw new IllegalStateException("not a dtype: " + a.dtype());
    };
  }

  /** An ndarray as one block: its dtype, its shape and its elements, little-endian, C order. */
  private static JsonNode ndarrayBlock(Value.NdArray a) {
    ObjectNode o = NODES.objectNode();
    o.put("dtype", a.dtype().toString());
    ArrayNode shape = o.putArray("shape");
    for (long d : a.shape()) {
      shape.add(d);
    }
    o.set("data", NODES.binaryNode(a.data().toArray(ValueLayout.JAVA_BYTE)));
    return o;
  }

  private static Value ndarrayOfBlock(JsonNode node) {
    Type.Scalar dtype = Type.Scalar.ofSpelling(node.get("dtype").asText());
    if (dtype == null || !dtype.isDtype()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "ndarray dtype '"
                  + node.get("dtype").asText()
                  + "' is not one of bool, i8..i64, u8..u64, f32, f64")
          .asException();
    }
    JsonNode shapeNode = node.path("shape");
    long[] shape = new long[shapeNode.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong(-1);
      if (shape[i] < 0) {
        throw Status.INVALID_ARGUMENT
            .withDescription("ndarray shape " + shapeNode + " holds a negative or non-integer size")
            .asException();
      }
      count = Math.multiplyExact(count, shape[i]);
    }
    JsonNode data = node.get("data");
    byte[] raw;
    try {
      raw = data.isBinary() ? data.binaryValue() : Base64.getDecoder().decode(data.asText());
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription("ndarray data is not base64: " + e.getMessage())
          .asException();
    }
    if (raw.length != count * dtype.byteSize()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "ndarray data holds "
                  + raw.length
                  + " bytes; shape "
                  + shapeNode
                  + " of "
                  + dtype
                  + " needs "
                  + count * dtype.byteSize())
          .asException();
    }
    Value.NdArray out = Value.NdArray.allocate(dtype, shape);
    java.lang.foreign.MemorySegment.copy(
        java.lang.foreign.MemorySegment.ofArray(raw), 0, out.data(), 0, raw.length);
    return out;
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
