package io.polycall.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.core.PolyCall;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Python and Node programs, as real client processes, call functions of every language through the
 * node's socket with the same API.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SdkClientsTest {
  private PolyCall pc;
  private WorkerSupervisor workers;

  @BeforeAll
  void start() throws Exception {
    pc = PolyCall.create();
    workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(PythonBridgeConformanceTest.pythonSpec("py"));
    workers.add(NodeBridgeConformanceTest.nodeSpec("js"));
    assertTrue(workers.awaitReady(Duration.ofSeconds(30)), "workers did not start");
    pc.jvm().register("java.twice(x: i64) -> i64", (LongUnaryOperator) x -> 2 * x);
  }

  @AfterAll
  void stop() {
    pc.close();
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("client did not finish: " + command);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  void aPythonClientCallsJavaPythonAndNodeFunctions() throws Exception {
    String script =
        """
        import sys, polycall
        with polycall.connect(sys.argv[1]) as c:
            print(c.call("java.twice", 21), c.call("pyconf.add_i64", 40, 2), c.call("nodeconf.add_i32", 41, 1))
            try:
                c.call("java.twise", 1)
            except polycall.NotFound as e:
                print("NotFound", "java.twice" in str(e))
        """;
    String out =
        run(
            List.of(
                PythonBridgeConformanceTest.python().toString(),
                "-c",
                script,
                workers.socketPath().toString()));
    assertEquals("42 42 42\nNotFound True", out);
  }

  @Test
  void aNodeClientCallsJavaPythonAndNodeFunctions() throws Exception {
    Path sdk =
        NodeBridgeConformanceTest.workerScript().getParent().getParent().resolve("src/index.js");
    String script =
        "import * as polycall from '"
            + sdk.toUri()
            + "';\n"
            + "const c = await polycall.connect(process.argv[1]);\n"
            + "const r = [await c.call('java.twice', 21), await c.call('pyconf.add_i64', 40, 2),"
            + " await c.call('nodeconf.add_i32', 41, 1)];\n"
            + "console.log(r.map(String).join(' '));\n"
            + "try { await c.call('java.twise', 1); } catch (e) {"
            + " console.log(e.constructor.name, e.message.includes('java.twice')); }\n"
            + "await c.close();\n";
    String out =
        run(List.of("node", "--input-type=module", "-e", script, workers.socketPath().toString()));
    assertEquals("42 42 42\nNotFoundError true", out);
  }
}
