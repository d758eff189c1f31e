package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Worker processes start with the sandbox's resource limits (through prlimit), real Python. */
class SandboxTest extends ConfigTestSupport {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();

  private void writeModule() throws Exception {
    Files.writeString(
        dir.resolve("sb.py"),
        """
        import os
        import polycall

        __polycall_namespace__ = "sb"

        @polycall.function
        def pid() -> int:
            return os.getpid()

        @polycall.function
        def hog(mib: int) -> int:
            return len(bytearray(mib * 1024 * 1024))

        @polycall.function
        def spin() -> int:
            n = 0
            while True:
                n += 1

        @polycall.function
        def env() -> str:
            return ",".join(sorted(os.environ))
        """);
  }

  private static String limit(String limits, String name) {
    for (String line : limits.split("\n")) {
      if (line.startsWith(name)) {
        return line.substring(name.length()).trim().replaceAll("\\s+", " ");
      }
    }
    throw new AssertionError("no " + name + " in " + limits);
  }

  @Test
  void aSandboxedPythonWorkerRunsWithItsLimitsFailsPastThemAndIsRestarted() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")), "no /usr/bin/prlimit");
    assumeTrue(
        Files.isExecutable(ROOT.resolve("sdks/python/.venv/bin/python")),
        "no Python SDK environment; run make sdk-envs");
    writeModule();
    PolyCallConfig c =
        parse(
            """
            security:
              sandbox: {memory: 1GiB, cpu_seconds: 3, open_files: 64}
            workers:
              - {name: sb, language: python, files: [sb.py]}
            """);
    try (PolyCall pc = Node.start(c)) {
      long pid = ((Value.Int) pc.call("sb.pid")).value();
      String limits = Files.readString(Path.of("/proc/" + pid + "/limits"));
      assertEquals("1073741824 1073741824 bytes", limit(limits, "Max address space"));
      assertEquals("3 3 seconds", limit(limits, "Max cpu time"));
      assertEquals("64 64 files", limit(limits, "Max open files"));

      // The clean environment: nothing of the node's own (JAVA_HOME, MAVEN_*) reaches the worker.
      String env = ((Value.Str) pc.call("sb.env")).value();
      for (String name : List.of("JAVA_HOME", "MAVEN_OPTS", "MAVEN_CMD_LINE_ARGS")) {
        assertTrue(!List.of(env.split(",")).contains(name), name + " leaked into " + env);
      }

      // Past the memory limit: the allocation fails, the worker lives on.
      StatusException e =
          assertThrows(StatusException.class, () -> pc.call("sb.hog", Value.i64(2048)));
      assertTrue(e.getMessage().contains("MemoryError"), e.getMessage());
      assertEquals(Value.i64(1 << 20), pc.call("sb.hog", Value.i64(1)));
      assertEquals(pid, ((Value.Int) pc.call("sb.pid")).value());

      // Past the CPU limit: the kernel kills the worker; the supervisor starts another.
      StatusException spun = assertThrows(StatusException.class, () -> pc.call("sb.spin"));
      assertEquals(Status.Code.UNAVAILABLE, spun.status().code(), spun.getMessage());
      long next = -1;
      for (int i = 0; i < 200 && next < 0; i++) {
        try {
          next = ((Value.Int) pc.call("sb.pid")).value();
        } catch (StatusException notYet) {
          Thread.sleep(100);
        }
      }
      assertNotEquals(-1, next, "the worker was not restarted");
      assertNotEquals(pid, next);
      String again = Files.readString(Path.of("/proc/" + next + "/limits"));
      assertEquals("3 3 seconds", limit(again, "Max cpu time"));
    }
  }
}
