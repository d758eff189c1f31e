package io.polycall.grpc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallContext;
import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The router alone, over scripted fake nodes. */
class RouterTest {
  private static final FunctionInfo PLAIN =
      new FunctionInfo(Signature.parse("m.f(x: i64) -> i64"), 1, "remote", Set.of(), "");
  private static final FunctionInfo IDEMPOTENT =
      PLAIN.withTags(Set.of(FunctionInfo.TAG_IDEMPOTENT));
  private static final CallContext CTX = CallContext.detached(null);

  /** A node that answers with its name, or fails as scripted. */
  static final class FakeNode implements PeerConnection {
    final String name;
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean down;
    volatile Status fails;
    volatile CountDownLatch hold;
    final CountDownLatch entered = new CountDownLatch(1);

    FakeNode(String name) {
      this.name = name;
    }

    @Override
    public Value call(String qualifiedName, Value[] args, CallOptions options)
        throws NodeUnavailableException {
      calls.incrementAndGet();
      entered.countDown();
      if (hold != null) {
        try {
          hold.await();
        } catch (InterruptedException e) {
          throw Status.CANCELLED.asException();
        }
      }
      if (down) {
        throw new NodeUnavailableException("connection refused", null);
      }
      if (fails != null) {
        throw fails.asException();
      }
      return Value.str(name);
    }

    @Override
    public Advertisement listLocal(Duration timeout) {
      return new Advertisement(name, List.of());
    }

    @Override
    public Health checkHealth(Duration timeout) {
      return down ? Health.noAnswer("down") : Health.SERVING;
    }

    @Override
    public void close() {}
  }

  private static Peer peer(FakeNode n) {
    Peer p = new Peer("10.0.0." + n.name.charAt(n.name.length() - 1) + ":7443", n);
    p.nodeId(n.name);
    p.markHealthy();
    return p;
  }

  private static Router router(FunctionInfo info, Peer... peers) {
    Router r = new Router(RetryBudget.ofDefaults());
    r.hosts(Map.of(info.qualifiedName(), List.of(peers)));
    return r;
  }

