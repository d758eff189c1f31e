package io.polycall.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CLI run in-process through picocli, as a user would type it. */
class PolyCallCliTest {
  @TempDir Path dir;

  /** What one command line printed and returned. */
  record Run(int exitCode, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = PolyCallCli.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }

  private static void assertContains(String text, String part) {
    assertTrue(text.contains(part), () -> "expected '" + part + "' in:\n" + text);
  }

  @Test
  void functionsListsNameVersionBridgeSignatureAndTags() {
    Run r = run("functions");
    assertEquals(0, r.exitCode(), r.err());
    assertContains(r.out(), "NAME");
    assertContains(r.out(), "math.add@1");
    assertContains(r.out(), "(a: i64, b: i64) -> i64");
    assertContains(r.out(), "idempotent,pure");
    assertContains(r.out(), "zlib.crc32@1");
    assertContains(r.out(), "native");
  }

  @Test
  void functionsWithAGlobListsOnlyMatchingNames() {
    Run r = run("functions", "stats.*");
    assertEquals(0, r.exitCode(), r.err());
    assertContains(r.out(), "stats.mean@1");
    assertTrue(!r.out().contains("math.add"), r.out());
  }

  @Test
  void describeShowsSignatureBridgeVersionTagsAndDoc() {
    Run r = run("describe", "math.add");
    assertEquals(0, r.exitCode(), r.err());
    assertContains(r.out(), "math.add(a: i64, b: i64) -> i64");
    assertContains(r.out(), "bridge     jvm");
    assertContains(r.out(), "version    1");
    assertContains(r.out(), "idempotent, pure");
    assertContains(r.out(), "Adds two integers");
  }

  @Test
  void callPrintsTheResultAsJson() {
    Run r = run("call", "math.add", "1", "2");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("3", r.out().strip());
  }

  @Test
  void callConvertsAJsonListToTheDeclaredNdarray() {
    Run r = run("call", "stats.mean", "[1,2,3]");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("2.0", r.out().strip());
  }

  @Test
  void callReturnsAStructAsAJsonObject() {
    Run r = run("call", "stats.summary", "[3, 1, 2]");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("{\"count\":3,\"min\":1.0,\"max\":3.0,\"mean\":2.0}", r.out().strip());
  }

  @Test
  void callReachesNativeFunctionsAndReadsAStringAsBytes() {
    Run r = run("call", "zlib.crc32", "\"hello\"");
    assertEquals(0, r.exitCode(), r.err());
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(Long.toString(crc.getValue()), r.out().strip());
  }

  @Test
  void negativeNumbersAreArgumentsNotOptions() {
    Run r = run("call", "math.add", "-1", "-2");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("-3", r.out().strip());
  }

  @Test
  void aStringForAFnParameterLetsCCallAJavaFunctionBack() {
    Run r = run("call", "ctest.apply", "\"math.square\"", "12");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("144", r.out().strip());
  }

