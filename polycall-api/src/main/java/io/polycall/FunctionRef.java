package io.polycall;

import java.util.Objects;

/**
 * A name as a caller writes it: {@code math.cos} (the highest version) or {@code math.cos@2}.
 *
 * @param version 0 for "the highest registered"
 */
public record FunctionRef(String name, int version) {
  public FunctionRef {
    Objects.requireNonNull(name, "name");
    if (version < 0) {
      throw new IllegalArgumentException("version must not be negative");
    }
  }

  /**
   * Parses {@code name} or {@code name@N}.
   *
   * @throws StatusException INVALID_ARGUMENT if the version is not a positive number
   */
  public static FunctionRef parse(String text) {
    int at = text.lastIndexOf('@');
    if (at < 0) {
      return new FunctionRef(text, 0);
    }
    String v = text.substring(at + 1);
    try {
      int version = Integer.parseInt(v);
      if (version < 1) {
        throw new NumberFormatException();
      }
      return new FunctionRef(text.substring(0, at), version);
    } catch (NumberFormatException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "bad version '" + v + "' in '" + text + "': write name@N with N 1 or more")
          .asException();
    }
  }

  public boolean isLatest() {
    return version == 0;
  }

  @Override
  public String toString() {
    return version == 0 ? name : name + "@" + version;
  }
}
