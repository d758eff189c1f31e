package io.polycall.gateway.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Type;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The OpenAPI 3.1 document of a node, generated from its registry at request time, so that
 * functions registered or removed at runtime show up on the next request. One path per function
 * ({@code /v1/call/math.add}; {@code /v1/call/math.add@1} as well for each version when several are
 * registered), with request and response schemas derived from the signature (JSON Schema 2020-12,
 * which OpenAPI 3.1 uses), plus the gateway's own endpoints and the error schema. Stateless.
 */
public final class OpenApi {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String ERROR_REF = "#/components/schemas/Error";

  private OpenApi() {}

  /** The document for these functions, sorted by name then version as the registry lists them. */
  public static ObjectNode document(List<FunctionInfo> functions, String version) {
    ObjectNode doc = NODES.objectNode();
    doc.put("openapi", "3.1.0");
    ObjectNode info = doc.putObject("info");
    info.put("title", "PolyCall node");
    info.put("version", version);
    info.put(
        "description",
        "Every function registered on this node, callable with POST /v1/call/{name} and a JSON"
            + " (or CBOR) array of positional arguments or an object of named ones.");
    ObjectNode paths = doc.putObject("paths");
    Map<String, List<FunctionInfo>> byName = new LinkedHashMap<>();
    for (FunctionInfo f : functions) {
      byName.computeIfAbsent(f.name(), k -> new java.util.ArrayList<>()).add(f);
    }
    for (Map.Entry<String, List<FunctionInfo>> e : byName.entrySet()) {
      List<FunctionInfo> versions = e.getValue();
      FunctionInfo newest = versions.getFirst();
      for (FunctionInfo f : versions) {
        if (f.version() > newest.version()) {
          newest = f;
        }
      }
      paths.set("/v1/call/" + e.getKey(), callPath(newest, e.getKey()));
      if (versions.size() > 1) {
        for (FunctionInfo f : versions) {
          paths.set("/v1/call/" + f.qualifiedName(), callPath(f, f.qualifiedName()));
        }
      }
    }
    paths.set("/v1/functions", listPath());
    paths.set("/v1/health", healthPath());
    ObjectNode schemas = doc.putObject("components").putObject("schemas");
    schemas.set("Error", errorSchema());
    return doc;
  }

  private static ObjectNode callPath(FunctionInfo f, String ref) {
    ObjectNode op = NODES.objectNode();
    op.put("operationId", "call_" + ref.replaceAll("[^A-Za-z0-9_]", "_"));
    op.put("summary", f.signature().toString());
    if (!f.doc().isEmpty()) {
      op.put("description", f.doc());
    }
    String ns = f.signature().namespace();
    op.putArray("tags").add(ns.isEmpty() ? "default" : ns);
    ArrayNode params = op.putArray("parameters");
    params
        .addObject()
        .put("name", "X-PolyCall-Timeout")
        .put("in", "header")
        .put("required", false)
        .put("description", "The call's deadline from now: 500ms, 2s, 1m")
        .putObject("schema")
        .put("type", "string");
    ObjectNode body = op.putObject("requestBody");
    body.put("required", f.signature().arity() > 0);
    body.set("content", content(requestSchema(f.signature())));
    ObjectNode responses = op.putObject("responses");
    ObjectNode ok = responses.putObject("200");
    ok.put("description", "The function's result");
    ObjectNode result = NODES.objectNode().put("type", "object");
    result.putObject("properties").set("result", schema(f.signature().result()));
    result.putArray("required").add("result");
    ok.set("content", content(result));
    responses.set("default", errorResponse());
    ObjectNode path = NODES.objectNode();
    path.set("post", op);
    return path;
  }

