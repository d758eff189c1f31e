package io.polycall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CallOptionsTest {
  private static final Identity ALICE = new Identity("alice", Identity.JWT, Map.of("iss", "me"));

  @Test
  void defaultOptionsAreAnonymousWithoutDeadlineOrMetadata() {
    assertSame(Identity.ANONYMOUS, CallOptions.DEFAULT.identity());
    assertFalse(CallOptions.DEFAULT.identity().isAuthenticated());
    assertFalse(CallOptions.DEFAULT.hasDeadline());
    assertTrue(CallOptions.DEFAULT.metadata().isEmpty());
  }

  @Test
  void identitySurvivesEveryOtherDerivation() {
    CallOptions o =
        CallOptions.DEFAULT
            .withIdentity(ALICE)
            .withDeadlineAfter(Duration.ofSeconds(5))
            .withMetadata("trace", "t1")
            .withMetadata("authorization", "Bearer x")
            .withoutMetadata("authorization")
            .withoutDeadline();
    assertEquals(ALICE, o.identity());
    assertEquals(Map.of("trace", "t1"), o.metadata());
  }

  @Test
  void removingAbsentMetadataReturnsTheSameOptions() {
    CallOptions o = CallOptions.DEFAULT.withMetadata("a", "1");
    assertSame(o, o.withoutMetadata("b"));
  }

  @Test
  void aWorkerIdentityNamesItsPoolAsSubjectAndKeepsTheProcessId() {
    Identity w = Identity.worker("py-stats", "py-stats-1");
    assertEquals("worker:py-stats", w.subject());
    assertEquals(Identity.WORKER, w.method());
    assertEquals("py-stats-1", w.attributes().get("worker_id"));
    assertTrue(w.isAuthenticated());
    assertEquals("worker:py-stats (worker)", w.toString());
  }
}
