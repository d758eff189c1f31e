package io.polycall.server.internal;

import io.polycall.Status;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${name}} in config values: a Java system property of that name, else the
 * environment variable of that name or of its upper-case form with dots as underscores ({@code
 * polycall.testlib.dir} or {@code POLYCALL_TESTLIB_DIR}). Stateless and thread-safe.
 */
public final class Substitution {
  private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z0-9_.\\-]+)}");

  private Substitution() {}

  /**
   * The text with every variable replaced.
   *
   * @throws io.polycall.StatusException FAILED_PRECONDITION naming an unset variable and how to set
   *     it; the caller adds where it was found
   */
  public static String apply(String text) {
    return apply(text, Substitution::lookup);
  }

  static String apply(String text, UnaryOperator<String> lookup) {
    Matcher m = VAR.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      String value = lookup.apply(name);
      if (value == null) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                "${"
                    + name
                    + "} is not set; pass -D"
                    + name
                    + "=... to java or export "
                    + envName(name))
            .asException();
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String lookup(String name) {
    String v = System.getProperty(name);
    if (v == null) {
      v = System.getenv(name);
    }
    if (v == null) {
      v = System.getenv(envName(name));
    }
    return v;
  }

  private static String envName(String name) {
    return name.replace('.', '_').replace('-', '_').toUpperCase(Locale.ROOT);
  }
}
