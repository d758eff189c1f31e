package io.polycall.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.polycall.Status;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class HttpStatusMappingTest {

  @Test
  void everyCodeMapsAsGrpcsHttpMappingDoes() {
    Map<Status.Code, Integer> expected =
        Map.ofEntries(
            Map.entry(Status.Code.OK, 200),
            Map.entry(Status.Code.CANCELLED, 499),
            Map.entry(Status.Code.UNKNOWN, 500),
            Map.entry(Status.Code.INVALID_ARGUMENT, 400),
            Map.entry(Status.Code.DEADLINE_EXCEEDED, 504),
            Map.entry(Status.Code.NOT_FOUND, 404),
            Map.entry(Status.Code.ALREADY_EXISTS, 409),
            Map.entry(Status.Code.PERMISSION_DENIED, 403),
            Map.entry(Status.Code.RESOURCE_EXHAUSTED, 429),
            Map.entry(Status.Code.FAILED_PRECONDITION, 400),
            Map.entry(Status.Code.ABORTED, 409),
            Map.entry(Status.Code.OUT_OF_RANGE, 400),
            Map.entry(Status.Code.UNIMPLEMENTED, 501),
            Map.entry(Status.Code.INTERNAL, 500),
            Map.entry(Status.Code.UNAVAILABLE, 503),
            Map.entry(Status.Code.DATA_LOSS, 500),
            Map.entry(Status.Code.UNAUTHENTICATED, 401));
    for (Status.Code c : Status.Code.values()) {
      assertEquals(expected.get(c), HttpStatusMapping.httpStatus(c), c.name());
    }
  }

  @Test
  void aRetryHintInTheMessageBecomesWholeSecondsRoundedUp() {
    Status s = Status.RESOURCE_EXHAUSTED;
    assertEquals(
        OptionalLong.of(1),
        HttpStatusMapping.retryAfterSeconds(s.withDescription("rate limit; retry after 250ms")));
    // The security module's rate limiter: "...; retry_after_ms=2500; slow down ...".
    assertEquals(
        OptionalLong.of(3),
        HttpStatusMapping.retryAfterSeconds(
            s.withDescription("rate limit of subject 'm' exceeded; retry_after_ms=2500; slow")));
    assertEquals(
        OptionalLong.of(2),
        HttpStatusMapping.retryAfterSeconds(s.withDescription("Retry after 1.5s, please")));
    assertEquals(
        OptionalLong.empty(), HttpStatusMapping.retryAfterSeconds(s.withDescription("full")));
    assertEquals(
        OptionalLong.empty(),
        HttpStatusMapping.retryAfterSeconds(Status.UNAVAILABLE.withDescription("retry after 2s")));
  }
}
