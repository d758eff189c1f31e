package io.polycall;

import io.polycall.internal.SignatureParser;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A function's name, parameters and result: {@code math.cos(x: f64) -> f64}.
 *
 * <p>{@link #parse} and {@link #toString} are the one reader and printer of signatures, used by the
 * CLI, config files, {@code describe} and error messages. A signature without {@code -> T} returns
 * {@code null}.
 *
 * @param name the qualified name, dots separating namespaces ({@code math.cos})
 */
public record Signature(String name, List<Param> params, Type result) {

  public Signature {
    Objects.requireNonNull(name, "name");
    params = List.copyOf(params);
    result = result == null ? Type.Scalar.NULL : result;
  }

  /** One parameter. */
  public record Param(String name, Type type) {
    public Param {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(type, "type");
    }

    @Override
    public String toString() {
      return name + ": " + type;
    }
  }

  /**
   * Parses {@code ns.name(a: T, b: U) -> R}.
   *
   * @throws StatusException INVALID_ARGUMENT naming the column and what was expected
   */
  public static Signature parse(String text) {
    return SignatureParser.parseSignature(text);
  }

  public static Signature of(String name, Type result, Param... params) {
    return new Signature(name, List.of(params), result);
  }

  public Signature withName(String newName) {
    return new Signature(newName, params, result);
  }

  public int arity() {
    return params.size();
  }

  /** The namespace part of the name ({@code math} for {@code math.cos}), or empty. */
  public String namespace() {
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(0, dot);
  }

  /** The parameter list and result, without the name: {@code (x: f64) -> f64}. */
  public String shape() {
    return params.stream().map(Param::toString).collect(Collectors.joining(", ", "(", ")"))
        + " -> "
        + result;
  }

  /** This signature as an {@code fn} type. */
  public Type.Fn asFnType() {
    return new Type.Fn(params.stream().map(Param::type).toList(), result);
  }

  @Override
  public String toString() {
    return name + shape();
  }
}
