package io.polycall.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallContext;
import io.polycall.CallInterceptor;
import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PolyCallTest {
  private PolyCall pc = PolyCall.create();

  @AfterEach
  void close() {
    pc.close();
  }

  @PolyNamespace("ops")
  public interface Ops {
    long add(long a, long b);

    double hypot(double x, double y);

    @PolyFunction(name = "text.shout")
    String shout(String s);

    long missing(long x);
  }

  @PolyNamespace("text")
  public static final class TextFunctions {
    @PolyFunction
    public static String shout(String s) {
      return s.toUpperCase() + "!";
    }

    @PolyFunction(doc = "Always fails.")
    public static String explode(String why) {
      throw new IllegalStateException("exploded: " + why);
    }
  }

  @Test
  void aTypedProxyCallsFunctionsOfTheRegistry() {
    pc.jvm().register("ops.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    pc.jvm().register("ops.hypot(x: f64, y: f64) -> f64", (DoubleBinaryOperator) Math::hypot);
    pc.jvm().register(TextFunctions.class);
    Ops ops = pc.bind(Ops.class);
    assertEquals(5, ops.add(2, 3));
    assertEquals(5.0, ops.hypot(3, 4));
    assertEquals("HI!", ops.shout("hi"));
    assertTrue(ops.toString().contains("Ops"));
  }

  @Test
  void aProxyBoundBeforeRegistrationStartsWorkingAfterIt() {
    Ops ops = pc.bind(Ops.class);
    StatusException e = assertThrows(StatusException.class, () -> ops.add(1, 2));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    pc.jvm().register("ops.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    assertEquals(3, ops.add(1, 2));
    pc.registry().unregister("ops.add");
    pc.jvm().register("ops.add(a: i64, b: i64) -> i64", (LongBinaryOperator) (a, b) -> a * b);
    assertEquals(2, ops.add(1, 2));
  }

  @Test
  void aProxyMethodWhoseFunctionIsMissingFailsWithNotFound() {
    Ops ops = pc.bind(Ops.class);
    StatusException e = assertThrows(StatusException.class, () -> ops.missing(1));
    assertTrue(e.status().description().contains("ops.missing"));
  }

  @Test
  void aJavaExceptionBecomesUnknownWithItsStackAndTheCallFrame() {
    pc.jvm().register(TextFunctions.class);
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("text.explode", Value.str("now")));
    assertEquals(Status.Code.UNKNOWN, e.status().code());
    assertEquals("java.lang.IllegalStateException: exploded: now", e.status().description());
    List<io.polycall.Status.StackFrame> frames = e.status().frames();
    assertTrue(frames.getFirst().function().endsWith("TextFunctions.explode"), frames.toString());
    assertTrue(
        frames.stream()
            .anyMatch(
                f ->
                    f.language().equals("polycall") && f.function().equals("text.explode@1 [jvm]")),
        frames.toString());
    assertInstanceOf(IllegalStateException.class, e.status().cause());
    assertEquals("HI!", pc.call("text.shout", Value.str("hi")).toJava());
  }

  public interface Divider {
    @PolyFunction(name = "m.div")
    long div(long a, long b);
  }

  @Test
  void aProxyOnTheDirectPathThrowsStatusExceptionsLikeACallByName() {
    pc.jvm().register("m.div(a: i64, b: i64) -> i64", (LongBinaryOperator) (a, b) -> a / b);
    Divider d = pc.bind(Divider.class);
    assertEquals(3, d.div(7, 2));
    StatusException e = assertThrows(StatusException.class, () -> d.div(1, 0));
    assertEquals(Status.Code.UNKNOWN, e.status().code());
    assertTrue(e.status().description().contains("ArithmeticException"), e.status().description());
    assertTrue(e.status().frames().stream().anyMatch(f -> f.function().equals("m.div@1 [jvm]")));
    assertEquals(3, d.div(9, 3));
  }

  @Test
  void aNestedFailureShowsEachFunctionOnceInTheStack() {
    pc.jvm().register(TextFunctions.class);
    pc.jvm()
        .register(
            new Object() {
              @PolyFunction(name = "outer.wrap")
              public String wrap(CallContext ctx, String s) {
                return ctx.caller()
                    .call("text.explode", List.of(Value.str(s)), CallOptions.DEFAULT)
                    .toString();
              }
            });
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("outer.wrap", Value.str("x")));
    List<String> polycallFrames =
        e.status().frames().stream()
            .filter(f -> f.language().equals("polycall"))
            .map(Status.StackFrame::function)
            .toList();
    assertEquals(List.of("text.explode@1 [jvm]", "outer.wrap@1 [jvm]"), polycallFrames);
    assertTrue(e.status().frames().getFirst().function().endsWith("TextFunctions.explode"));
    assertTrue(
        e.status().frames().stream()
            .noneMatch(f -> f.function().startsWith("io.polycall.core.internal")),
        e.status().frames().toString());
  }

  @Test
  void aStatusThrownByAFunctionKeepsItsCode() {
    pc.jvm()
        .register(
            "s.f(x: i64) -> i64",
            (java.util.function.LongUnaryOperator)
                x -> {
                  throw Status.PERMISSION_DENIED.withDescription("not you").asException();
                });
    StatusException e = assertThrows(StatusException.class, () -> pc.call("s.f", Value.i64(1)));
    assertEquals(Status.Code.PERMISSION_DENIED, e.status().code());
  }

  @Test
  void aFunctionThatBreaksItsSignatureIsInternal() {
    pc.jvm()
        .register("s.bad(x: string) -> string", (java.util.function.UnaryOperator<Object>) x -> 42);
    StatusException e = assertThrows(StatusException.class, () -> pc.call("s.bad", Value.str("x")));
    assertEquals(Status.Code.INTERNAL, e.status().code());
    assertTrue(e.status().description().contains("broke its signature"), e.status().description());
  }

  @Test
  void interceptorsRunInOrderAroundTheCallAndMaySeeItsArguments() {
    List<String> log = new CopyOnWriteArrayList<>();
    CallInterceptor outer =
        chain -> {
          log.add("outer>" + chain.call().function().name() + chain.call().args());
          Value v = chain.proceed(chain.call());
          log.add("outer<" + v);
          return v;
        };
    CallInterceptor inner =
        chain -> {
          log.add("inner>");
          Value v = chain.proceed(chain.call());
          log.add("inner<");
          return v;
        };
    pc = PolyCall.builder().withInterceptor(outer).withInterceptor(inner).build();
    pc.jvm().register("m.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    pc.call("m.add", Value.i64(1), Value.i64(2));
    assertEquals(List.of("outer>m.add[1, 2]", "inner>", "inner<", "outer<3"), log);
  }

  @Test
  void anInterceptorCanDenyACallAndTheFunctionNeverRuns() {
    CountDownLatch ran = new CountDownLatch(1);
    pc =
        PolyCall.builder()
            .withInterceptor(
                chain -> {
                  throw Status.PERMISSION_DENIED
                      .withDescription("denied " + chain.call().function().name())
                      .asException();
                })
            .build();
    pc.jvm()
        .register(
            "m.f(x: i64) -> i64",
            (java.util.function.LongUnaryOperator)
                x -> {
                  ran.countDown();
                  return x;
                });
    StatusException e = assertThrows(StatusException.class, () -> pc.call("m.f", Value.i64(1)));
    assertEquals(Status.Code.PERMISSION_DENIED, e.status().code());
    assertEquals(1, ran.getCount());
  }

  @Test
  void anInterceptorCanRewriteArguments() {
    pc =
        PolyCall.builder()
            .withInterceptor(
                chain ->
                    chain.proceed(chain.call().withArgs(List.of(Value.i64(10), Value.i64(20)))))
            .build();
    pc.jvm().register("m.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    assertEquals(Value.i64(30), pc.call("m.add", Value.i64(1), Value.i64(2)));
  }

  @Test
  void proxiesGoThroughTheInterceptorsToo() {
    List<String> seen = new CopyOnWriteArrayList<>();
    pc =
        PolyCall.builder()
            .withInterceptor(
                chain -> {
                  seen.add(chain.call().function().name());
                  return chain.proceed(chain.call());
                })
            .build();
    pc.jvm().register("ops.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    assertEquals(7, pc.bind(Ops.class).add(3, 4));
    assertEquals(List.of("ops.add"), seen);
  }

  @Test
  void cancellingAnAsyncCallInterruptsTheFunction() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    pc.jvm()
        .register(
            "slow.wait(x: i64) -> i64",
            (java.util.function.LongUnaryOperator)
                x -> {
                  started.countDown();
                  try {
                    Thread.sleep(60_000);
                  } catch (InterruptedException e) {
                    interrupted.countDown();
                  }
                  return x;
                });
    CompletableFuture<Value> f = pc.callAsync("slow.wait", Value.i64(1));
    assertTrue(started.await(10, TimeUnit.SECONDS));
    assertTrue(f.cancel(true));
    assertTrue(interrupted.await(10, TimeUnit.SECONDS));
    CompletionException e = assertThrows(CompletionException.class, f::join);
    assertEquals(Status.Code.CANCELLED, ((StatusException) e.getCause()).status().code());
  }

  @Test
  void aCooperativeFunctionSeesItsDeadlinePassInTheContext() throws Exception {
    CountDownLatch sawCancel = new CountDownLatch(1);
    pc.jvm()
        .register(
            new Object() {
              @PolyFunction(name = "slow.spin")
              public void spin(CallContext ctx) {
                while (!ctx.isCancelled()) {
                  Thread.onSpinWait();
                }
                sawCancel.countDown();
              }
            });
    CallOptions soon = CallOptions.DEFAULT.withDeadlineAfter(Duration.ofMillis(50));
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("slow.spin", List.of(), soon));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().code());
    assertTrue(sawCancel.await(10, TimeUnit.SECONDS));
  }

  @Test
  void nestedCallsInheritTheDeadline() {
    pc.jvm()
        .register(
            "inner.sleep(ms: i64) -> i64",
            (java.util.function.LongUnaryOperator)
                ms -> {
                  try {
                    Thread.sleep(ms);
                  } catch (InterruptedException e) {
                    throw Status.CANCELLED.withDescription("interrupted").asException();
                  }
                  return ms;
                });
    pc.jvm()
        .register(
            new Object() {
              @PolyFunction(name = "outer.call")
              public long call(CallContext ctx, long ms) {
                return ((Value.Int)
                        ctx.caller()
                            .call("inner.sleep", List.of(Value.i64(ms)), CallOptions.DEFAULT))
                    .value();
              }
            });
    CallOptions soon = CallOptions.DEFAULT.withDeadlineAfter(Duration.ofMillis(100));
    StatusException e =
        assertThrows(
            StatusException.class, () -> pc.call("outer.call", List.of(Value.i64(5_000)), soon));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().code());
    assertEquals(Value.i64(1), pc.call("outer.call", Value.i64(1)));
  }

  @Test
  void aPreBoundHandleSkipsTheLookupButNotTheChecks() {
    pc.jvm()
        .register(
            "m.add(a: i32, b: i32) -> i32", (java.util.function.IntBinaryOperator) Integer::sum);
    FunctionHandle h = pc.handle("m.add");
    assertEquals(Value.i32(3), h.call(Value.i32(1), Value.i32(2)));
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        assertThrows(StatusException.class, () -> h.call(Value.i64(1L << 40), Value.i32(2)))
            .status()
            .code());
  }

  @Test
  void callsOnAClosedNodeAreFailedPrecondition() {
    pc.close();
    pc.close();
    assertEquals(
        Status.Code.FAILED_PRECONDITION,
        assertThrows(StatusException.class, () -> pc.call("x", Value.i64(1))).status().code());
  }

  @Test
  void lambdasOfGenericInterfacesWorkThroughBoxedValues() {
    pc.jvm()
        .register(
            "g.concat(a: string, b: i64) -> string",
            (java.util.function.BiFunction<String, Long, String>) (a, b) -> a + b);
    assertEquals(Value.str("x42"), pc.call("g.concat", Value.str("x"), Value.i64(42)));
  }

  @Test
  void aJavaMethodWithAnUnmappableTypeIsRejectedAtRegistration() {
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                pc.jvm()
                    .register(
                        new Object() {
                          @PolyFunction(name = "bad.f")
                          public Thread f(Thread t) {
                            return t;
                          }
                        }));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.status().description().contains("java.lang.Thread"), e.status().description());
  }

  @Test
  void aClassWithoutAnnotatedMethodsIsRejected() {
    assertThrows(StatusException.class, () -> pc.jvm().register(new Object()));
  }
}
