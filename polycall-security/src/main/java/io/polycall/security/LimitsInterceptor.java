package io.polycall.security;

import io.polycall.Call;
import io.polycall.CallInterceptor;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.security.internal.Glob;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Refuses a call whose arguments are bigger than the {@link InputLimits} of its function, before
 * any bridge sees them. The message names the offending element by path ({@code args[1][3].name})
 * and the limit with its config key.
 *
 * <p>Codes, following gRPC's guidance: a payload over {@code payload_bytes} is RESOURCE_EXHAUSTED,
 * the code gRPC itself gives a message over its configured maximum size, so a client sees the same
 * code whichever layer refused it. An element over a structural limit (depth, collection length,
 * string bytes, ndarray elements) is INVALID_ARGUMENT: the argument is unacceptable as given,
 * whatever the state of the system, and retrying it unchanged can never succeed.
 *
 * <p>Per-function limits are matched by glob in config order (first match wins). Thread-safe.
 */
public final class LimitsInterceptor implements CallInterceptor {
  private final InputLimits defaults;
  private final List<Map.Entry<Glob, InputLimits>> functions;
  private final Map<String, InputLimits> byFunction = new ConcurrentHashMap<>();

  /**
   * @param functions per-function limits by glob, in match order
   */
  public LimitsInterceptor(InputLimits defaults, Map<String, InputLimits> functions) {
    this.defaults = defaults;
    this.functions = new ArrayList<>();
    new LinkedHashMap<>(functions)
        .forEach((k, v) -> this.functions.add(Map.entry(Glob.function(k), v)));
  }

  public static LimitsInterceptor of(InputLimits defaults) {
    return new LimitsInterceptor(defaults, Map.of());
  }

  /** The limits that apply to {@code f}. */
  public InputLimits limitsFor(FunctionInfo f) {
    return byFunction.computeIfAbsent(
        f.qualifiedName(),
        q -> {
          for (Map.Entry<Glob, InputLimits> e : functions) {
            if (e.getKey().matchesFunction(f.name(), q)) {
              return e.getValue();
            }
          }
          return defaults;
        });
  }

  @Override
  public Value intercept(Chain chain) {
    Call call = chain.call();
    InputLimits limits = limitsFor(call.function());
    if (limits != InputLimits.NONE) {
      try {
        new Walk(limits, call.function().qualifiedName()).args(call.args());
      } catch (StatusException e) {
        CallRecord.current().ifPresent(r -> r.decide("limits", false, e.status().description()));
        throw e;
      }
    }
    return chain.proceed(call);
  }

  /** One check of one call's arguments; sizes as in the canonical encoding (ArgsDigest). */
  private static final class Walk {
    private final InputLimits l;
    private final String function;
    private long size;

    Walk(InputLimits l, String function) {
      this.l = l;
      this.function = function;
    }

    void args(List<Value> args) {
      size = 5;
      for (int i = 0; i < args.size(); i++) {
        value(args.get(i), 1, "args", i, null);
      }
    }

