package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.server.PolyCallConfig.WorkerPoolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code workers:} and {@code socket_dir} sections: reading them, and starting real pools. */
class WorkersConfigTest extends ConfigTestSupport {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();

  private static Path venvPython() {
    Path p = ROOT.resolve("sdks/python/.venv/bin/python");
    assumeTrue(Files.isExecutable(p), "no Python SDK environment at " + p + "; run make sdk-envs");
    return p;
  }

  /** A tiny worker module in the temp dir: one function, and one that calls Java back. */
  private void writeModule() throws Exception {
    Files.writeString(
        dir.resolve("tiny.py"),
        """
        import polycall

        __polycall_namespace__ = "tiny"

        @polycall.function
        def twice(x: int) -> int:
            return 2 * x

        @polycall.function
        def via_java(a: int, b: int) -> int:
            return polycall.call("fx.twice", a) + b
        """);
  }

  @Test
  void aPoolTakesItsDefaultsWhenOnlyNameLanguageAndCodeAreGiven() {
    PolyCallConfig c = parse("workers:\n  - name: py\n    language: python\n    modules: [tiny]\n");
    WorkerPoolSpec p = c.workers().getFirst();
    assertEquals("py", p.name());
    assertEquals("python", p.language());
    assertEquals(List.of("tiny"), p.modules());
    assertEquals(List.of(), p.files());
    assertEquals(1, p.processes());
    assertEquals(64, p.maxInFlight());
    assertEquals(Map.of(), p.env());
    assertNull(p.runtime());
    assertEquals(Duration.ofSeconds(20), p.startTimeout());
    assertEquals(false, p.optional());
    assertEquals("test.yaml:2 workers[0]", p.where());
    assertTrue(p.sharedRings());
    assertNull(c.socketDir());
  }

  @Test
  void everyPoolSettingIsRead() {
    PolyCallConfig c =
        parse(
            """
            socket_dir: run
            workers:
              - name: js
                language: node
                modules: [./a.mjs]
                files: [b.mjs]
                processes: 3
                max_in_flight: 8
                env: {A: "1", B: 2}
                node: tools/worker.js
                start_timeout: 1500ms
                optional: true
                shared_rings: false
            """);
    WorkerPoolSpec p = c.workers().getFirst();
    assertEquals(false, p.sharedRings());
    assertEquals(List.of("./a.mjs"), p.modules());
    assertEquals(List.of("b.mjs"), p.files());
    assertEquals(3, p.processes());
    assertEquals(8, p.maxInFlight());
    assertEquals(Map.of("A", "1", "B", "2"), p.env());
    assertEquals("tools/worker.js", p.runtime());
    assertEquals(Duration.ofMillis(1500), p.startTimeout());
    assertTrue(p.optional());
    assertEquals(dir.resolve("run"), c.socketDir());
  }

  @Test
  void sharedRingsOffInTheConfigReachTheSupervisorsSpec() {
    PolyCallConfig c =
        parse(
            "workers:\n  - name: py\n    language: python\n    modules: [tiny]\n"
                + "    python: python3\n    shared_rings: false\n");
    io.polycall.worker.WorkerSpec spec =
        io.polycall.server.internal.WorkerRuntimes.spec(
                c.workers().getFirst(), dir, new java.util.ArrayList<>())
            .orElseThrow();
    assertEquals(false, spec.sharedRings());
  }

