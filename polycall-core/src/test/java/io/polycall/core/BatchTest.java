package io.polycall.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallContext;
import io.polycall.CallInterceptor;
import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.Value;
import io.polycall.spi.BatchInvoker;
import io.polycall.spi.BoundFunction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link PolyCall#batch} over functions whose invoker is a {@link BatchInvoker}. */
class BatchTest {
  private PolyCall pc = PolyCall.create();

  @AfterEach
  void close() {
    pc.close();
  }

  /**
   * A scripted batching bridge: {@code twice(x)} doubles, fails with OUT_OF_RANGE for x = 13, and
   * returns a string (breaking its signature) for x = 99; it records every batch it is given.
   */
  private static final class Twice implements BatchInvoker {
    final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    final AtomicInteger single = new AtomicInteger();

    @Override
    public Value invoke(Value[] args, CallContext context) {
      single.incrementAndGet();
      return one(args).value();
    }

    @Override
    public List<Outcome> invokeAll(List<Value[]> calls, CallContext context) {
      batchSizes.add(calls.size());
      List<Outcome> out = new ArrayList<>();
      for (Value[] args : calls) {
        out.add(one(args));
      }
      return out;
    }

    private static Outcome one(Value[] args) {
      long x = ((Value.Int) args[0]).value();
      if (x == 13) {
        return Outcome.ofStatus(Status.OUT_OF_RANGE.withDescription("unlucky"));
      }
      return Outcome.ofValue(x == 99 ? Value.str("oops") : Value.i64(2 * x));
    }
  }

  private Twice register(String name) {
    Twice t = new Twice();
    pc.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse(name + "(x: i64) -> i64"), "fake"), t));
    return t;
  }

  private static List<CallRequest> calls(String name, int... xs) {
    List<CallRequest> out = new ArrayList<>();
    for (int x : xs) {
      out.add(CallRequest.of(name, Value.i64(x)));
    }
    return out;
  }

  @Test
  void consecutiveCallsOfOneFunctionRunAsOneBatchInOrder() {
    Twice t = register("twice");
    List<CallResult> r = pc.batch(calls("twice", 1, 2, 3, 4, 5));
    assertEquals(List.of(5), t.batchSizes);
    assertEquals(0, t.single.get());
    for (int i = 0; i < 5; i++) {
      assertEquals(Value.i64(2L * (i + 1)), r.get(i).valueOrThrow());
    }
  }

  @Test
  void interleavedFunctionsFormOneGroupPerRunAndKeepTheirOrder() {
    Twice a = register("a.twice");
    Twice b = register("b.twice");
    List<CallRequest> in = new ArrayList<>();
    in.addAll(calls("a.twice", 1, 2, 3));
    in.addAll(calls("b.twice", 10, 20));
    in.addAll(calls("a.twice", 4));
    in.addAll(calls("a.twice", 5, 6));
    List<CallResult> r = pc.batch(in);
    assertEquals(8, r.size());
    long[] want = {2, 4, 6, 20, 40, 8, 10, 12};
    for (int i = 0; i < want.length; i++) {
      assertEquals(Value.i64(want[i]), r.get(i).valueOrThrow(), "result " + i);
    }
    assertEquals(List.of(2), b.batchSizes);
    assertEquals(List.of(3, 3), a.batchSizes, "a.twice 4 then a.twice 5, 6 are one run");
  }

  @Test
  void aFailedCallFailsOnlyItsOwnResult() {
    register("twice");
    List<CallRequest> in = new ArrayList<>(calls("twice", 1, 13, 3, 99, 5));
    in.add(2, CallRequest.of("twice", Value.str("not a number")));
    in.add(CallRequest.of("nowhere", Value.i64(1)));
    List<CallResult> r = pc.batch(in);
    assertEquals(Value.i64(2), r.get(0).valueOrThrow());
    assertEquals(Status.Code.OUT_OF_RANGE, r.get(1).status().code());
    assertTrue(r.get(1).status().description().contains("unlucky"));
    assertEquals(Status.Code.INVALID_ARGUMENT, r.get(2).status().code());
    assertNull(r.get(2).value());
    assertEquals(Value.i64(6), r.get(3).valueOrThrow());
    assertEquals(Status.Code.INTERNAL, r.get(4).status().code(), "99 broke the signature");
    assertEquals(Value.i64(10), r.get(5).valueOrThrow());
    assertEquals(Status.Code.NOT_FOUND, r.get(6).status().code());
  }

  @Test
  void aBatchInvokerThatThrowsFailsEveryCallOfItsGroupOnly() {
    pc.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("broken(x: i64) -> i64"), "fake"),
                new BatchInvoker() {
                  @Override
                  public Value invoke(Value[] args, CallContext context) {
                    throw new IllegalStateException("single");
                  }

                  @Override
                  public List<Outcome> invokeAll(List<Value[]> calls, CallContext context) {
                    throw new IllegalStateException("the whole batch");
                  }
                }));
    register("twice");
    List<CallRequest> in = new ArrayList<>(calls("broken", 1, 2));
    in.addAll(calls("twice", 3, 4));
    List<CallResult> r = pc.batch(in);
    assertTrue(r.get(0).status().description().contains("the whole batch"));
    assertEquals(r.get(0).status().code(), r.get(1).status().code());
    assertTrue(!r.get(1).isOk());
    assertEquals(Value.i64(6), r.get(2).valueOrThrow());
    assertEquals(Value.i64(8), r.get(3).valueOrThrow());
  }

  @Test
  void withAnInterceptorEveryCallGoesThroughTheChainOnItsOwn() {
    AtomicInteger seen = new AtomicInteger();
    pc.close();
    pc =
        PolyCall.builder()
            .withInterceptor(
                (CallInterceptor)
                    chain -> {
                      seen.incrementAndGet();
                      return chain.proceed(null);
                    })
            .build();
    Twice t = register("twice");
    List<CallResult> r = pc.batch(calls("twice", 1, 2, 3));
    assertEquals(3, seen.get());
    assertEquals(3, t.single.get());
    assertTrue(t.batchSizes.isEmpty());
    assertEquals(Value.i64(6), r.get(2).valueOrThrow());
  }

  @Test
  void withADeadlineCallsRunOneByOne() {
    Twice t = register("twice");
    List<CallResult> r =
        pc.batch(
            calls("twice", 1, 2), CallOptions.DEFAULT.withDeadlineAfter(Duration.ofSeconds(30)));
    assertEquals(2, t.single.get());
    assertEquals(Value.i64(4), r.get(1).valueOrThrow());
  }
}
