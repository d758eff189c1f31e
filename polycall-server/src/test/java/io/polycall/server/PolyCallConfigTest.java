package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolyCallConfigTest extends ConfigTestSupport {

  @Test
  void theExampleConfigLoadsAndStartsWithJavaAndNativeFunctions() {
    Path example = Path.of(System.getProperty("polycall.repo.dir", ".."), "examples/polycall.yaml");
    PolyCallConfig c = PolyCallConfig.load(example);
    assertEquals(2, c.jvm().size());
    assertTrue(c.natives().size() >= 2);
    try (PolyCall pc = Node.start(c)) {
      assertEquals(Value.i64(3), pc.call("math.add", 1L, 2L));
      assertEquals(Value.f64(2.0), pc.call("stats.mean", new double[] {1, 2, 3}));
      assertEquals(Value.f64(1.0), pc.call("math.cos", 0.0));
      assertEquals(
          "x raised to the power y, from the C math library.", pc.describe("math.pow").doc());
    }
  }

  @Test
  void theBuiltInConfigIsTheExampleBundledInTheJar() {
    PolyCallConfig c = PolyCallConfig.builtIn();
    assertEquals("built-in example config", c.source());
    try (PolyCall pc = Node.start(c)) {
      assertFalse(pc.functions("math.*").isEmpty());
      assertFalse(pc.functions("zlib.*").isEmpty());
    }
  }

  @Test
  void aClassWithStaticAndInstanceFunctionsRegistersBoth() {
    PolyCallConfig c = parse("jvm:\n  - class: io.polycall.server.fixtures.Fixtures$Both\n");
    try (PolyCall pc = Node.start(c)) {
      assertEquals(Value.i64(42), pc.call("fx.twice", 21L));
      assertEquals(Value.str("hello you"), pc.call("fx.hello", "you"));
    }
  }

  @Test
  void aBareClassNameIsTheSameAsAClassKey() {
    PolyCallConfig c = parse("jvm: [io.polycall.server.fixtures.Fixtures$Both]\n");
    assertEquals("io.polycall.server.fixtures.Fixtures$Both", c.jvm().getFirst().className());
  }

  @Test
  void anEmptyFileIsANodeWithNoFunctions() {
    PolyCallConfig c = parse("");
    try (PolyCall pc = Node.start(c)) {
      assertTrue(pc.functions("**").isEmpty());
    }
  }

  @Test
  void theLoggingInterceptorIsInstalledByName() {
    PolyCallConfig c =
        parse("interceptors: [logging]\njvm: [io.polycall.server.fixtures.Fixtures$Both]\n");
    assertEquals(List.of("logging"), c.interceptors());
    try (PolyCall pc = Node.start(c)) {
      assertEquals(Value.i64(4), pc.call("fx.twice", 2L));
    }
  }

  @Test
  void aNativeFunctionMayCarryADocAndAVersion() {
    PolyCallConfig c =
        parse(
            """
            native:
              - library: m
                functions:
                  - declare: "m.cos(x: f64) -> f64 [pure]"
                    doc: cosine
                    version: 3
            """);
    try (PolyCall pc = Node.start(c)) {
      FunctionInfo f = pc.describe("m.cos");
      assertEquals(3, f.version());
      assertEquals("cosine", f.doc());
      assertEquals(Value.f64(1.0), pc.call("m.cos@3", 0.0));
    }
  }

  @Test
  void aRelativeLibraryPathStartsAtTheConfigDirectory() throws Exception {
    Path lib = Path.of(System.getProperty("polycall.testlib.dir"), "libpolycalltest.so");
    Files.copy(lib, dir.resolve("libcopy.so"));
    PolyCallConfig c =
        parse(
            "native:\n  - library: ./libcopy.so\n    functions: ['t.add_i32(a: i32, b: i32) ->"
                + " i32']\n");
    try (PolyCall pc = Node.start(c)) {
      assertEquals(Value.i32(5), pc.call("t.add_i32", 2, 3));
    }
  }

  @Test
  void variablesInALibraryPathComeFromSystemProperties() {
    PolyCallConfig c =
        parse(
            """
            native:
              - library: ${polycall.testlib.dir}/libpolycalltest.so
                functions: ["t.add_i32(a: i32, b: i32) -> i32"]
            """);
    try (PolyCall pc = Node.start(c)) {
      assertEquals(Value.i32(7), pc.call("t.add_i32", 3, 4));
    }
  }

  // ---- bad configs: each message names the file, line, key path and the fix ----------------

  @Test
  void anUnknownTopLevelKeyIsRejectedWithTheClosestKnownKey() {
    StatusException e = parseFails("jvm: []\nnatve: []\n");
    assertMessage(
        e, Status.Code.INVALID_ARGUMENT, "test.yaml:2", "natve", "did you mean 'native'", "jvm");
  }

  @Test
  void anUnknownKeyInALibraryEntryNamesItsPath() {
    StatusException e = parseFails("native:\n  - library: m\n    functions: []\n    symbol: cos\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "test.yaml:4", "native[0].symbol", "functions");
  }

  @Test
  void aStringWhereAListIsExpectedSaysWhatToWrite() {
    StatusException e = parseFails("jvm: io.polycall.server.fixtures.Fixtures$Both\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "test.yaml:1 jvm", "must be a list");
  }

  @Test
  void aNonBooleanOptionalIsRejected() {
    StatusException e =
        parseFails("native:\n  - library: m\n    optional: maybe\n    functions: []\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "native[0].optional", "true or false");
  }

  @Test
  void aVersionThatIsNotANumberIsRejected() {
    StatusException e =
        parseFails(
            "native:\n  - library: m\n    functions:\n      - declare: 'm.cos(x: f64) -> f64'\n"
                + "        version: two\n");
    assertMessage(
        e, Status.Code.INVALID_ARGUMENT, "test.yaml:5", "functions[0].version", "whole number");
  }

  @Test
  void aLibraryWithoutFunctionsSaysWhichKeyIsMissing() {
    StatusException e = parseFails("native:\n  - library: m\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "native[0]", "needs key 'functions'");
  }

  @Test
  void aMissingClassIsAFailedPreconditionNamingTheClass() {
    StatusException e = parseFails("jvm:\n  - class: com.example.Nope\n");
    assertMessage(
        e,
        Status.Code.FAILED_PRECONDITION,
        "test.yaml:2 jvm[0].class",
        "com.example.Nope",
        "class path");
  }

  @Test
  void anUnknownInterceptorListsTheKnownOnes() {
    StatusException e = parseFails("interceptors: [audit]\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "interceptors[0]", "audit", "logging");
  }

  @Test
  void brokenYamlGivesTheLine() {
    StatusException e = parseFails("jvm:\n  - class: [unclosed\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "test.yaml:", "not valid YAML");
  }

  @Test
  void aMissingFileIsNotFoundWithItsPath() {
    StatusException e =
        assertThrows(StatusException.class, () -> PolyCallConfig.load(dir.resolve("missing.yaml")));
    assertMessage(e, Status.Code.NOT_FOUND, "missing.yaml", "does not exist");
  }

  @Test
  void aClassWithoutPolyFunctionsIsRejectedAtStart() {
    StatusException e = startFails("jvm: [io.polycall.server.fixtures.Fixtures$NoFunctions]\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "jvm[0]", "no @PolyFunction methods");
  }

  @Test
  void aClassWithoutANoArgConstructorSaysHowToFixIt() {
    StatusException e = startFails("jvm: [io.polycall.server.fixtures.Fixtures$NeedsArgs]\n");
    assertMessage(e, Status.Code.FAILED_PRECONDITION, "jvm[0]", "no-arg constructor");
  }

  @Test
  void aBadNativeDeclarationNamesItsEntry() {
    StatusException e =
        startFails("native:\n  - library: m\n    functions:\n      - 'm.cos(x: float64) -> f64'\n");
    assertMessage(e, Status.Code.INVALID_ARGUMENT, "test.yaml:4 native[0].functions[0]");
  }

  @Test
  void aMissingSymbolIsAFailedPreconditionNamingTheEntry() {
    StatusException e =
        startFails("native:\n  - library: m\n    functions: ['m.no_such_fn(x: f64) -> f64']\n");
    assertMessage(e, Status.Code.FAILED_PRECONDITION, "native[0].functions[0]", "no_such_fn");
  }

  @Test
  void aMissingLibraryFailsUnlessOptional() {
    StatusException e =
        startFails("native:\n  - library: no_such_lib_xyz\n    functions: ['a.b() -> i32']\n");
    assertMessage(e, Status.Code.FAILED_PRECONDITION, "native[0]", "optional: true");

    PolyCallConfig c =
        parse(
            "native:\n  - library: no_such_lib_xyz\n    optional: true\n"
                + "    functions: ['a.b() -> i32']\n");
    try (PolyCall pc = Node.start(c)) {
      assertTrue(pc.functions("**").isEmpty());
    }
  }

  @Test
  void anUnsetVariableSaysHowToSetIt() {
    StatusException e =
        startFails(
            "native:\n  - library: ${polycall.no.such.var}/x.so\n    functions: ['a.b() -> i32']\n");
    assertMessage(
        e,
        Status.Code.FAILED_PRECONDITION,
        "native[0]",
        "${polycall.no.such.var} is not set",
        "POLYCALL_NO_SUCH_VAR");
  }
}
