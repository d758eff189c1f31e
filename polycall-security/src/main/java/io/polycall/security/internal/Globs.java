package io.polycall.security.internal;

import java.util.regex.Pattern;

/** Compiles the policy's globs once, when the policy is read. Stateless. */
public final class Globs {
  private Globs() {}

  /**
   * A function-name glob as in the registry: {@code *} within one dotted segment, {@code **} across
   * segments, {@code ?} one character of a segment.
   */
  public static Pattern function(String glob) {
    return io.polycall.Glob.of(glob).pattern();
  }

  /** A glob over plain text (subjects, role names): {@code *} any run of characters. */
  public static Pattern text(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        re.append(".*");
      } else if (c == '?') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString(), Pattern.DOTALL);
  }

  public static boolean isLiteral(String glob) {
    return glob.indexOf('*') < 0 && glob.indexOf('?') < 0;
  }
}
