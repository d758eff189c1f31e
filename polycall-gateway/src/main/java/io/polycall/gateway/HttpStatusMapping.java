package io.polycall.gateway;

import io.polycall.Status;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a {@link Status} becomes an HTTP response status: the mapping of gRPC's HTTP transcoding
 * ({@code google.rpc.Code} to HTTP), written once for the gateway, its tests and its docs.
 *
 * <pre>
 *   OK                                              200
 *   INVALID_ARGUMENT, FAILED_PRECONDITION,
 *   OUT_OF_RANGE                                    400 Bad Request
 *   UNAUTHENTICATED                                 401 Unauthorized
 *   PERMISSION_DENIED                               403 Forbidden
 *   NOT_FOUND                                       404 Not Found
 *   ALREADY_EXISTS, ABORTED                         409 Conflict
 *   RESOURCE_EXHAUSTED                              429 Too Many Requests (+ Retry-After)
 *   CANCELLED                                       499 Client Closed Request
 *   UNIMPLEMENTED                                   501 Not Implemented
 *   UNAVAILABLE                                     503 Service Unavailable
 *   DEADLINE_EXCEEDED                               504 Gateway Timeout
 *   UNKNOWN, INTERNAL, DATA_LOSS                    500 Internal Server Error
 * </pre>
 *
 * <p>A RESOURCE_EXHAUSTED status carries a retry hint when its description says {@code retry after
 * 250ms} (or {@code 2s}, {@code 1.5s}), or {@code retry_after_ms=250} as the security module's rate
 * limiter writes it; the gateway sends it as {@code Retry-After} in whole seconds, rounded up. Rate
 * limiters that want clients to back off correctly write it one of these ways.
 *
 * <p>Stateless and thread-safe.
 */
public final class HttpStatusMapping {
  private static final Pattern RETRY_AFTER =
      Pattern.compile(
          "retry after (\\d+(?:\\.\\d+)?)\\s*(ms|s)\\b|retry_after_(ms)=(\\d+)",
          Pattern.CASE_INSENSITIVE);

  private HttpStatusMapping() {}

  /** The HTTP status for a code. */
  public static int httpStatus(Status.Code code) {
    return switch (code) {
      case OK -> 200;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case RESOURCE_EXHAUSTED -> 429;
      case CANCELLED -> 499;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
    };
  }

  /**
   * The {@code Retry-After} seconds a status asks for: only RESOURCE_EXHAUSTED with a hint in its
   * description, at least 1.
   */
  public static OptionalLong retryAfterSeconds(Status status) {
    if (status.code() != Status.Code.RESOURCE_EXHAUSTED || status.description() == null) {
      return OptionalLong.empty();
    }
    Matcher m = RETRY_AFTER.matcher(status.description());
    if (!m.find()) {
      return OptionalLong.empty();
    }
    boolean token = m.group(1) == null;
    double amount = Double.parseDouble(token ? m.group(4) : m.group(1));
    double seconds = (token || m.group(2).equalsIgnoreCase("ms")) ? amount / 1000 : amount;
    return OptionalLong.of(Math.max(1, (long) Math.ceil(seconds)));
  }
}
