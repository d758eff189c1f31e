package io.polycall.gateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.gateway.JsonValues;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A request's arguments as values: a JSON array is positional, an object names the parameters, an
 * empty body is no arguments. The declared types guide what JSON cannot say (bytes, ndarray blocks,
 * big integers as strings); checking and narrowing stay the core's job, which names the path of a
 * bad element ({@code args[1][3].name}). Stateless.
 */
public final class Arguments {
  private Arguments() {}

  /**
   * @param function the function called, or null when it is not registered (the call then fails
   *     NOT_FOUND in the core, with suggestions)
   */
  public static List<Value> of(JsonNode body, FunctionInfo function) {
    if (body == null || body.isNull()) {
      return List.of();
    }
    List<Signature.Param> params = function == null ? List.of() : function.signature().params();
    if (body.isArray()) {
      List<Value> out = new ArrayList<>(body.size());
      for (int i = 0; i < body.size(); i++) {
        Type t = i < params.size() ? params.get(i).type() : Type.Scalar.ANY;
        out.add(convert(body.get(i), t, "args[" + i + "]"));
      }
      return out;
    }
    if (body.isObject()) {
      if (function == null) {
        // Without a signature names cannot be ordered; the call fails NOT_FOUND anyway.
        return List.of();
      }
      Value[] out = new Value[params.size()];
      Iterator<Map.Entry<String, JsonNode>> it = body.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        int i = indexOf(params, e.getKey());
        if (i < 0) {
          throw Status.INVALID_ARGUMENT
              .withDescription(
                  "args."
                      + e.getKey()
                      + ": "
                      + function.signature().name()
                      + " has no parameter named '"
                      + e.getKey()
                      + "'; its signature is "
                      + function.signature())
              .asException();
        }
        out[i] = convert(e.getValue(), params.get(i).type(), "args." + e.getKey());
      }
      for (int i = 0; i < out.length; i++) {
        if (out[i] == null) {
          if (params.get(i).type() instanceof Type.OptionalOf) {
            out[i] = Value.NULL;
          } else {
            throw Status.INVALID_ARGUMENT
                .withDescription(
                    "args."
                        + params.get(i).name()
                        + " is missing; "
                        + function.signature().name()
                        + " takes "
                        + function.signature())
                .asException();
          }
        }
      }
      return List.of(out);
    }
    throw Status.INVALID_ARGUMENT
        .withDescription(
            "the body must be a JSON array of arguments ([1, 2]) or an object naming them"
                + " ({\"a\": 1}); it is a "
                + body.getNodeType().name().toLowerCase(java.util.Locale.ROOT))
        .asException();
  }

  private static Value convert(JsonNode node, Type t, String path) {
    try {
      return JsonValues.toValue(node, t, JsonValues.Dialect.HTTP);
    } catch (io.polycall.StatusException e) {
      throw e.status().withDescription(path + ": " + e.status().description()).asException();
    }
  }

  private static int indexOf(List<Signature.Param> params, String name) {
    for (int i = 0; i < params.size(); i++) {
      if (params.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }
}
