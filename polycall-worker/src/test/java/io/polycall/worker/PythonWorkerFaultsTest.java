package io.polycall.worker;

import io.polycall.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

class PythonWorkerFaultsTest extends AbstractWorkerFaultsTest {
  @Override
  protected WorkerSpec spec(String name) {
    return PythonBridgeConformanceTest.pythonSpec(name);
  }

  @Override
  protected WorkerSpec brokenOnImport(String name, Path dir) throws IOException {
    Files.writeString(
        dir.resolve("broken.py"), "raise SystemExit('cannot import: missing dependency')\n");
    return WorkerSpec.python(name, PythonBridgeConformanceTest.python(), List.of("broken"))
        .withEnvironment(Map.of("PYTHONPATH", dir.toString()));
  }

  @Override
  protected String prefix() {
    return "pyconf";
  }

  @Override
  protected String language() {
    return "python";
  }

  @Override
  protected String bridge() {
    return "python";
  }

  @Override
  protected String sourceFile() {
    return "pyconf.py";
  }

  @Override
  protected Status.Code badMessageCode() {
    return Status.Code.INVALID_ARGUMENT;
  }

  @Override
  protected String badMessagePrefix() {
    return "ValueError: ";
  }
}
