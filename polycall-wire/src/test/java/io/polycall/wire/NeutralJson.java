package io.polycall.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The language-neutral JSON form of a value that {@code spec/vectors} uses (WIRE.md, "Test
 * vectors"): one key naming the kind, 64-bit integers as strings, NaN and the infinities as
 * strings, bytes and ndarray data as base64.
 */
final class NeutralJson {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private NeutralJson() {}

  static JsonNode toJson(Value v) {
    ObjectNode o = F.objectNode();
    switch (v) {
      case Value.Null n -> o.putNull("null");
      case Value.Bool b -> o.put("bool", b.value());
      case Value.Int i -> {
        String key = i.type().toString();
        switch (i.type()) {
          case I64 -> o.put(key, Long.toString(i.value()));
          case U64 -> o.put(key, Long.toUnsignedString(i.value()));
          default -> o.put(key, i.value());
        }
      }
      case Value.Float f -> {
        String key = f.type().toString();
        double d = f.value();
        if (Double.isNaN(d)) {
          o.put(key, "NaN");
        } else if (Double.isInfinite(d)) {
          o.put(key, d > 0 ? "Infinity" : "-Infinity");
        } else {
          o.put(key, d);
        }
      }
      case Value.Str s -> o.put("string", s.value());
      case Value.Bytes b -> o.put("bytes", Base64.getEncoder().encodeToString(b.value()));
      case Value.Seq s -> {
        ArrayNode a = o.putArray("list");
        s.items().forEach(x -> a.add(toJson(x)));
      }
      case Value.Dict d -> {
        ArrayNode a = o.putArray("map");
        d.entries().forEach((k, x) -> a.addArray().add(toJson(k)).add(toJson(x)));
      }
      case Value.Struct s -> {
        ObjectNode st = o.putObject("struct");
        st.put("name", s.name());
        ArrayNode fs = st.putArray("fields");
        s.fields().forEach((n, x) -> fs.addArray().add(n).add(toJson(x)));
      }
      case Value.NdArray nd -> {
        ObjectNode a = o.putObject("ndarray");
        a.put("dtype", nd.dtype().toString());
        ArrayNode shape = a.putArray("shape");
        for (long d : nd.shape()) {
          shape.add(d);
        }
        a.put("data", Base64.getEncoder().encodeToString(nd.data().toArray(ValueLayout.JAVA_BYTE)));
      }
      case Value.Handle h -> {
        ObjectNode a = o.putObject("handle");
        a.put("kind", h.kind());
        a.put("id", Long.toUnsignedString(h.id()));
        a.put("generation", Integer.toUnsignedLong(h.generation()));
      }
      case Value.Fn fn -> {
        ObjectNode a = o.putObject("fn");
        a.put("name", fn.name());
        a.put("signature", fn.signature() == null ? "" : fn.signature().toString());
      }
    }
    return o;
  }

  static Value fromJson(JsonNode n) {
    if (!n.isObject() || n.size() != 1) {
      throw new IllegalArgumentException("a neutral value has exactly one key: " + n);
    }
    Map.Entry<String, JsonNode> e = n.properties().iterator().next();
    String kind = e.getKey();
    JsonNode x = e.getValue();
    return switch (kind) {
      case "null" -> Value.NULL;
      case "bool" -> Value.bool(x.booleanValue());
      case "i8", "i16", "i32" -> Value.Int.of(x.longValue(), Type.Scalar.ofSpelling(kind));
      case "i64" -> Value.i64(Long.parseLong(x.textValue()));
      case "u8", "u16", "u32" -> Value.Int.of(x.longValue(), Type.Scalar.ofSpelling(kind));
      case "u64" -> Value.u64(Long.parseUnsignedLong(x.textValue()));
      case "f32" -> new Value.Float((float) number(x), Type.Scalar.F32);
      case "f64" -> Value.f64(number(x));
      case "string" -> Value.str(x.textValue());
      case "bytes" -> new Value.Bytes(Base64.getDecoder().decode(x.textValue()));
      case "list" -> {
        Value[] items = new Value[x.size()];
        for (int i = 0; i < items.length; i++) {
          items[i] = fromJson(x.get(i));
        }
        yield new Value.Seq(List.of(items));
      }
      case "map" -> {
        Map<Value, Value> m = new LinkedHashMap<>();
        for (JsonNode kv : x) {
          m.put(fromJson(kv.get(0)), fromJson(kv.get(1)));
        }
        yield new Value.Dict(m);
      }
      case "struct" -> {
        Map<String, Value> fs = new LinkedHashMap<>();
        for (JsonNode f : x.get("fields")) {
          fs.put(f.get(0).textValue(), fromJson(f.get(1)));
        }
        yield new Value.Struct(x.get("name").textValue(), fs);
      }
      case "ndarray" -> {
        long[] shape = new long[x.get("shape").size()];
        Iterator<JsonNode> it = x.get("shape").iterator();
        for (int i = 0; it.hasNext(); i++) {
          shape[i] = it.next().longValue();
        }
        byte[] data = Base64.getDecoder().decode(x.get("data").textValue());
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(data.length, 1), 8);
        seg = seg.asSlice(0, data.length);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, seg, 0, data.length);
        yield Value.NdArray.of(Type.Scalar.ofSpelling(x.get("dtype").textValue()), shape, seg);
      }
      case "handle" ->
          new Value.Handle(
              x.get("kind").textValue(),
              Long.parseUnsignedLong(x.get("id").textValue()),
              (int) x.get("generation").longValue());
      case "fn" -> {
        String sig = x.path("signature").asText("");
        yield new Value.Fn(
            x.get("name").textValue(), sig.isEmpty() ? null : (Type.Fn) Type.parse(sig));
      }
      default -> throw new IllegalArgumentException("unknown kind " + kind);
    };
  }

  private static double number(JsonNode x) {
    if (x.isTextual()) {
      return switch (x.textValue()) {
        case "NaN" -> Double.NaN;
        case "Infinity" -> Double.POSITIVE_INFINITY;
        case "-Infinity" -> Double.NEGATIVE_INFINITY;
        default -> throw new IllegalArgumentException("not a float: " + x);
      };
    }
    return x.doubleValue();
  }
}
