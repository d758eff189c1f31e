package io.polycall.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.FunctionInfo;
import io.polycall.RegistryListener;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Distance;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Functions of one name@version at several distances: the nearest answers, the others wait. */
class RegistryDistanceTest {
  private final RealRegistry registry = new RealRegistry();
  private final List<String> events = new ArrayList<>();

  RegistryDistanceTest() {
    registry.addListener(
        new RegistryListener() {
          @Override
          public void onRegistered(FunctionInfo f) {
            events.add("+" + f.qualifiedName() + " " + f.bridge());
          }

          @Override
          public void onUnregistered(FunctionInfo f) {
            events.add("-" + f.qualifiedName() + " " + f.bridge());
          }
        });
  }

  private static BoundFunction fn(String bridge, Distance distance, int version) {
    FunctionInfo info =
        new FunctionInfo(
            Signature.parse("stats.mean(xs: list<f64>) -> f64"),
            version,
            bridge,
            java.util.Set.of(),
            "");
    return BoundFunction.of(info, (args, ctx) -> Value.str(bridge)).withDistance(distance);
  }

  private static BoundFunction fn(String bridge, Distance distance) {
    return fn(bridge, distance, 1);
  }

  @Test
  void aLocalRegistrationReplacesARemoteOneAndTheRemoteOneComesBackWhenItGoes() {
    BoundFunction remote = fn("remote", Distance.REMOTE);
    BoundFunction local = fn("python", Distance.WORKER);
    registry.register(remote);
    registry.register(local);
    assertSame(local, registry.find("stats.mean"));
    assertEquals("python", registry.list("**").getFirst().bridge());
    assertEquals(1, registry.list("**").size());

    assertTrue(registry.unregister(local));
    assertSame(remote, registry.find("stats.mean"));
    assertEquals(
        List.of(
            "+stats.mean@1 remote",
            "-stats.mean@1 remote",
            "+stats.mean@1 python",
            "-stats.mean@1 python",
            "+stats.mean@1 remote"),
        events);
  }

  @Test
  void aRemoteRegistrationNeverShadowsOrBlocksALocalOne() {
    BoundFunction local = fn("jvm", Distance.IN_PROCESS);
    BoundFunction remote = fn("remote", Distance.REMOTE);
    registry.register(local);
    registry.register(remote); // no ALREADY_EXISTS: it waits behind the local one
    assertSame(local, registry.find("stats.mean@1"));
    assertEquals(List.of("+stats.mean@1 jvm"), events); // the hidden one is not announced

    assertTrue(registry.unregister(remote));
    assertSame(local, registry.find("stats.mean"));
    assertEquals(List.of("+stats.mean@1 jvm"), events);
    assertFalse(registry.unregister(remote));
  }

  @Test
  void inProcessBeatsAWorkerWhichBeatsARemoteNode() {
    BoundFunction remote = fn("remote", Distance.REMOTE);
    BoundFunction worker = fn("python", Distance.WORKER);
    BoundFunction jvm = fn("jvm", Distance.IN_PROCESS);
    registry.register(worker);
    registry.register(remote);
    registry.register(jvm);
    assertSame(jvm, registry.find("stats.mean"));
    assertTrue(registry.unregister("stats.mean"));
    assertSame(worker, registry.find("stats.mean"));
    assertTrue(registry.unregister("stats.mean@1"));
    assertSame(remote, registry.find("stats.mean"));
    assertTrue(registry.unregister("stats.mean"));
    assertEquals(null, registry.find("stats.mean"));
    assertEquals(0, registry.size());
  }

  @Test
  void aSecondRegistrationAtTheSameDistanceIsAlreadyExists() {
    registry.register(fn("remote", Distance.REMOTE));
    registry.register(fn("jvm", Distance.IN_PROCESS));
    StatusException e =
        assertThrows(StatusException.class, () -> registry.register(fn("other", Distance.REMOTE)));
    assertEquals(Status.Code.ALREADY_EXISTS, e.status().code());
    e = assertThrows(StatusException.class, () -> registry.register(fn("x", Distance.IN_PROCESS)));
    assertEquals(Status.Code.ALREADY_EXISTS, e.status().code());
    assertEquals("jvm", registry.find("stats.mean").info().bridge());
  }

  @Test
  void unregisteringTheHiddenRemoteRegistrationLeavesTheVisibleOneAndOtherVersions() {
    BoundFunction v1Local = fn("jvm", Distance.IN_PROCESS, 1);
    BoundFunction v1Remote = fn("remote", Distance.REMOTE, 1);
    BoundFunction v2Remote = fn("remote", Distance.REMOTE, 2);
    registry.register(v1Local);
    registry.register(v1Remote);
    registry.register(v2Remote);
    assertSame(v2Remote, registry.find("stats.mean"));
    assertTrue(registry.unregister(v2Remote));
    assertTrue(registry.unregister(v1Remote));
    assertSame(v1Local, registry.find("stats.mean"));
    assertEquals(1, registry.list("stats.*").size());
  }
}
