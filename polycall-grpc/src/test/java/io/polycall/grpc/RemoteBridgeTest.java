package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.spi.BoundFunction;
import io.polycall.testing.TestCerts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing between real nodes on loopback: each host is a PolyCall node behind its own gRPC server,
 * and the caller attaches them through a {@link RemoteBridge}. Faults are real: servers stopped
 * before and during calls, health turned NOT_SERVING, functions added and removed on a host.
 */
class RemoteBridgeTest {
  private final List<AutoCloseable> open = new ArrayList<>();

  /** A node hosting functions that answer with its id. */
  private final class Host {
    final String id;
    final PolyCall node = PolyCall.create();
    final GrpcServer server;
    final String target;
    final CountDownLatch slowEntered = new CountDownLatch(1);

    Host(String id) {
      this.id = id;
      register("who.ami() -> string [idempotent]", (args, ctx) -> Value.str(id));
      register("who.once() -> string", (args, ctx) -> Value.str(id));
      register(
          "who.slow(ms: i64) -> string [idempotent]",
          (args, ctx) -> {
            slowEntered.countDown();
            Thread.sleep(((Value.Int) args[0]).value());
            return Value.str(id);
          });
      register(
          "who.slow_once(ms: i64) -> string",
          (args, ctx) -> {
            slowEntered.countDown();
            Thread.sleep(((Value.Int) args[0]).value());
            return Value.str(id);
          });
      server = GrpcServer.builder(node).withListenAddress("127.0.0.1:0").withNodeId(id).start();
      target = server.target();
      open.add(node);
      open.add(server::shutdownNow);
    }

    /** A signature, optionally followed by tags: {@code f() -> string [idempotent]}. */
    void register(String sig, io.polycall.spi.Invoker inv) {
      Set<String> tags = Set.of();
      int bracket = sig.indexOf(" [");
      if (bracket > 0) {
        tags = Set.of(sig.substring(bracket + 2, sig.length() - 1).split(",\\s*"));
        sig = sig.substring(0, bracket);
      }
      FunctionInfo info = FunctionInfo.of(Signature.parse(sig), "jvm").withTags(tags);
      node.registry().register(BoundFunction.of(info, inv));
    }

    /** The node dies: its server drops every connection and call at once. */
    void kill() {
      server.shutdownNow();
    }

    String target() {
      return target;
    }
  }

  private PolyCall caller;
  private RemoteBridge bridge;

  private void attach(Host... hosts) {
    attach(null, hosts);
  }

