package io.polycall.worker;

import io.polycall.core.PolyCall;
import java.time.Duration;

/**
 * The conformance suite against real Python workers with shared-memory rings turned off: every
 * frame on the socket, as before the rings (the default suite runs with them).
 */
class PythonBridgeWithoutRingsConformanceTest extends PythonBridgeConformanceTest {
  @Override
  protected PolyCall createNode() throws Exception {
    PolyCall pc = PolyCall.create();
    WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(pythonSpec("py").withProcesses(2).withSharedRings(false));
    if (!workers.awaitReady(Duration.ofSeconds(30))) {
      pc.close();
      throw new AssertionError("the Python workers did not announce within 30 s");
    }
    return pc;
  }
}
