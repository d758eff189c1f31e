package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the real {@code bin/polycall} launcher as a process, on the shaded jar. Run by failsafe in
 * the integration-test phase, after 'package' built the jar.
 */
class BinPolycallIT {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();

  record Result(int exitCode, String out, String err) {}

  private static Result polycall(String... args) throws IOException, InterruptedException {
    assumeTrue(
        Files.isRegularFile(ROOT.resolve("polycall-server/target/polycall.jar")),
        "the shaded jar is built by 'package'");
    List<String> cmd = new ArrayList<>();
    cmd.add(ROOT.resolve("bin/polycall").toString());
    cmd.addAll(List.of(args));
    Path outFile = Files.createTempFile("polycall", ".out");
    Path errFile = Files.createTempFile("polycall", ".err");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(ROOT.resolve("polycall-server/target").toFile())
              .redirectOutput(outFile.toFile())
              .redirectError(errFile.toFile())
              .start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("bin/polycall did not finish within a minute: " + cmd);
      }
      return new Result(
          p.exitValue(),
          Files.readString(outFile, StandardCharsets.UTF_8),
          Files.readString(errFile, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(outFile);
      Files.deleteIfExists(errFile);
    }
  }

  @Test
  void callPrintsTheJsonResultAndExitsZero() throws Exception {
    Result r = polycall("call", "math.add", "1", "2");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("3\n", r.out());
  }

  @Test
  void callReachesTheProjectsCLibraryThroughTheLauncherSettings() throws Exception {
    Result r = polycall("call", "ctest.greeting");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("\"hello from C\"\n", r.out());
  }

  @Test
  void nativeAccessIsEnabledForTheNativeBridgesModuleOnly() throws Exception {
    Result r = polycall("--version");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(
        r.out().contains("native access: module io.polycall.ffi only (not the class path)"),
        r.out());
  }

  @Test
  void anUnknownFunctionExitsWithNotFoundOnStderr() throws Exception {
    Result r = polycall("call", "stats.maen", "[1]");
    assertEquals(4, r.exitCode());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("NOT_FOUND: "), r.err());
    assertTrue(r.err().contains("stats.mean"), r.err());
  }
}
