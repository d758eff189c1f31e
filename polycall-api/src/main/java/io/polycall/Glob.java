package io.polycall;

import java.util.regex.Pattern;

/**
 * Function-name globs: {@code *} matches within one namespace segment, {@code **} across dots,
 * {@code ?} one character. {@code math.*} matches {@code math.cos} but not {@code math.vec.dot};
 * {@code math.**} matches both. A glob without wildcards matches the name exactly.
 */
public final class Glob {
  private final Pattern pattern;

  private Glob(Pattern pattern) {
    this.pattern = pattern;
  }

  public static Glob of(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          re.append(".*");
          i++;
        } else {
          re.append("[^.]*");
        }
      } else if (c == '?') {
        re.append("[^.]");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return new Glob(Pattern.compile(re.toString()));
  }

  public boolean matches(String name) {
    return pattern.matcher(name).matches();
  }

  /** The compiled regular expression (for code that keeps patterns of several kinds). */
  public Pattern pattern() {
    return pattern;
  }
}
