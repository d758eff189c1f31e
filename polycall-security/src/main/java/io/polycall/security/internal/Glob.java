package io.polycall.security.internal;

import java.util.regex.Pattern;

/**
 * A name pattern of the config, of one of two kinds.
 *
 * <ul>
 *   <li>{@link #function}: a function glob with the registry's and the policy's meaning, so that
 *       one pattern covers the same functions wherever the config uses it: {@code *} within one
 *       dot-separated part, {@code **} across parts, {@code ?} one character of a part. {@code
 *       ml.*} matches {@code ml.train}, not {@code ml.vec.dot}. With {@code @} it matches {@code
 *       name@version}, without it the name.
 *   <li>{@link #text}: subjects and file names, where dots are ordinary characters: {@code *} any
 *       run of characters, {@code ?} one.
 * </ul>
 *
 * Immutable and thread-safe.
 */
public record Glob(String pattern, Pattern regex) {

  /** A function-name glob (limits and rate limits per function). */
  public static Glob function(String pattern) {
    return new Glob(pattern, Globs.function(pattern));
  }

  /** A glob over plain text (subjects, library names). */
  public static Glob text(String pattern) {
    return new Glob(pattern, Globs.text(pattern));
  }

  public boolean matches(String s) {
    return regex.matcher(s).matches();
  }

  /** Matches a function by name, or by {@code name@version} when the pattern has a version. */
  public boolean matchesFunction(String name, String qualifiedName) {
    return matches(pattern.indexOf('@') >= 0 ? qualifiedName : name);
  }
}