    private void value(Value v, int depth, String parent, int index, String field) {
      switch (v) {
        case Value.Null n -> add(1, parent, index, field);
        case Value.Bool b -> add(1, parent, index, field);
        case Value.Int i -> add(10, parent, index, field);
        case Value.Float f -> add(10, parent, index, field);
        case Value.Str s -> {
          long bytes = utf8Length(s.value());
          check(
              l.stringBytes(),
              bytes,
              "string_bytes",
              "a string of " + bytes + " bytes",
              "bytes",
              parent,
              index,
              field);
          add(5 + bytes, parent, index, field);
        }
        case Value.Bytes b -> {
          long bytes = b.value().length;
          check(
              l.stringBytes(),
              bytes,
              "string_bytes",
              "a bytes value of " + bytes + " bytes",
              "bytes",
              parent,
              index,
              field);
          add(5 + bytes, parent, index, field);
        }
        case Value.Seq s -> {
          String path = nested(depth, parent, index, field);
          check(
              l.collectionLength(),
              s.items().size(),
              "collection_length",
              "a list of " + s.items().size() + " items",
              "items",
              parent,
              index,
              field);
          add(5, parent, index, field);
          for (int i = 0; i < s.items().size(); i++) {
            value(s.items().get(i), depth + 1, path, i, null);
          }
        }
        case Value.Dict d -> {
          String path = nested(depth, parent, index, field);
          check(
              l.collectionLength(),
              d.entries().size(),
              "collection_length",
              "a map of " + d.entries().size() + " entries",
              "entries",
              parent,
              index,
              field);
          add(5, parent, index, field);
          int i = 0;
          for (Map.Entry<Value, Value> e : d.entries().entrySet()) {
            value(e.getKey(), depth + 1, path + "{key " + i + "}", -1, null);
            String key = e.getKey() instanceof Value.Str k ? k.value() : null;
            if (key != null) {
              value(e.getValue(), depth + 1, path, -1, key);
            } else {
              value(e.getValue(), depth + 1, path, i, null);
            }
            i++;
          }
        }
        case Value.Struct s -> {
          String path = nested(depth, parent, index, field);
          check(
              l.collectionLength(),
              s.fields().size(),
              "collection_length",
              "a struct of " + s.fields().size() + " fields",
              "fields",
              parent,
              index,
              field);
          add(10 + utf8Length(s.name()), parent, index, field);
          for (Map.Entry<String, Value> e : s.fields().entrySet()) {
            add(5 + utf8Length(e.getKey()), parent, index, field);
            value(e.getValue(), depth + 1, path, -1, e.getKey());
          }
        }
        case Value.NdArray a -> {
          long n = a.elementCount();
          check(
              l.ndarrayElements(),
              n,
              "ndarray_elements",
              "an ndarray of " + n + " elements",
              "elements",
              parent,
              index,
              field);
          add(6 + 8L * a.rank() + a.data().byteSize(), parent, index, field);
        }
        case Value.Handle h -> add(18 + utf8Length(h.kind()), parent, index, field);
        case Value.Fn f -> add(11 + utf8Length(f.name()), parent, index, field);
      }
    }

    private String nested(int depth, String parent, int index, String field) {
      if (l.depth() > 0 && depth > l.depth()) {
        throw Status.INVALID_ARGUMENT
            .withDescription(
                path(parent, index, field)
                    + ": nesting depth "
                    + depth
                    + " exceeds the limit of "
                    + l.depth()
                    + " levels (security.limits depth, for "
                    + function
                    + "); flatten the value, or raise the limit for this function under"
                    + " security.limits.functions")
            .asException();
      }
      return path(parent, index, field);
    }

    private void check(
        long limit,
        long actual,
        String key,
        String what,
        String unit,
        String parent,
        int index,
        String field) {
      if (limit > 0 && actual > limit) {
        throw Status.INVALID_ARGUMENT
            .withDescription(
                path(parent, index, field)
                    + ": "
                    + what
                    + " exceeds the limit of "
                    + limit
                    + " "
                    + unit
                    + " (security.limits "
                    + key
                    + ", for "
                    + function
                    + "); send less, or raise the limit for this function under"
                    + " security.limits.functions")
            .asException();
      }
    }

    private void add(long bytes, String parent, int index, String field) {
      size += bytes;
      if (l.payloadBytes() > 0 && size > l.payloadBytes()) {
        throw Status.RESOURCE_EXHAUSTED
            .withDescription(
                "the arguments exceed the payload limit of "
                    + l.payloadBytes()
                    + " bytes at "
                    + path(parent, index, field)
                    + " (security.limits payload_bytes, for "
                    + function
                    + "); send less per call (split it), or raise the limit for this function"
                    + " under security.limits.functions")
            .asException();
      }
    }

    private static String path(String parent, int index, String field) {
      if (field != null) {
        return parent + "." + field;
      }
      return index >= 0 ? parent + "[" + index + "]" : parent;
    }

    private static long utf8Length(String s) {
      long n = 0;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          n++;
        } else if (c < 0x800) {
          n += 2;
        } else if (Character.isHighSurrogate(c)) {
          n += 4;
          i++;
        } else {
          n += 3;
        }
      }
      return n;
    }
  }
}
