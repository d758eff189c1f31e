package io.polycall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StatusTest {

  @Test
  void codesHaveGrpcNumbers() {
    assertEquals(0, Status.Code.OK.number());
    assertEquals(3, Status.Code.INVALID_ARGUMENT.number());
    assertEquals(5, Status.Code.NOT_FOUND.number());
    assertEquals(14, Status.Code.UNAVAILABLE.number());
    assertEquals(16, Status.Code.UNAUTHENTICATED.number());
    for (Status.Code c : Status.Code.values()) {
      assertSame(c, Status.Code.ofNumber(c.number()));
    }
    assertSame(Status.Code.UNKNOWN, Status.Code.ofNumber(99));
  }

  @Test
  void aThrowableBecomesUnknownWithItsClassAndJavaFrames() {
    Status s = Status.fromThrowable(new IllegalStateException("boom"));
    assertEquals(Status.Code.UNKNOWN, s.code());
    assertEquals("java.lang.IllegalStateException: boom", s.description());
    assertEquals("java", s.frames().getFirst().language());
    assertTrue(s.frames().getFirst().function().contains("StatusTest"));
  }

  @Test
  void aStatusExceptionAnywhereInTheCauseChainKeepsItsStatus() {
    Status inner = Status.PERMISSION_DENIED.withDescription("no");
    Status s = Status.fromThrowable(new RuntimeException(inner.asException()));
    assertEquals(inner, s);
  }

  @Test
  void derivationLeavesTheOriginalUnchanged() {
    Status a = Status.NOT_FOUND.withDescription("x");
    Status b = a.augmentDescription("more");
    assertEquals("x", a.description());
    assertEquals("x: more", b.description());
    assertEquals(Status.NOT_FOUND, Status.NOT_FOUND.withCause(new RuntimeException()));
  }

  @Test
  void theExceptionPrintsTheCrossLanguageStack() {
    Status s =
        Status.UNKNOWN
            .withDescription("ValueError: bad")
            .withFrames(
                java.util.List.of(
                    new Status.StackFrame("python", "mean", "stats.py", 12),
                    new Status.StackFrame("java", "Main.main", "Main.java", 3)));
    String text = s.asException().describeStack();
    assertTrue(text.contains("at [python] mean (stats.py:12)"), text);
    assertTrue(text.contains("at [java] Main.main (Main.java:3)"), text);
  }
}
