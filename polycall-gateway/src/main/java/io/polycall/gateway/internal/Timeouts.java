package io.polycall.gateway.internal;

import io.polycall.Status;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads call timeouts from requests: {@code X-PolyCall-Timeout: 500ms} (units ns, us, ms, s, m, h;
 * decimals allowed) and gRPC's {@code grpc-timeout: 500m} (at most 8 digits and one of H M S m u
 * n). Stateless.
 */
public final class Timeouts {
  public static final String HEADER = "x-polycall-timeout";
  public static final String GRPC_HEADER = "grpc-timeout";

  private static final Pattern OURS = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h)");
  private static final Pattern GRPC = Pattern.compile("(\\d{1,8})([HMSmun])");

  private Timeouts() {}

  /** Parses {@code X-PolyCall-Timeout}; INVALID_ARGUMENT naming the header when malformed. */
  public static Duration parse(String text, String header) {
    String t = text.trim();
    Matcher m = OURS.matcher(t);
    if (m.matches()) {
      double amount = Double.parseDouble(m.group(1));
      double nanosPerUnit =
          switch (m.group(2)) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "m" -> 60e9;
            default -> 3600e9;
          };
      return Duration.ofNanos((long) Math.min(amount * nanosPerUnit, Long.MAX_VALUE / 2.0));
    }
    throw Status.INVALID_ARGUMENT
        .withDescription(
            header + ": '" + text + "' is not a timeout; write a number and a unit: 500ms, 2s, 1m")
        .asException();
  }

  /** Parses gRPC's {@code grpc-timeout}; INVALID_ARGUMENT when malformed. */
  public static Duration parseGrpc(String text) {
    Matcher m = GRPC.matcher(text.trim());
    if (!m.matches()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              GRPC_HEADER
                  + ": '"
                  + text
                  + "' is not a gRPC timeout; write up to 8 digits and a unit H, M, S, m, u or n"
                  + " (500m is 500 ms)")
          .asException();
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "H" -> Duration.ofHours(n);
      case "M" -> Duration.ofMinutes(n);
      case "S" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMillis(n);
      case "u" -> Duration.ofNanos(n * 1000);
      default -> Duration.ofNanos(n);
    };
  }
}
