package io.polycall.worker;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polycall.core.PolyCall;
import io.polycall.testing.BridgeConformanceTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The conformance suite against real Python worker processes. */
class PythonBridgeConformanceTest extends BridgeConformanceTest {

  static Path python() {
    Path p = Path.of(System.getProperty("polycall.python", "sdks/python/.venv/bin/python"));
    assumeTrue(
        Files.isExecutable(p),
        "no Python SDK environment at " + p + "; run `make test` (it creates sdks/python/.venv)");
    return p;
  }

  static Path testModules() {
    return Path.of("src/test/python").toAbsolutePath();
  }

  static WorkerSpec pythonSpec(String name) {
    return WorkerSpec.python(name, python(), List.of("pyconf"))
        .withEnvironment(Map.of("PYTHONPATH", testModules().toString()))
        .withStartTimeout(Duration.ofSeconds(30));
  }

  @Override
  protected PolyCall createNode() throws Exception {
    PolyCall pc = PolyCall.create();
    WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(pythonSpec("py").withProcesses(2));
    if (!workers.awaitReady(Duration.ofSeconds(30))) {
      pc.close();
      throw new AssertionError("the Python workers did not announce within 30 s");
    }
    return pc;
  }

  @Override
  protected String prefix() {
    return "pyconf";
  }

  @Override
  protected String bridgeName() {
    return "python";
  }
}