  private void attach(String dns, Host... hosts) {
    caller = PolyCall.create();
    caller.jvm().register("local.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    List<String> targets = new ArrayList<>();
    for (Host h : hosts) {
      targets.add(h.target());
    }
    bridge =
        caller.addBridge(
            RemoteBridge.builder(caller.registry(), "caller")
                .peers(targets)
                .dns(dns)
                // Long intervals: the tests drive refresh() and checkHealth() themselves.
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    bridge.start();
  }

  @AfterEach
  void closeAll() throws Exception {
    if (caller != null) {
      caller.close();
    }
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }

  private String call(String fn, Value... args) {
    return ((Value.Str) caller.call(fn, args)).value();
  }

  /** The caller still serves: a local function and (when given) a remote one still work. */
  private void assertCallerServes() {
    assertEquals(Value.i64(5), caller.call("local.add", Value.i64(2), Value.i64(3)));
  }

  @Test
  void aRemoteFunctionIsListedWithBridgeRemoteAndCalledByName() {
    Host a = new Host("node-a");
    attach(a);
    FunctionInfo info = caller.describe("who.ami");
    assertEquals("remote", info.bridge());
    assertTrue(info.hasTag(FunctionInfo.TAG_IDEMPOTENT));
    // nonblocking on the peer, but a network call here: never on this node's transport threads.
    a.register("who.fast() -> string [nonblocking, pure]", (args, ctx) -> Value.str("fast"));
    bridge.refresh();
    assertEquals(Set.of("pure"), caller.describe("who.fast").tags());
    assertEquals("node-a", call("who.ami"));
    assertEquals("node-a", bridge.peers().getFirst().nodeId());
  }

  @Test
  void aCallToANodeThatIsDownIsUnavailableNamingTheNode() {
    Host a = new Host("node-a");
    attach(a);
    a.kill();
    StatusException e = assertThrows(StatusException.class, () -> call("who.once"));
    assertEquals(Status.Code.UNAVAILABLE, e.status().code());
    assertTrue(e.status().description().contains("node node-a at " + a.target()), e.getMessage());
    assertCallerServes();
  }

  @Test
  void aNonIdempotentCallOnANodeThatDiesMidCallIsUnavailableNamingTheNode() throws Exception {
    Host a = new Host("node-a");
    Host b = new Host("node-b");
    attach(a, b);
    CompletableFuture<Value> f = caller.callAsync("who.slow_once", Value.i64(20_000));
    Host busy = awaitEntered(a, b);
    busy.kill();
    StatusException e = assertThrows(StatusException.class, () -> unwrap(f));
    assertEquals(Status.Code.UNAVAILABLE, e.status().code());
    assertTrue(
        e.status().description().contains("node " + busy.id + " at " + busy.target()),
        e.getMessage());
    assertTrue(e.status().description().contains("not tagged idempotent"), e.getMessage());
    assertCallerServes();
    Host other = busy == a ? b : a;
    assertEquals(other.id, call("who.once")); // the dead node is out of rotation
  }

  @Test
  void anIdempotentCallOnANodeThatDiesMidCallCompletesOnAnotherNode() throws Exception {
    Host a = new Host("node-a");
    Host b = new Host("node-b");
    attach(a, b);
    CompletableFuture<Value> f = caller.callAsync("who.slow", Value.i64(1_000));
    Host busy = awaitEntered(a, b);
    busy.kill();
    Host other = busy == a ? b : a;
    assertEquals(Value.str(other.id), f.get(30, TimeUnit.SECONDS));
    assertCallerServes();
  }

  @Test
  void aNodeFailingItsHealthCheckIsSkippedUntilItPassesAgain() {
    Host a = new Host("node-a");
    Host b = new Host("node-b");
    attach(a, b);
    a.server.health().setStatus("", ServingStatus.NOT_SERVING);
    bridge.checkHealth();
    assertFalse(
        bridge.peers().stream()
            .filter(p -> p.nodeId().equals("node-a"))
            .findFirst()
            .orElseThrow()
            .healthy());
    for (int i = 0; i < 20; i++) {
      assertEquals("node-b", call("who.ami"));
    }
    a.server.health().setStatus("", ServingStatus.SERVING);
    bridge.checkHealth();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200 && seen.size() < 2; i++) {
      seen.add(call("who.ami"));
    }
    assertEquals(Set.of("node-a", "node-b"), seen);
  }

  @Test
  void aFunctionThatAppearsOrDisappearsOnAPeerFollowsInTheLocalRegistry() {
    Host a = new Host("node-a");
    attach(a);
    assertTrue(caller.registry().lookup("late.fn").isEmpty());
    a.register(
        "late.fn(x: i64) -> i64", (args, ctx) -> Value.i64(((Value.Int) args[0]).value() + 1));
    bridge.refresh();
    assertEquals(Value.i64(8), caller.call("late.fn", Value.i64(7)));
    assertEquals("remote", caller.describe("late.fn").bridge());
    a.node.registry().unregister("late.fn");
    bridge.refresh();
    StatusException e =
        assertThrows(StatusException.class, () -> caller.call("late.fn", Value.i64(7)));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertCallerServes();
  }

  @Test
  void aLocalFunctionBeatsARemoteOneAndTheRemoteOneAnswersWhenItGoes() {
    Host a = new Host("node-a");
    attach(a);
    FunctionInfo info = FunctionInfo.of(Signature.parse("who.ami() -> string"), "jvm");
    BoundFunction local = BoundFunction.of(info, (args, ctx) -> Value.str("local"));
    caller.registry().register(local);
    assertEquals("local", call("who.ami"));
    assertEquals("jvm", caller.describe("who.ami").bridge());
    bridge.refresh(); // a refresh must not bring the remote one forward
    assertEquals("local", call("who.ami"));
    caller.registry().unregister(local);
    assertEquals("node-a", call("who.ami"));
  }

  @Test
  void aPeerFoundThroughDnsIsAttachedAndANodeNeverRoutesToItself() {
    Host a = new Host("node-a");
    // "localhost" resolves to loopback; the headless-service case of one name, many addresses.
    String dns = "localhost:" + a.server.port();
    caller = PolyCall.create();
    bridge =
        caller.addBridge(
            RemoteBridge.builder(caller.registry(), "caller")
                .dns(dns)
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    bridge.start();
    assertEquals("node-a", call("who.ami"));

    // node-a attaching the same name finds itself, and registers nothing of its own as remote.
    RemoteBridge self =
        a.node.addBridge(
            RemoteBridge.builder(a.node.registry(), "node-a")
                .dns(dns)
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    self.start();
    assertTrue(a.node.functions("**").stream().noneMatch(f -> f.bridge().equals("remote")));
    assertEquals(Value.str("node-a"), a.node.call("who.ami"));
  }

  @Test
  void aStaticPeerThatIsDownAtStartDoesNotStopTheNode() {
    caller = PolyCall.create();
    caller.jvm().register("local.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    bridge =
        caller.addBridge(
            RemoteBridge.builder(caller.registry(), "caller")
                .peers(List.of("127.0.0.1:1"))
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    bridge.start();
    assertFalse(bridge.peers().getFirst().healthy());
    StatusException e = assertThrows(StatusException.class, () -> caller.call("who.ami"));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertCallerServes();
  }

  @Test
  void theCallersDeadlineTravelsToTheRemoteNode() {
    Host a = new Host("node-a");
    attach(a);
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                caller.call(
                    "who.slow_once",
                    List.of(Value.i64(5_000)),
                    io.polycall.CallOptions.DEFAULT.withDeadlineAfter(Duration.ofMillis(200))));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().code());
    assertEquals("node-a", call("who.once"));
  }

  @Test
  void peersOverMutualTlsCallAsTheNodesCertificateIdentity(@TempDir Path certDir) throws Exception {
    TestCerts certs = new TestCerts(certDir);
    TestCerts.Issued ca = certs.ca("Cluster CA");
    TestCerts.Issued server = certs.server(ca);
    TestCerts.Issued callerCert = certs.client(ca, "caller", "CN=node-caller,O=PolyCall");
    PolyCall host = PolyCall.create();
    open.add(host);
    host.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("id.who() -> string"), "jvm"),
                (args, ctx) -> Value.str(ctx.options().identity().subject())));
    GrpcServer tlsServer =
        GrpcServer.builder(host)
            .withListenAddress("127.0.0.1:0")
            .withNodeId("tls-host")
            .withTls(GrpcTls.mutual(server.cert(), server.key(), ca.cert()))
            .start();
    open.add(tlsServer::shutdownNow);
    caller = PolyCall.create();
    bridge =
        caller.addBridge(
            RemoteBridge.builder(caller.registry(), "caller")
                .peers(List.of(tlsServer.target()))
                .tls(ca.cert(), callerCert.cert(), callerCert.key(), "localhost")
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    bridge.start();
    assertTrue(bridge.peers().getFirst().healthy(), bridge.peers().toString());
    String who = call("id.who");
    assertTrue(who.contains("node-caller"), who);

    // A plaintext bridge cannot reach the TLS node: it is out of rotation, the caller still serves.
    PolyCall plain = PolyCall.create();
    open.add(plain);
    RemoteBridge plainBridge =
        plain.addBridge(
            RemoteBridge.builder(plain.registry(), "plain")
                .peers(List.of(tlsServer.target()))
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    plainBridge.start();
    assertFalse(plainBridge.peers().getFirst().healthy());
    assertTrue(plain.registry().lookup("id.who").isEmpty());
  }

  @Test
  void aNodeLeavingAndRejoiningTheDnsNameLeavesAndRejoinsTheRoutingOnRefresh() {
    Host a = new Host("node-a");
    // What the headless service's name resolves to, changed as pods come and go.
    java.util.concurrent.atomic.AtomicReference<java.net.InetAddress[]> answer =
        new java.util.concurrent.atomic.AtomicReference<>(
            new java.net.InetAddress[] {java.net.InetAddress.getLoopbackAddress()});
    caller = PolyCall.create();
    caller.jvm().register("local.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    bridge =
        caller.addBridge(
            RemoteBridge.builder(caller.registry(), "caller")
                .dns("polycall-peers:" + a.server.port())
                .resolver(
                    host -> {
                      assertEquals("polycall-peers", host);
                      return answer.get();
                    })
                .healthInterval(Duration.ofMinutes(5))
                .refreshInterval(Duration.ofMinutes(5))
                .build());
    bridge.start();
    assertEquals("node-a", call("who.ami"));

    answer.set(new java.net.InetAddress[0]); // scaled down: the pod is gone from the name
    bridge.refresh();
    assertTrue(bridge.peers().isEmpty(), bridge.peers().toString());
    StatusException e = assertThrows(StatusException.class, () -> call("who.ami"));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertCallerServes();

    answer.set(new java.net.InetAddress[] {java.net.InetAddress.getLoopbackAddress()});
    bridge.refresh();
    assertEquals("node-a", call("who.ami"));
  }

  @Test
  void cancellingACallCancelsItOnTheRemoteNode() throws Exception {
    Host a = new Host("node-a");
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch sawCancel = new CountDownLatch(1);
    a.register(
        "wait.forever() -> null",
        (args, ctx) -> {
          started.countDown();
          try {
            Thread.sleep(60_000);
          } catch (InterruptedException ex) {
            sawCancel.countDown();
            throw ex;
          }
          return Value.NULL;
        });
    attach(a);
    CompletableFuture<Value> f = caller.callAsync("wait.forever");
    assertTrue(started.await(30, TimeUnit.SECONDS));
    f.cancel(true);
    assertTrue(sawCancel.await(30, TimeUnit.SECONDS), "the remote call was not cancelled");
    assertEquals("node-a", call("who.once"));
  }

  @Test
  void aBatchOfARemoteFunctionAnswersInOrderWithFailuresInPlaceAndNamesADeadNode() {
    Host a = new Host("node-a");
    a.register(
        "m.div(a: i64, b: i64) -> i64 [idempotent]",
        (args, ctx) -> {
          long d = ((Value.Int) args[1]).value();
          if (d == 0) {
            throw Status.INVALID_ARGUMENT.withDescription("division by zero").asException();
          }
          return Value.i64(((Value.Int) args[0]).value() / d);
        });
    attach(a);
    List<io.polycall.core.CallRequest> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(io.polycall.core.CallRequest.of("m.div", Value.i64(100), Value.i64(i % 5)));
    }
    List<io.polycall.core.CallResult> results = caller.batch(calls);
    for (int i = 0; i < 50; i++) {
      if (i % 5 == 0) {
        assertEquals(Status.Code.INVALID_ARGUMENT, results.get(i).status().code());
      } else {
        assertEquals(Value.i64(100 / (i % 5)), results.get(i).value());
      }
    }
    a.kill();
    List<io.polycall.core.CallResult> failed = caller.batch(calls.subList(0, 3));
    for (io.polycall.core.CallResult r : failed) {
      assertEquals(Status.Code.UNAVAILABLE, r.status().code());
      assertTrue(r.status().description().contains("node node-a"), r.status().description());
    }
    assertCallerServes();
  }

  @Test
  void aFunctionWithdrawnOnOneNodeSinceTheLastRefreshRunsOnAnotherOrIsNotFoundNamingTheNode() {
    Host a = new Host("node-a");
    Host b = new Host("node-b");
    attach(a, b);
    a.node.registry().unregister("who.once"); // not idempotent: it did not run, so no matter
    for (int i = 0; i < 20; i++) {
      assertEquals("node-b", call("who.once"));
    }
    b.node.registry().unregister("who.once");
    StatusException e = assertThrows(StatusException.class, () -> call("who.once"));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.status().description().contains("node node-b at " + b.target()), e.getMessage());
    bridge.refresh();
    assertTrue(caller.registry().lookup("who.once").isEmpty());
    assertCallerServes();
  }

  private static Host awaitEntered(Host a, Host b) throws InterruptedException {
    for (int i = 0; i < 3000; i++) {
      if (a.slowEntered.getCount() == 0) {
        return a;
      }
      if (b.slowEntered.getCount() == 0) {
        return b;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the slow call reached neither node");
  }

  private static Value unwrap(CompletableFuture<Value> f) throws Exception {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof Exception x) {
        throw x;
      }
      throw e;
    }
  }
}
