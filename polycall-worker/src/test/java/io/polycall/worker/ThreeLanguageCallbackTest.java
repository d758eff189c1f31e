package io.polycall.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallContext;
import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.core.PolyFunction;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Nested, re-entrant calls across three languages in one node: Python calls Java, which calls Node,
 * and a function value handed to one language is invoked from another.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ThreeLanguageCallbackTest {
  private PolyCall pc;

  @BeforeAll
  void start() throws Exception {
    pc = PolyCall.create();
    WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(PythonBridgeConformanceTest.pythonSpec("py"));
    workers.add(NodeBridgeConformanceTest.nodeSpec("js"));
    assertTrue(workers.awaitReady(Duration.ofSeconds(30)), "workers did not start");
    pc.jvm()
        .register(
            new Object() {
              /** Java in the middle: calls the Node function it is told to, adding one. */
              @PolyFunction(name = "java.via_node")
              public long viaNode(CallContext ctx, long x) {
                Value r =
                    ctx.caller()
                        .call(
                            "nodeconf.add_i64",
                            List.of(Value.i64(x), Value.i64(1)),
                            CallOptions.DEFAULT);
                return ((Value.Int) r).value();
              }
            });
  }

  @AfterAll
  void stop() {
    pc.close();
  }

  @Test
  void javaCallsPythonWhichCallsJavaWhichCallsNode() {
    // pyconf.call_back(name, x) makes a nested call from Python to `name`.
    assertEquals(
        Value.i64(42), pc.call("pyconf.call_back", Value.str("java.via_node"), Value.i64(41)));
  }

  @Test
  void aFunctionValueOfNodeIsInvokedFromPython() {
    // pyconf.apply(f, x) calls f(x); f is a Node function, reached back through the hub.
    Value.Fn nodeNegateLike = new Value.Fn("nodeconf.nested_depth", null);
    assertEquals(Value.i64(7), pc.call("pyconf.apply", nodeNegateLike, Value.i64(7)));
  }

  @Test
  void aFunctionValueOfPythonIsInvokedFromNode() {
    Value.Fn py = new Value.Fn("pyconf.nested_depth", null);
    assertEquals(Value.i64(9), pc.call("nodeconf.apply", py, Value.i64(9)));
  }

  @Test
  void aFailureDeepInTheChainCarriesEveryLanguagesFrames() {
    StatusException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusException.class,
            () -> pc.call("pyconf.call_back", Value.str("nodeconf.checked_div"), Value.i64(1)));
    // call_back passes one argument to a two-argument function: the hub refuses it, and the
    // refusal travels back through Python to Java.
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(
        e.status().frames().stream().anyMatch(f -> f.language().equals("python")),
        e.status().frames().toString());
  }
}
