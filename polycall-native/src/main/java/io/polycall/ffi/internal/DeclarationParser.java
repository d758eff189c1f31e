package io.polycall.ffi.internal;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.ffi.internal.Declaration.CParam;
import io.polycall.ffi.internal.Declaration.Check;
import io.polycall.ffi.internal.Declaration.Derive;
import io.polycall.ffi.internal.Declaration.Mode;
import io.polycall.ffi.internal.Declaration.Options;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads native declarations. The grammar (the package documentation explains each part):
 *
 * <pre>
 *   declaration := qname '(' [cparam {',' cparam}] ')' ['->' type] ['[' option {',' option} ']']
 *   cparam      := ident ':' [mode] ['*'] ctype ['=' derive]
 *   mode        := 'in' | 'out' | 'inout' | 'release'
 *   ctype       := type                        (canonical, read by Type.parse)
 *                | ('bytes' | ndarray) '[' (ident | number) ']'     (out buffer + its capacity)
 *                | 'fn' '(' [['*'] type {',' ['*'] type}] ')' '-&gt;' type   (callback)
 *   derive      := ('len' | 'bytesize' | 'itemsize') '(' ident ')' | integer
 *   option      := 'critical' | 'errno' | 'pure' | 'idempotent' | 'symbol=' ident
 *                | 'error=' ('nonzero' | 'negative' | 'null') | 'status=' CODE | 'message=' ident
 * </pre>
 *
 * Stateless and thread-safe. Every error is INVALID_ARGUMENT quoting the declaration.
 */
final class DeclarationParser {
  private static final Pattern QNAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
  private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private DeclarationParser() {}

  static Declaration parse(String text) {
    if (text == null || text.isBlank()) {
      throw malformed(String.valueOf(text), "it is empty");
    }
    String s = text.strip();
    String optionText = "";
    if (s.endsWith("]")) {
      int open = matchingOpen(s, s.length() - 1);
      String inside = open < 0 ? "" : s.substring(open + 1, s.length() - 1).strip();
      // A trailing [..] starting with a letter is the option list; [3,?] is an ndarray shape.
      if (open >= 0 && !inside.isEmpty() && Character.isLetter(inside.charAt(0))) {
        optionText = inside;
        s = s.substring(0, open).strip();
      }
    }
    int lp = s.indexOf('(');
    if (lp < 0) {
      throw malformed(text, "expected '(' after the function name");
    }
    String name = s.substring(0, lp).strip();
    if (!QNAME.matcher(name).matches()) {
      throw malformed(text, "'" + name + "' is not a name such as math.cos");
    }
    int rp = matchingClose(s, lp);
    if (rp < 0) {
      throw malformed(text, "the parameter list has no closing ')'");
    }
    String rest = s.substring(rp + 1).strip();
    Type result = null;
    if (!rest.isEmpty()) {
      if (!rest.startsWith("->")) {
        throw malformed(text, "expected '->' and a result type after ')', found '" + rest + "'");
      }
      result = type(text, rest.substring(2).strip(), "the result");
      if (result == Type.Scalar.NULL) {
        result = null;
      }
    }
    List<CParam> params = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String p : splitTopLevel(s.substring(lp + 1, rp))) {
      CParam cp = param(text, p);
      if (!names.add(cp.name())) {
        throw malformed(text, "duplicate parameter name '" + cp.name() + "'");
      }
      params.add(cp);
    }
    String symbol = name.substring(name.lastIndexOf('.') + 1);
    boolean critical = false;
    boolean errno = false;
    Check check = Check.NONE;
    Status.Code status = null;
    String message = null;
    Set<String> tags = new LinkedHashSet<>();
    for (String opt : optionText.isEmpty() ? List.<String>of() : splitTopLevel(optionText)) {
      int eq = opt.indexOf('=');
      String key = (eq < 0 ? opt : opt.substring(0, eq)).strip();
      String value = eq < 0 ? null : opt.substring(eq + 1).strip();
      switch (key) {
        case "critical" -> critical = true;
        case "errno" -> errno = true;
        case "pure", "idempotent" -> tags.add(key);
        case "symbol" -> symbol = ident(text, value, "symbol=");
        case "message" -> message = ident(text, value, "message=");
        case "error" -> {
          try {
            check = Check.valueOf(String.valueOf(value).toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw malformed(text, "error=" + value + ": write error=nonzero, negative or null");
          }
        }
        case "status" -> {
          try {
            status = Status.Code.valueOf(String.valueOf(value));
          } catch (IllegalArgumentException e) {
            throw malformed(text, "status=" + value + " is not a status code such as NOT_FOUND");
          }
        }
        default ->
            throw malformed(
                text,
                "unknown option '"
                    + opt
                    + "'; options are critical, errno, pure, idempotent, symbol=, error=,"
                    + " status=, message=");
      }
    }
    return new Declaration(
        name,
        symbol,
        List.copyOf(params),
        result,
        new Options(critical, errno, check, status, message, Set.copyOf(tags)),
        text);
  }

