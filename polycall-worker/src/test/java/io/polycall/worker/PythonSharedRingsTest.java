package io.polycall.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.time.Duration;
import java.util.List;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real Python worker with shared-memory rings (WIRE.md, shm-rings/1) and without: the same
 * answers either way, and with them the frames really go through shared memory.
 */
class PythonSharedRingsTest {
  private PolyCall pc;
  private WorkerSupervisor workers;

  private void start(WorkerSpec spec) throws Exception {
    pc = PolyCall.create();
    workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(spec);
    assertTrue(workers.awaitReady(Duration.ofSeconds(30)), "the Python worker announced");
  }

  @AfterEach
  void tearDown() {
    System.clearProperty("polycall.rings.spinMicros");
    if (pc != null) {
      pc.close();
    }
  }

  private Connection.RingStats stats() {
    List<Connection.RingStats> all = workers.ringStats("py");
    assertEquals(1, all.size());
    return all.getFirst();
  }

  /** Calls, and calls that call back into Java from Python (nested, both rings). */
  private void callMany() {
    Value.Fn triple = pc.callback("(x: i64) -> i64", (LongUnaryOperator) x -> x * 3);
    try {
      for (int i = 0; i < 300; i++) {
        assertEquals(
            Value.i64(2L * i + 1), pc.call("pyconf.add_i64", Value.i64(i), Value.i64(i + 1)));
        if (i % 10 == 0) {
          assertEquals(Value.i64(3L * i), pc.call("pyconf.apply", triple, Value.i64(i)));
        }
      }
    } finally {
      pc.release(triple);
    }
  }

  @Test
  void callsToAPythonWorkerGoThroughTheRingsWithTheSameAnswers() throws Exception {
    // A caller that polls long enough is surely polling when the worker answers.
    System.setProperty("polycall.rings.spinMicros", "5000000");
    start(PythonBridgeConformanceTest.pythonSpec("py"));
    callMany();
    Connection.RingStats s = stats();
    assertTrue(s.enabled());
    assertTrue(s.framesReceived() > 0, "results came from the worker on ring 1: " + s);
  }

  @Test
  void withRingsOffEveryFrameUsesTheSocket() throws Exception {
    start(PythonBridgeConformanceTest.pythonSpec("py").withSharedRings(false));
    callMany();
    Connection.RingStats s = stats();
    assertFalse(s.enabled());
    assertEquals(0, s.framesSent() + s.framesReceived());
  }
}
