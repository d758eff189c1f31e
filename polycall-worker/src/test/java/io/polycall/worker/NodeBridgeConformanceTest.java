package io.polycall.worker;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polycall.core.PolyCall;
import io.polycall.testing.BridgeConformanceTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The conformance suite against real Node worker processes. */
class NodeBridgeConformanceTest extends BridgeConformanceTest {

  static Path workerScript() {
    Path p =
        Path.of(System.getProperty("polycall.node.worker", "sdks/node/bin/polycall-worker.js"));
    assumeTrue(Files.isRegularFile(p), "no Node SDK at " + p);
    assumeTrue(
        Files.isDirectory(p.getParent().getParent().resolve("node_modules")),
        "the Node SDK's packages are not installed; run `make test` (it runs npm ci in sdks/node)");
    return p;
  }

  static WorkerSpec nodeSpec(String name) {
    Path script = workerScript();
    Path fixture = script.getParent().getParent().resolve("test/fixtures/nodeconf.mjs");
    return WorkerSpec.node(name, script, List.of(fixture.toString()))
        .withStartTimeout(Duration.ofSeconds(30));
  }

  @Override
  protected PolyCall createNode() throws Exception {
    PolyCall pc = PolyCall.create();
    WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(nodeSpec("js").withProcesses(2));
    if (!workers.awaitReady(Duration.ofSeconds(30))) {
      pc.close();
      throw new AssertionError("the Node workers did not announce within 30 s");
    }
    return pc;
  }

  @Override
  protected String prefix() {
    return "nodeconf";
  }

  @Override
  protected String bridgeName() {
    return "node";
  }
}
