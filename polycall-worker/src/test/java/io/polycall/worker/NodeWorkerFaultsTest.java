package io.polycall.worker;

import io.polycall.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class NodeWorkerFaultsTest extends AbstractWorkerFaultsTest {
  @Override
  protected WorkerSpec spec(String name) {
    return NodeBridgeConformanceTest.nodeSpec(name);
  }

  @Override
  protected WorkerSpec brokenOnImport(String name, Path dir) throws IOException {
    Path broken = dir.resolve("broken.mjs");
    Files.writeString(broken, "throw new Error('cannot import: missing dependency');\n");
    return WorkerSpec.node(
        name, NodeBridgeConformanceTest.workerScript(), List.of(broken.toString()));
  }

  @Override
  protected String prefix() {
    return "nodeconf";
  }

  @Override
  protected String language() {
    return "javascript";
  }

  @Override
  protected String bridge() {
    return "node";
  }

  @Override
  protected String sourceFile() {
    return "nodeconf.mjs";
  }

  @Override
  protected Status.Code badMessageCode() {
    return Status.Code.UNKNOWN;
  }

  @Override
  protected String badMessagePrefix() {
    return "Error: ";
  }
}
