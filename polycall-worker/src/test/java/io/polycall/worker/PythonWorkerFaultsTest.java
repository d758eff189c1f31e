package io.polycall.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PythonWorkerFaultsTest extends AbstractWorkerFaultsTest {

  @ParameterizedTest
  @ValueSource(strings = {"garbage", "oversized", "truncated"})
  void aWorkerThatWritesABadFrameIsDroppedAndRestarted(String kind) throws Exception {
    int before = workers.spawnCount("py");
    StatusException e =
        assertThrows(
            StatusException.class, () -> pc.call("pyconf.write_bad_frame", Value.str(kind)));
    assertEquals(Status.Code.UNAVAILABLE, e.status().code(), e.status().toString());
    awaitServing();
    assertTrue(workers.spawnCount("py") > before, "the worker was not restarted");
    assertEquals(Value.i64(2), pc.call("pyconf.add_i64", Value.i64(1), Value.i64(1)));
  }

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
