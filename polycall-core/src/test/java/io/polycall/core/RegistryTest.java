package io.polycall.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.FunctionInfo;
import io.polycall.RegistryListener;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RegistryTest {
  private final PolyCall pc = PolyCall.create();

  @AfterEach
  void close() {
    pc.close();
  }

  private void add(String sig, int version, String... tags) {
    FunctionInfo info =
        new FunctionInfo(Signature.parse(sig), version, "jvm", Set.of(tags), "doc of " + sig);
    pc.jvm().register(info, (LongBinaryOperator) (a, b) -> a * 100 + version);
  }

  @Test
  void theHighestVersionAnswersAPlainName() {
    add("m.f(a: i64, b: i64) -> i64", 1);
    add("m.f(a: i64, b: i64) -> i64", 3);
    add("m.f(a: i64, b: i64) -> i64", 2);
    assertEquals(Value.i64(103), pc.call("m.f", Value.i64(1), Value.i64(0)));
    assertEquals(Value.i64(102), pc.call("m.f@2", Value.i64(1), Value.i64(0)));
    assertEquals(3, pc.describe("m.f").version());
  }

  @Test
  void aMissingVersionIsNotFoundListingTheVersionsThatExist() {
    add("m.f(a: i64, b: i64) -> i64", 1);
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("m.f@7", Value.i64(1), Value.i64(1)));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(
        e.status().description().contains("registered versions: [1]"), e.status().description());
  }

  @Test
  void aDuplicateNameAndVersionIsAlreadyExistsAndTheFirstStays() {
    add("m.f(a: i64, b: i64) -> i64", 1);
    StatusException e =
        assertThrows(StatusException.class, () -> add("m.f(a: i64, b: i64) -> i64", 1));
    assertEquals(Status.Code.ALREADY_EXISTS, e.status().code());
    assertEquals(Value.i64(101), pc.call("m.f", Value.i64(1), Value.i64(0)));
  }

  @Test
  void unregisteringOneVersionLeavesTheOthers() {
    add("m.f(a: i64, b: i64) -> i64", 1);
    add("m.f(a: i64, b: i64) -> i64", 2);
    assertTrue(pc.registry().unregister("m.f@2"));
    assertEquals(1, pc.describe("m.f").version());
    assertTrue(pc.registry().unregister("m.f"));
    assertFalse(pc.registry().unregister("m.f"));
    assertEquals(
        Status.Code.NOT_FOUND,
        assertThrows(StatusException.class, () -> pc.describe("m.f")).status().code());
  }

  @Test
  void globsMatchWithinOrAcrossNamespaces() {
    add("math.cos(a: i64, b: i64) -> i64", 1);
    add("math.vec.dot(a: i64, b: i64) -> i64", 1);
    add("text.len(a: i64, b: i64) -> i64", 1);
    assertEquals(
        List.of("math.cos"), pc.functions("math.*").stream().map(FunctionInfo::name).toList());
    assertEquals(
        List.of("math.cos", "math.vec.dot"),
        pc.functions("math.**").stream().map(FunctionInfo::name).toList());
    assertEquals(3, pc.functions("**").size());
    assertEquals(
        List.of("text.len"), pc.functions("t?xt.*").stream().map(FunctionInfo::name).toList());
  }

  @Test
  void describeShowsTagsAndDoc() {
    add("m.f(a: i64, b: i64) -> i64", 1, "pure", "idempotent");
    FunctionInfo info = pc.describe("m.f");
    assertTrue(info.hasTag(FunctionInfo.TAG_PURE));
    assertTrue(info.hasTag(FunctionInfo.TAG_IDEMPOTENT));
    assertEquals("jvm", info.bridge());
    assertTrue(info.doc().startsWith("doc of"));
  }

  @Test
  void anUnknownNameSuggestsTheClosest() {
    add("math.cos(a: i64, b: i64) -> i64", 1);
    add("math.sin(a: i64, b: i64) -> i64", 1);
    add("text.upper(a: i64, b: i64) -> i64", 1);
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call("math.cso", Value.i64(1)));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(
        e.status().description().contains("did you mean math.cos"), e.status().description());
    StatusException bare = assertThrows(StatusException.class, () -> pc.call("cos", Value.i64(1)));
    assertTrue(bare.status().description().contains("math.cos"), bare.status().description());
  }

  @Test
  void badNamesAreRejected() {
    for (String bad : List.of("a..b", ".a", "a.", "a b")) {
      StatusException e =
          assertThrows(
              StatusException.class,
              () ->
                  pc.registry()
                      .register(
                          io.polycall.spi.BoundFunction.of(
                              FunctionInfo.of(new Signature(bad, List.of(), null), "jvm"),
                              (a, c) -> Value.NULL)));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code(), bad);
    }
  }

  @Test
  void listenersHearRegistrationsAndRemovals() {
    List<String> events = new CopyOnWriteArrayList<>();
    pc.registry()
        .addListener(
            new RegistryListener() {
              @Override
              public void onRegistered(FunctionInfo f) {
                events.add("+" + f.qualifiedName());
              }

              @Override
              public void onUnregistered(FunctionInfo f) {
                events.add("-" + f.qualifiedName());
              }
            });
    add("m.f(a: i64, b: i64) -> i64", 1);
    add("m.f(a: i64, b: i64) -> i64", 2);
    pc.registry().unregister("m.f");
    assertEquals(List.of("+m.f@1", "+m.f@2", "-m.f@1", "-m.f@2"), events);
  }

  @Test
  void aThrowingListenerDoesNotBreakRegistration() {
    pc.registry()
        .addListener(
            new RegistryListener() {
              @Override
              public void onRegistered(FunctionInfo f) {
                throw new IllegalStateException("listener bug");
              }
            });
    add("m.f(a: i64, b: i64) -> i64", 1);
    assertEquals(Value.i64(101), pc.call("m.f", Value.i64(1), Value.i64(0)));
  }

  @Test
  void concurrentRegistrationOfOneVersionHasExactlyOneWinner() throws Exception {
    int threads = 8;
    AtomicInteger wins = new AtomicInteger();
    AtomicInteger losses = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(
            pool.submit(
                () -> {
                  start.await();
                  try {
                    pc.jvm().register("race.f(x: f64) -> f64", (DoubleUnaryOperator) x -> x);
                    wins.incrementAndGet();
                  } catch (StatusException e) {
                    if (e.status().code() == Status.Code.ALREADY_EXISTS) {
                      losses.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : fs) {
        f.get();
      }
    }
    assertEquals(1, wins.get());
    assertEquals(threads - 1, losses.get());
  }

  @Test
  void callsStayCorrectWhileFunctionsComeAndGo() throws Exception {
    pc.jvm().register("stable.f(x: f64) -> f64", (DoubleUnaryOperator) x -> x + 1);
    try (ExecutorService pool = Executors.newFixedThreadPool(3)) {
      Future<?> churn =
          pool.submit(
              () -> {
                for (int i = 0; i < 2000; i++) {
                  pc.jvm()
                      .register(
                          "churn.f" + (i % 7) + "(x: f64) -> f64", (DoubleUnaryOperator) x -> x);
                  pc.registry().unregister("churn.f" + (i % 7));
                }
                return null;
              });
      List<Future<Boolean>> callers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        callers.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 5000; i++) {
                    if (!pc.call("stable.f", Value.f64(i)).equals(Value.f64(i + 1))) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      churn.get();
      for (Future<Boolean> c : callers) {
        assertTrue(c.get());
      }
    }
  }
}
