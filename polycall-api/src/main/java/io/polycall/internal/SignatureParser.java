package io.polycall.internal;

import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * Recursive-descent reader of signatures and types. The grammar, in the order tried:
 *
 * <pre>
 *   signature := qname '(' [param {',' param}] ')' ['->' type]
 *   param     := ident ':' type
 *   type      := base ['?']                      ('T?' is 'optional&lt;T&gt;')
 *   base      := scalar
 *              | 'list' '&lt;' type '&gt;' | 'map' '&lt;' type ',' type '&gt;' | 'optional' '&lt;' type '&gt;'
 *              | 'struct' [ident] '{' [ident ':' type {',' ident ':' type}] '}'
 *              | 'ndarray' '&lt;' scalar '&gt;' ['[' dim {',' dim} ']']     dim := number | '?'
 *              | 'handle' '&lt;' ident '&gt;'
 *              | 'fn' '(' [[ident ':'] type {',' [ident ':'] type}] ')' '-&gt;' type
 *   qname     := ident {'.' ident}
 * </pre>
 *
 * Errors are INVALID_ARGUMENT and show the text with a caret under the column at fault.
 */
public final class SignatureParser {
  private final String text;
  private int pos;

  private SignatureParser(String text) {
    this.text = text;
  }

  public static Signature parseSignature(String text) {
    SignatureParser p = new SignatureParser(requireText(text, "signature"));
    Signature s = p.signature();
    p.expectEnd();
    return s;
  }

  public static Type parseType(String text) {
    SignatureParser p = new SignatureParser(requireText(text, "type"));
    Type t = p.type();
    p.expectEnd();
    return t;
  }

  private static String requireText(String text, String what) {
    if (text == null || text.isBlank()) {
      throw Status.INVALID_ARGUMENT
          .withDescription("malformed " + what + ": it is empty")
          .asException();
    }
    return text;
  }

  private Signature signature() {
    String name = qualifiedName();
    expect('(');
    List<Signature.Param> params = new ArrayList<>();
    if (!peekIs(')')) {
      do {
        int at = skipSpace();
        String pname = ident("a parameter name");
        for (Signature.Param prior : params) {
          if (prior.name().equals(pname)) {
            pos = at;
            throw error("duplicate parameter name '" + pname + "'");
          }
        }
        expect(':');
        params.add(new Signature.Param(pname, type()));
      } while (accept(','));
    }
    expect(')');
    Type result = Type.Scalar.NULL;
    if (accept("->")) {
      result = type();
    }
    return new Signature(name, params, result);
  }

  private String qualifiedName() {
    StringBuilder sb = new StringBuilder(ident("a function name"));
    while (peekIs('.')) {
      pos++;
      sb.append('.').append(ident("a name after '.'"));
    }
    return sb.toString();
  }

  private Type type() {
    Type t = baseType();
    if (accept('?')) {
      t = t instanceof Type.OptionalOf ? t : new Type.OptionalOf(t);
    }
    return t;
  }

  private Type baseType() {
    int start = skipSpace();
    String word = ident("a type");
    Type.Scalar scalar = Type.Scalar.ofSpelling(word);
    if (scalar != null) {
      return scalar;
    }
    switch (word) {
      case "list" -> {
        expect('<');
        Type e = type();
        expect('>');
        return new Type.ListOf(e);
      }
      case "map" -> {
        expect('<');
        Type k = type();
        expect(',');
        Type v = type();
        expect('>');
        return new Type.MapOf(k, v);
      }
      case "optional" -> {
        expect('<');
        Type inner = type();
        expect('>');
        return new Type.OptionalOf(inner);
      }
      case "struct" -> {
        String name = "";
        if (!peekIs('{')) {
          name = ident("a struct name or '{'");
        }
        expect('{');
        List<Type.Struct.Field> fields = new ArrayList<>();
        if (!peekIs('}')) {
          do {
            String f = ident("a field name");
            expect(':');
            fields.add(new Type.Struct.Field(f, type()));
          } while (accept(','));
        }
        expect('}');
        return new Type.Struct(name, fields);
      }
      case "ndarray" -> {
        expect('<');
        int at = skipSpace();
        String d = ident("a dtype");
        Type.Scalar dtype = Type.Scalar.ofSpelling(d);
        if (dtype == null || !dtype.isDtype()) {
          pos = at;
          throw error("'" + d + "' is not an ndarray dtype (use bool, i8..i64, u8..u64, f32, f64)");
        }
        expect('>');
        List<Long> shape = null;
        if (accept('[')) {
          shape = new ArrayList<>();
          do {
            if (accept('?')) {
              shape.add(-1L);
            } else {
              shape.add(number());
            }
          } while (accept(','));
          expect(']');
        }
        return new Type.NdArray(dtype, shape);
      }
      case "handle" -> {
        expect('<');
        String kind = ident("a handle kind");
        expect('>');
        return new Type.Handle(kind);
      }
      case "fn" -> {
        expect('(');
        List<Type> params = new ArrayList<>();
        if (!peekIs(')')) {
          do {
            int save = pos;
            skipSpace();
            if (pos < text.length() && Character.isJavaIdentifierStart(text.charAt(pos))) {
              ident("");
              if (!accept(':')) {
                pos = save;
              }
            } else {
              pos = save;
            }
            params.add(type());
          } while (accept(','));
        }
        expect(')');
        expectWord("->");
        return new Type.Fn(params, type());
      }
      default -> {
        pos = start;
        throw error(
            "unknown type '"
                + word
                + "' (expected one of null bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 string"
                + " bytes any list map optional struct ndarray handle fn)");
      }
    }
  }

  private long number() {
    int start = skipSpace();
    while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
      pos++;
    }
    if (pos == start) {
      throw error("expected a dimension (a number or '?')");
    }
    try {
      return Long.parseLong(text.substring(start, pos));
    } catch (NumberFormatException e) {
      pos = start;
      throw error("dimension too large");
    }
  }

  private String ident(String what) {
    int start = skipSpace();
    if (pos < text.length() && Character.isJavaIdentifierStart(text.charAt(pos))) {
      pos++;
      while (pos < text.length() && Character.isJavaIdentifierPart(text.charAt(pos))) {
        pos++;
      }
      return text.substring(start, pos);
    }
    throw error("expected " + what);
  }

  private int skipSpace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
    return pos;
  }

  private boolean peekIs(char c) {
    skipSpace();
    return pos < text.length() && text.charAt(pos) == c;
  }

  private boolean accept(char c) {
    if (peekIs(c)) {
      pos++;
      return true;
    }
    return false;
  }

  private boolean accept(String s) {
    skipSpace();
    if (text.startsWith(s, pos)) {
      pos += s.length();
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!accept(c)) {
      throw error("expected '" + c + "'");
    }
  }

  private void expectWord(String s) {
    if (!accept(s)) {
      throw error("expected '" + s + "'");
    }
  }

  private void expectEnd() {
    skipSpace();
    if (pos < text.length()) {
      throw error("unexpected '" + text.charAt(pos) + "' after the end");
    }
  }

  private StatusException error(String what) {
    skipSpace();
    String found = pos < text.length() ? "'" + text.charAt(pos) + "'" : "the end";
    String msg =
        "malformed signature at column "
            + (pos + 1)
            + ": "
            + what
            + ", found "
            + found
            + "\n  "
            + text
            + "\n  "
            + " ".repeat(pos)
            + "^";
    return Status.INVALID_ARGUMENT.withDescription(msg).asException();
  }
}