  @Test
  void sharedRingsThatAreNotABooleanSayWhatIsExpected() {
    StatusException e =
        parseFails(
            "workers:\n  - name: py\n    language: python\n    modules: [x]\n"
                + "    shared_rings: sometimes\n");
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.getMessage().contains("workers[0].shared_rings"), e.getMessage());
  }

  @Test
  void anUnknownLanguageListsTheKnownOnes() {
    assertMessage(
        parseFails("workers:\n  - name: rb\n    language: ruby\n    modules: [x]\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:3 workers[0].language",
        "unknown worker language 'ruby'",
        "[node, python]");
  }

  @Test
  void aPoolWithoutModulesOrFilesSaysWhatToAdd() {
    assertMessage(
        parseFails("workers:\n  - name: py\n    language: python\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2 workers[0]",
        "needs 'modules' or 'files'");
  }

  @Test
  void aPoolWithoutANameSaysWhichKeyIsMissing() {
    assertMessage(
        parseFails("workers:\n  - language: python\n    modules: [x]\n"),
        Status.Code.INVALID_ARGUMENT,
        "workers[0]",
        "needs key 'name'");
  }

  @Test
  void theRuntimeKeyOfTheOtherLanguageIsRejected() {
    assertMessage(
        parseFails("workers:\n  - name: js\n    language: node\n    modules: [x]\n    python: p\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:5 workers[0].python",
        "is for python pools",
        "its runtime key is 'node'");
  }

  @Test
  void zeroProcessesIsRejected() {
    assertMessage(
        parseFails(
            "workers:\n  - name: py\n    language: python\n    modules: [x]\n    processes: 0\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:5 workers[0].processes",
        "must be 1 or more");
  }

  @Test
  void aMisspeltPoolKeySuggestsTheRightOne() {
    assertMessage(
        parseFails(
            "workers:\n  - name: py\n    language: python\n    modules: [x]\n    max_inflight: 2\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:5 workers[0].max_inflight",
        "did you mean 'max_in_flight'?");
  }

  @Test
  void aStartTimeoutThatIsNotADurationSaysHowToWriteOne() {
    assertMessage(
        parseFails(
            "workers:\n  - name: py\n    language: python\n    modules: [x]\n"
                + "    start_timeout: soon\n"),
        Status.Code.INVALID_ARGUMENT,
        "workers[0].start_timeout",
        "500ms, 20s or 1m");
  }

  @Test
  void envMustBeAMapOfNamesToValues() {
    assertMessage(
        parseFails(
            "workers:\n  - name: py\n    language: python\n    modules: [x]\n    env: [A]\n"),
        Status.Code.INVALID_ARGUMENT,
        "workers[0].env",
        "must be a map");
  }

  @Test
  void twoPoolsWithOneNameAreRejected() {
    assertMessage(
        parseFails(
            """
            workers:
              - {name: py, language: python, modules: [a]}
              - {name: py, language: python, modules: [b]}
            """),
        Status.Code.INVALID_ARGUMENT,
        "workers[1].name",
        "first at workers[0]");
  }

  @Test
  void aMissingInterpreterFailsNamingThePoolUnlessOptional() {
    String pool = "    language: python\n    modules: [x]\n    python: ./no/such/python\n";
    assertMessage(
        startFails("workers:\n  - name: py\n" + pool),
        Status.Code.FAILED_PRECONDITION,
        "test.yaml:2 workers[0]",
        "worker pool 'py' (python)",
        "is not an executable file",
        "optional: true");
    try (PolyCall pc =
        Node.start(parse("workers:\n  - name: py\n" + pool + "    optional: true\n"))) {
      assertTrue(pc.functions("**").stream().noneMatch(f -> f.bridge().equals("python")));
    }
  }

  @Test
  void aPythonPoolRegistersItsFunctionsAndTheyCallJavaBack() throws Exception {
    Path python = venvPython();
    writeModule();
    PolyCallConfig c =
        parse(
            "jvm: [io.polycall.server.fixtures.Fixtures$Both]\n"
                + "workers:\n"
                + "  - name: py\n"
                + "    language: python\n"
                + "    files: [tiny.py]\n"
                + "    processes: 2\n"
                + "    python: "
                + python
                + "\n");
    try (PolyCall pc = Node.start(c)) {
      assertEquals("python", pc.describe("tiny.twice").bridge());
      assertEquals(Value.i64(42), pc.call("tiny.twice", 21L));
      assertEquals(Value.i64(11), pc.call("tiny.via_java", 5L, 1L));
    }
  }

  @Test
  void aModuleNameIsImportedFromTheConfigDirectoryWithTheDefaultInterpreter() throws Exception {
    venvPython();
    writeModule();
    try (PolyCall pc =
        Node.start(parse("workers:\n  - name: py\n    language: python\n    modules: [tiny]\n"))) {
      assertEquals(Value.i64(8), pc.call("tiny.twice", 4L));
    }
  }

  @Test
  void aPoolThatNeverAnnouncesFailsNamingThePoolAndTheWorkerLog() throws Exception {
    venvPython();
    Files.writeString(dir.resolve("broken.py"), "raise ImportError('no such thing here')\n");
    StatusException e =
        startFails(
            "workers:\n  - name: broken\n    language: python\n    files: [broken.py]\n"
                + "    start_timeout: 2s\n");
    assertMessage(
        e,
        Status.Code.FAILED_PRECONDITION,
        "test.yaml:2 workers[0]",
        "worker pool 'broken' (python) did not announce its functions within 2.0 s",
        "worker log lines",
        "[broken-0 pid N]");
  }

  @Test
  void theSocketGoesInTheConfiguredDirectoryWhichIsCreatedOwnerOnly() throws Exception {
    Path sockets = dir.resolve("run/polycall");
    try (Node.Serving s = Node.serve(parse("socket_dir: run/polycall\n"))) {
      assertEquals(sockets.resolve("hub.sock"), s.socketPath());
      assertTrue(Files.exists(s.socketPath()));
      assertEquals(
          "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sockets)));
    }
    assertTrue(Files.notExists(sockets.resolve("hub.sock")));
  }

  @Test
  void aSocketDirectoryOthersCanEnterIsRefusedWithHowToFixIt() throws Exception {
    Files.createDirectory(
        dir.resolve("open"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    StatusException e =
        assertThrows(StatusException.class, () -> Node.serve(parse("socket_dir: open\n")).close());
    assertMessage(
        e, Status.Code.FAILED_PRECONDITION, "test.yaml socket_dir", "rwxr-xr-x", "chmod 700");
  }

  @Test
  void aNodeWithoutWorkersOpensNoSocketUnlessServed() {
    try (PolyCall pc = Node.start(parse(""))) {
      assertTrue(pc.functions("polycall.*").isEmpty());
    }
    try (Node.Serving s = Node.serve(parse(""))) {
      assertTrue(Files.exists(s.socketPath()));
    }
  }
}
