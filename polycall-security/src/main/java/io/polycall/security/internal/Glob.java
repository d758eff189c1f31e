package io.polycall.security.internal;

import java.util.regex.Pattern;

/**
 * A name pattern of the config: {@code *} matches any run of characters (dots included), {@code ?}
 * one character; everything else matches itself. A pattern with {@code @} matches {@code
 * name@version}, one without matches the name. Immutable and thread-safe.
 */
public record Glob(String pattern, Pattern regex) {

  public static Glob of(String pattern) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return new Glob(pattern, Pattern.compile(re.toString(), Pattern.DOTALL));
  }

  public boolean matches(String s) {
    return regex.matcher(s).matches();
  }

  /** Matches a function by name, or by {@code name@version} when the pattern has a version. */
  public boolean matchesFunction(String name, String qualifiedName) {
    return matches(pattern.indexOf('@') >= 0 ? qualifiedName : name);
  }
}