  @Test
  void aCallGoesToTheNodeWithTheFewestCallsInFlight() throws Throwable {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    Peer pa = peer(a);
    Peer pb = peer(b);
    Router r = router(PLAIN, pa, pb);
    pa.begin(); // one call in flight on n1
    for (int i = 0; i < 5; i++) {
      assertEquals(Value.str("n2"), r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX));
    }
    pa.end();
  }

  @Test
  void callsSpreadOverEquallyLoadedNodes() throws Throwable {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    Router r = router(PLAIN, peer(a), peer(b));
    for (int i = 0; i < 200; i++) {
      r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX);
    }
    assertTrue(a.calls.get() > 0 && b.calls.get() > 0, a.calls + " / " + b.calls);
  }

  @Test
  void anUnhealthyNodeIsSkipped() throws Throwable {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    Peer pa = peer(a);
    pa.markUnhealthy("health check: status NOT_SERVING");
    Router r = router(PLAIN, pa, peer(b));
    for (int i = 0; i < 20; i++) {
      assertEquals(Value.str("n2"), r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX));
    }
    assertEquals(0, a.calls.get());
  }

  @Test
  void whenNoHostIsHealthyEveryHostIsTriedAndAFailureNamesTheNode() throws Throwable {
    FakeNode a = new FakeNode("n1");
    Peer pa = peer(a);
    pa.markUnhealthy("health check: DEADLINE_EXCEEDED");
    Router r = router(PLAIN, pa);
    // A health check can be wrong: with no healthy host, try rather than fail (panic routing).
    assertEquals(Value.str("n1"), r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX));
    a.down = true;
    StatusException e =
        assertThrows(StatusException.class, () -> r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX));
    assertEquals(Status.Code.UNAVAILABLE, e.status().code());
    assertTrue(e.status().description().startsWith("node n1 at 10.0.0.1:7443"), e.getMessage());
    assertEquals(2, a.calls.get());
  }

  @Test
  void oneMissedHealthCheckKeepsANodeInRotationButTwoTakeItOut() {
    Peer pa = peer(new FakeNode("n1"));
    pa.missedHealthCheck("health check: DEADLINE_EXCEEDED");
    assertTrue(pa.isHealthy());
    pa.missedHealthCheck("health check: DEADLINE_EXCEEDED");
    assertFalse(pa.isHealthy());
    pa.markHealthy();
    pa.missedHealthCheck("health check: DEADLINE_EXCEEDED");
    assertTrue(pa.isHealthy());
  }

  @Test
  void aNonIdempotentCallOnAFailingNodeIsUnavailableNamingTheNodeAndNotRetried() {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    a.down = true;
    b.down = true;
    Router r = router(PLAIN, peer(a), peer(b));
    StatusException e =
        assertThrows(StatusException.class, () -> r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX));
    assertEquals(Status.Code.UNAVAILABLE, e.status().code());
    assertTrue(
        e.status().description().matches("node n[12] at 10\\.0\\.0\\.[12]:7443 .*"),
        e.getMessage());
    assertTrue(e.status().description().contains("not tagged idempotent"), e.getMessage());
    assertEquals(1, a.calls.get() + b.calls.get());
  }

  @Test
  void anIdempotentCallIsRetriedOnAnotherNodeAndTheFailedNodeIsMarkedUnhealthy() throws Throwable {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    a.down = true;
    Peer pa = peer(a);
    Peer pb = peer(b);
    pb.begin(); // so n1 is tried first
    Router r = router(IDEMPOTENT, pa, pb);
    assertEquals(Value.str("n2"), r.invoke(IDEMPOTENT, new Value[] {Value.i64(1)}, CTX));
    assertEquals(1, a.calls.get());
    assertFalse(pa.isHealthy());
    assertEquals(Value.str("n2"), r.invoke(IDEMPOTENT, new Value[] {Value.i64(1)}, CTX));
    assertEquals(1, a.calls.get()); // skipped until a health check passes
  }

  @Test
  void aFunctionsOwnFailureIsReturnedAsItIsAndNeverRetried() {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    a.fails = Status.INVALID_ARGUMENT.withDescription("division by zero");
    b.fails = a.fails;
    Router r = router(IDEMPOTENT, peer(a), peer(b));
    StatusException e =
        assertThrows(
            StatusException.class, () -> r.invoke(IDEMPOTENT, new Value[] {Value.i64(1)}, CTX));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertEquals("division by zero", e.status().description());
    assertEquals(1, a.calls.get() + b.calls.get());
  }

  @Test
  void theRetryBudgetStopsRetriesAfterABurstOfFailures() {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    a.down = true;
    b.down = true;
    Peer pa = peer(a);
    Peer pb = peer(b);
    Router r = new Router(new RetryBudget(4, 0.1));
    r.hosts(Map.of(IDEMPOTENT.qualifiedName(), List.of(pa, pb)));
    // 4 tokens: the first failure leaves 3 (> 2, retry), the retry's failure leaves 2.
    assertThrows(
        StatusException.class, () -> r.invoke(IDEMPOTENT, new Value[] {Value.i64(1)}, CTX));
    assertEquals(2, a.calls.get() + b.calls.get());
    pa.markHealthy();
    pb.markHealthy();
    StatusException e =
        assertThrows(
            StatusException.class, () -> r.invoke(IDEMPOTENT, new Value[] {Value.i64(1)}, CTX));
    assertEquals(3, a.calls.get() + b.calls.get()); // no retry: the budget is spent
    assertTrue(e.status().description().contains("retry budget"), e.getMessage());
  }

  @Test
  void aFunctionValueArgumentIsUnimplementedBeforeAnyNodeIsCalled() {
    FakeNode a = new FakeNode("n1");
    Router r = router(PLAIN, peer(a));
    Value fn = new Value.Fn("callback.fn1", null);
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> r.invoke(PLAIN, new Value[] {Value.list(Value.i64(1), fn)}, CTX));
    assertEquals(Status.Code.UNIMPLEMENTED, e.status().code());
    assertEquals(0, a.calls.get());
  }

  @Test
  void outstandingCountsCallsInFlightAndDropsWhenTheyEnd() throws Throwable {
    FakeNode a = new FakeNode("n1");
    a.hold = new CountDownLatch(1);
    Peer pa = peer(a);
    Router r = router(PLAIN, pa);
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    r.invoke(PLAIN, new Value[] {Value.i64(1)}, CTX);
                  } catch (Throwable e) {
                    throw new AssertionError(e);
                  }
                });
    a.entered.await();
    assertEquals(1, pa.outstanding());
    a.hold.countDown();
    t.join();
    assertEquals(0, pa.outstanding());
  }

  @Test
  void aNodeDyingWithManyCallsInFlightCostsTheRetryBudgetOneToken() throws Exception {
    FakeNode a = new FakeNode("n1");
    FakeNode b = new FakeNode("n2");
    a.hold = new CountDownLatch(1);
    a.down = true;
    Peer pa = peer(a);
    Peer pb = peer(b);
    for (int i = 0; i < 100; i++) {
      pb.begin(); // so that every call goes to n1 first
    }
    Router r = new Router(new RetryBudget(4, 0.1));
    r.hosts(Map.of(IDEMPOTENT.qualifiedName(), List.of(pa, pb)));
    List<java.util.concurrent.Future<Value>> calls = new java.util.ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 5; i++) {
        calls.add(pool.submit(() -> invokeUnchecked(r)));
      }
      while (a.calls.get() < 5) {
        Thread.sleep(1);
      }
      a.hold.countDown(); // n1 dies under all five
      for (var f : calls) {
        assertEquals(Value.str("n2"), f.get());
      }
    }
    assertEquals(3.5, r.budget().tokens(), 1e-9); // 4 - 1 for the death + 5 x 0.1 back
  }

  private static Value invokeUnchecked(Router r) throws Exception {
    try {
      return r.invoke(IDEMPOTENT, new Value[] {Value.i64(1)}, CTX);
    } catch (Exception e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }
}