  private static CParam param(String text, String p) {
    int colon = p.indexOf(':');
    if (colon < 0) {
      throw malformed(text, "parameter '" + p + "' needs 'name: type'");
    }
    String name = p.substring(0, colon).strip();
    if (!IDENT.matcher(name).matches()) {
      throw malformed(text, "'" + name + "' is not a parameter name");
    }
    String t = p.substring(colon + 1).strip();
    Derive derive = null;
    int eq = topLevelIndexOf(t, '=');
    if (eq >= 0) {
      derive = derive(text, name, t.substring(eq + 1).strip());
      t = t.substring(0, eq).strip();
    }
    Mode mode = Mode.IN;
    for (Mode m : Mode.values()) {
      String word = m.name().toLowerCase(Locale.ROOT);
      if (t.startsWith(word + " ") || t.startsWith(word + "*")) {
        mode = m;
        t = t.substring(word.length()).strip();
        break;
      }
    }
    boolean pointer = t.startsWith("*");
    if (pointer) {
      t = t.substring(1).strip();
    }
    String where = "parameter " + name;
    if (t.startsWith("fn(") || t.startsWith("fn (")) {
      List<Boolean> pointers = new ArrayList<>();
      Type fn = callbackType(text, t, where, pointers);
      return new CParam(name, mode, fn, pointer, derive, null, -1, List.copyOf(pointers));
    }
    String sizeOf = null;
    long sizeFixed = -1;
    if (mode == Mode.OUT && t.endsWith("]") && (t.startsWith("bytes") || t.startsWith("ndarray"))) {
      int open = matchingOpen(t, t.length() - 1);
      String size = t.substring(open + 1, t.length() - 1).strip();
      t = t.substring(0, open).strip();
      if (size.matches("[0-9]+")) {
        sizeFixed = Long.parseLong(size);
      } else if (IDENT.matcher(size).matches()) {
        sizeOf = size;
      } else {
        throw malformed(text, where + ": capacity '" + size + "' is neither a number nor a name");
      }
    }
    Type type = type(text, t, where);
    return new CParam(name, mode, type, pointer, derive, sizeOf, sizeFixed, List.of());
  }

  private static Type callbackType(String text, String t, String where, List<Boolean> pointers) {
    int lp = t.indexOf('(');
    int rp = matchingClose(t, lp);
    if (rp < 0) {
      throw malformed(text, where + ": fn(...) has no closing ')'");
    }
    List<Type> params = new ArrayList<>();
    for (String cp : splitTopLevel(t.substring(lp + 1, rp))) {
      String c = cp.strip();
      boolean ptr = c.startsWith("*");
      pointers.add(ptr);
      params.add(type(text, ptr ? c.substring(1).strip() : c, where));
    }
    String rest = t.substring(rp + 1).strip();
    if (!rest.startsWith("->")) {
      throw malformed(text, where + ": a callback needs '-> type' (write '-> null' for void)");
    }
    return new Type.Fn(params, type(text, rest.substring(2).strip(), where));
  }

  private static Derive derive(String text, String param, String d) {
    if (d.matches("-?[0-9]+")) {
      return new Derive(Derive.Kind.CONST, null, Long.parseLong(d));
    }
    int lp = d.indexOf('(');
    if (lp > 0 && d.endsWith(")")) {
      String fn = d.substring(0, lp).strip();
      String of = d.substring(lp + 1, d.length() - 1).strip();
      for (Derive.Kind k : Derive.Kind.values()) {
        if (k != Derive.Kind.CONST && k.name().toLowerCase(Locale.ROOT).equals(fn)) {
          return new Derive(k, ident(text, of, fn + "("), 0);
        }
      }
    }
    throw malformed(
        text,
        "parameter "
            + param
            + ": '= "
            + d
            + "' is not len(x), bytesize(x), itemsize(x) or an integer");
  }

  private static Type type(String text, String t, String where) {
    try {
      return Type.parse(t);
    } catch (StatusException e) {
      throw malformed(text, where + ": " + e.status().description());
    }
  }

  private static String ident(String text, String value, String what) {
    if (value == null || !IDENT.matcher(value).matches()) {
      throw malformed(text, what + " needs a C identifier, found '" + value + "'");
    }
    return value;
  }

  /** Splits at commas outside of (), <>, {}, []; blank input gives no parts. */
  static List<String> splitTopLevel(String s) {
    List<String> out = new ArrayList<>();
    if (s.isBlank()) {
      return out;
    }
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int change = nesting(s, i);
      if (change != 0) {
        depth += change;
      } else if (c == ',' && depth == 0) {
        out.add(s.substring(start, i).strip());
        start = i + 1;
      }
    }
    out.add(s.substring(start).strip());
    return out;
  }

  /** +1 for an opening bracket at {@code i}, -1 for a closing one ('->' is no bracket), else 0. */
  private static int nesting(String s, int i) {
    char c = s.charAt(i);
    if (c == '(' || c == '<' || c == '{' || c == '[') {
      return 1;
    }
    if (c == ')' || c == '}' || c == ']' || (c == '>' && i > 0 && s.charAt(i - 1) != '-')) {
      return -1;
    }
    return 0;
  }

  private static int topLevelIndexOf(String s, char want) {
    int depth = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int change = nesting(s, i);
      if (change != 0) {
        depth += change;
      } else if (c == want && depth == 0) {
        return i;
      }
    }
    return -1;
  }

  private static int matchingClose(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  private static int matchingOpen(String s, int close) {
    int depth = 0;
    for (int i = close; i >= 0; i--) {
      char c = s.charAt(i);
      if (c == ']') {
        depth++;
      } else if (c == '[' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  static StatusException malformed(String text, String why) {
    return Status.INVALID_ARGUMENT
        .withDescription("malformed native declaration '" + text + "': " + why)
        .asException();
  }
}