  @Test
  void callOfAnUnknownFunctionIsNotFoundWithASuggestionAndExitCode4() {
    Run r = run("call", "math.ad", "1", "2");
    assertEquals(ExitCodes.NOT_FOUND, r.exitCode());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("NOT_FOUND: "), r.err());
    assertContains(r.err(), "did you mean math.add");
  }

  @Test
  void callWithTheWrongArityIsInvalidArgumentNamingTheSignature() {
    Run r = run("call", "math.add", "1");
    assertEquals(ExitCodes.INVALID_ARGUMENT, r.exitCode());
    assertTrue(r.err().startsWith("INVALID_ARGUMENT: "), r.err());
    assertContains(r.err(), "math.add takes 2 arguments (a: i64, b: i64) -> i64, got 1");
  }

  @Test
  void callWithAnArgumentThatIsNotJsonIsAUsageError() {
    Run r = run("call", "math.add", "1", "two");
    assertEquals(ExitCodes.USAGE, r.exitCode());
    assertContains(r.err(), "argument 2 is not JSON");
  }

  @Test
  void aFunctionThatThrowsPrintsItsCodeAndStackAndExits1() {
    Run r = run("call", "math.divide", "1", "0");
    assertEquals(ExitCodes.CALL_FAILED, r.exitCode());
    assertTrue(r.err().startsWith("UNKNOWN: java.lang.ArithmeticException"), r.err());
    assertContains(r.err(), "at [java] io.polycall.server.examples.MathFunctions.divide");
    assertContains(r.err(), "at [polycall] math.divide@1 [jvm]");
  }

  @Test
  void aBadConfigFileExitsWith3AndTheFileAndKey() throws Exception {
    Path cfg = dir.resolve("bad.yaml");
    Files.writeString(cfg, "jvm: []\nfunctions: []\n");
    Run r = run("--config", cfg.toString(), "functions");
    assertEquals(ExitCodes.CONFIG, r.exitCode());
    assertContains(r.err(), "INVALID_ARGUMENT: ");
    assertContains(r.err(), "bad.yaml:2 functions");
  }

  @Test
  void aMissingConfigFileExitsWith3() {
    Run r = run("--config", dir.resolve("none.yaml").toString(), "functions");
    assertEquals(ExitCodes.CONFIG, r.exitCode());
    assertContains(r.err(), "does not exist");
  }

  @Test
  void theConfigOptionMayFollowTheCommand() throws Exception {
    Path cfg = dir.resolve("small.yaml");
    Files.writeString(cfg, "jvm: [io.polycall.server.examples.StatsFunctions]\n");
    Run r = run("functions", "--config", cfg.toString());
    assertEquals(0, r.exitCode(), r.err());
    assertContains(r.out(), "stats.mean@1");
    assertTrue(!r.out().contains("math.add"), r.out());
  }

  @Test
  void anUnknownOptionIsAUsageError() {
    Run r = run("functions", "--bogus");
    assertEquals(ExitCodes.USAGE, r.exitCode());
    assertContains(r.err(), "Unknown option");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "functions", "describe", "call", "serve", "demo"})
  void everyCommandHasHelp(String command) {
    Run r = command.isEmpty() ? run("--help") : run(command, "--help");
    assertEquals(0, r.exitCode(), r.err());
    assertContains(r.out(), "Usage: polycall");
    assertContains(r.out(), "-h, --help");
  }

  @Test
  void versionNamesTheProjectVersion() {
    Run r = run("--version");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().startsWith("polycall "), r.out());
  }

  @Test
  void theDemoRunsEverySection() {
    Run r = run("demo");
    assertEquals(0, r.exitCode(), r.err());
    assertContains(r.out(), "== 1. Register Java functions ==");
    assertContains(r.out(), "after:  [-15, -7, 0, 3, 3, 19, 42, 88]");
    assertContains(r.out(), "NOT_FOUND: no function named math.ad");
    assertContains(r.out(), "jvm (handle): ");
    assertContains(r.out(), "us/call");
    assertContains(r.out(), "math.add(2, 40) as alice = 42");
    assertContains(r.out(), "stats.mean([1, 2]) as alice: PERMISSION_DENIED");
    assertContains(r.out(), "with no token: UNAUTHENTICATED");
    assertContains(r.out(), "200 {\"result\":42}");
    assertContains(r.out(), "audit log: 5 records, one per call and refusal; chain intact");
    Path root = Path.of(System.getProperty("polycall.repo.dir", ".."));
    if (Files.isExecutable(root.resolve("sdks/python/.venv/bin/python"))) {
      assertContains(r.out(), "[python] npstats.mean([2.5,3.5,1.0,4.0,9.0]) = 4.0");
      assertContains(r.out(), "INVALID_ARGUMENT: ValueError: the mean of an empty array");
      assertContains(r.out(), "at [python] mean (");
      assertContains(r.out(), "(the Java lambda ran 3 times)");
      assertContains(r.out(), "python worker (npstats.mean, 4 doubles): ");
    } else {
      assertContains(r.out(), "run 'make sdk-envs'");
    }
  }
}