  private static ObjectNode requestSchema(Signature sig) {
    ObjectNode positional = NODES.objectNode().put("type", "array");
    ArrayNode prefix = positional.putArray("prefixItems");
    ObjectNode named = NODES.objectNode().put("type", "object");
    ObjectNode props = named.putObject("properties");
    ArrayNode required = NODES.arrayNode();
    int minItems = 0;
    for (Signature.Param p : sig.params()) {
      prefix.add(schema(p.type()));
      props.set(p.name(), schema(p.type()));
      if (!(p.type() instanceof Type.OptionalOf)) {
        required.add(p.name());
        minItems = prefix.size();
      }
    }
    positional.put("minItems", minItems);
    positional.put("maxItems", sig.arity());
    if (!required.isEmpty()) {
      named.set("required", required);
    }
    named.put("additionalProperties", false);
    ObjectNode s = NODES.objectNode();
    s.putArray("oneOf").add(positional).add(named);
    return s;
  }

  private static ObjectNode content(ObjectNode schema) {
    ObjectNode c = NODES.objectNode();
    c.putObject("application/json").set("schema", schema);
    c.putObject("application/cbor").set("schema", schema.deepCopy());
    return c;
  }

  private static ObjectNode errorResponse() {
    ObjectNode r = NODES.objectNode();
    r.put(
        "description",
        "The call failed: the HTTP status follows gRPC's mapping of the status code");
    ObjectNode ref = NODES.objectNode().put("$ref", ERROR_REF);
    r.set("content", content(ref));
    return r;
  }

  private static ObjectNode errorSchema() {
    ObjectNode inner = NODES.objectNode().put("type", "object");
    ObjectNode p = inner.putObject("properties");
    p.putObject("code").put("type", "string").put("description", "NOT_FOUND, INVALID_ARGUMENT..");
    p.putObject("status").put("type", "integer").put("description", "the gRPC code number");
    p.putObject("message").put("type", "string");
    p.putObject("suggestions").put("type", "array").putObject("items").put("type", "string");
    ObjectNode frame = NODES.objectNode().put("type", "object");
    ObjectNode fp = frame.putObject("properties");
    fp.putObject("language").put("type", "string");
    fp.putObject("function").put("type", "string");
    fp.putObject("file").put("type", "string");
    fp.putObject("line").put("type", "integer");
    p.putObject("frames").put("type", "array").set("items", frame);
    inner.putArray("required").add("code").add("status").add("message");
    ObjectNode outer = NODES.objectNode().put("type", "object");
    outer.putObject("properties").set("error", inner);
    outer.putArray("required").add("error");
    return outer;
  }

  private static ObjectNode listPath() {
    ObjectNode op = NODES.objectNode();
    op.put("operationId", "listFunctions");
    op.put("summary", "Lists the registered functions, optionally those matching a glob");
    op.putArray("parameters")
        .addObject()
        .put("name", "pattern")
        .put("in", "query")
        .put("required", false)
        .put("description", "A glob such as math.* or **")
        .putObject("schema")
        .put("type", "string");
    ObjectNode responses = op.putObject("responses");
    ObjectNode ok = responses.putObject("200");
    ok.put("description", "The functions, sorted by name then version");
    ObjectNode fn = NODES.objectNode().put("type", "object");
    ObjectNode fp = fn.putObject("properties");
    fp.putObject("name").put("type", "string");
    fp.putObject("version").put("type", "integer");
    fp.putObject("signature").put("type", "string");
    fp.putObject("bridge").put("type", "string");
    fp.putObject("tags").put("type", "array").putObject("items").put("type", "string");
    fp.putObject("doc").put("type", "string");
    ObjectNode list = NODES.objectNode().put("type", "object");
    list.putObject("properties").putObject("functions").put("type", "array").set("items", fn);
    ok.set("content", content(list));
    responses.set("default", errorResponse());
    ObjectNode path = NODES.objectNode();
    path.set("get", op);
    return path;
  }

  private static ObjectNode healthPath() {
    ObjectNode op = NODES.objectNode();
    op.put("operationId", "health");
    op.put("summary", "Whether the gateway serves calls");
    ObjectNode ok = op.putObject("responses").putObject("200");
    ok.put("description", "Serving");
    ObjectNode s = NODES.objectNode().put("type", "object");
    s.putObject("properties").putObject("status").put("type", "string");
    ok.set("content", content(s));
    ObjectNode path = NODES.objectNode();
    path.set("get", op);
    return path;
  }

