package io.polycall.security.internal;

/** Appends JSON strings to a builder. Stateless and thread-safe. */
public final class Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /** Appends {@code s} as a JSON string, quotes included, escaping what RFC 8259 requires. */
  public static StringBuilder string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          // Control characters and the line separators that some JSON readers treat as line ends:
          // a record must stay on one line whatever a caller put in a name or message.
          if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)) {
            if (Character.isHighSurrogate(c)
                && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1))) {
              sb.append(c).append(s.charAt(++i));
            } else {
              sb.append("\\u")
                  .append(HEX[(c >> 12) & 15])
                  .append(HEX[(c >> 8) & 15])
                  .append(HEX[(c >> 4) & 15])
                  .append(HEX[c & 15]);
            }
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  /** Lower-case hex of {@code bytes}. */
  public static String hex(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = HEX[(bytes[i] >> 4) & 15];
      out[2 * i + 1] = HEX[bytes[i] & 15];
    }
    return new String(out);
  }
}