  /** The JSON Schema of values of {@code t} as the gateway reads and writes them. */
  public static ObjectNode schema(Type t) {
    ObjectNode s = NODES.objectNode();
    switch (t) {
      case Type.Scalar sc -> scalar(s, sc);
      case Type.ListOf l -> s.put("type", "array").set("items", schema(l.element()));
      case Type.MapOf m -> {
        s.put("type", "object").set("additionalProperties", schema(m.value()));
        if (m.key() != Type.Scalar.STRING) {
          s.put("description", "keys are " + m.key() + " values written as JSON text");
        }
      }
      case Type.OptionalOf o ->
          s.putArray("anyOf").add(schema(o.inner())).addObject().put("type", "null");
      case Type.Struct st -> {
        s.put("type", "object");
        if (!st.name().isEmpty()) {
          s.put("title", st.name());
        }
        ObjectNode props = s.putObject("properties");
        ArrayNode required = s.putArray("required");
        for (Type.Struct.Field f : st.fields()) {
          props.set(f.name(), schema(f.type()));
          required.add(f.name());
        }
      }
      case Type.NdArray nd -> {
        ObjectNode block = NODES.objectNode().put("type", "object");
        ObjectNode p = block.putObject("properties");
        p.putObject("dtype").put("const", nd.dtype().toString());
        p.putObject("shape").put("type", "array").putObject("items").put("type", "integer");
        p.putObject("data")
            .put("type", "string")
            .put("contentEncoding", "base64")
            .put("description", "the elements, little-endian, C order");
        block.putArray("required").add("dtype").add("shape").add("data");
        s.put("description", nd.toString() + ": a block, or (as an argument) nested lists");
        s.putArray("anyOf").add(block).addObject().put("type", "array");
      }
      case Type.Handle h -> {
        s.put("type", "object").put("description", "a handle<" + h.kind() + ">");
        ObjectNode p = s.putObject("properties");
        p.putObject("handle").put("type", "string");
        p.putObject("id").put("type", "integer");
        p.putObject("generation").put("type", "integer");
        s.putArray("required").add("handle").add("id").add("generation");
      }
      case Type.Fn fn ->
          s.put("type", "string")
              .put("description", "the name of a registered function of type " + fn);
    }
    return s;
  }

  private static void scalar(ObjectNode s, Type.Scalar sc) {
    switch (sc) {
      case NULL -> s.put("type", "null");
      case BOOL -> s.put("type", "boolean");
      case I8, I16, I32, U8, U16, U32 ->
          s.put("type", "integer")
              .put("format", sc.toString())
              .put("minimum", sc.minValue())
              .put("maximum", sc.maxValue());
      case I64, U64 -> {
        ObjectNode n = NODES.objectNode().put("type", "integer").put("format", sc.toString());
        if (sc == Type.Scalar.U64) {
          n.put("minimum", 0);
        }
        ObjectNode str =
            NODES
                .objectNode()
                .put("type", "string")
                .put("pattern", sc == Type.Scalar.U64 ? "^[0-9]+$" : "^-?[0-9]+$");
        s.putArray("anyOf").add(n).add(str);
      }
      case F32, F64 -> {
        ObjectNode n =
            NODES
                .objectNode()
                .put("type", "number")
                .put("format", sc == Type.Scalar.F32 ? "float" : "double");
        ObjectNode special = NODES.objectNode().put("type", "string");
        special.putArray("enum").add("NaN").add("Infinity").add("-Infinity");
        s.putArray("anyOf").add(n).add(special);
      }
      case STRING -> s.put("type", "string");
      case BYTES -> s.put("type", "string").put("contentEncoding", "base64");
      case ANY -> s.put("description", "any value");
    }
  }
}
