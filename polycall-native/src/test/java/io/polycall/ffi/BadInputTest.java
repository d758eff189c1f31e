package io.polycall.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What goes wrong, and that the bridge keeps working afterwards: every test ends by calling
 * something that must succeed.
 */
class BadInputTest {
  private PolyCall poly;
  private NativeBridge bridge;
  private NativeLibrary lib;

  @BeforeEach
  void setUp() {
    poly = PolyCall.create();
    bridge = poly.addBridge(NativeBridge.create(poly.registry()));
    lib = NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());
  }

  @AfterEach
  void tearDown() {
    poly.close(); // closes the bridge too
  }

  @Test
  void aMissingLibraryIsNotFoundAndSaysWhatWasTried() {
    StatusException e =
        assertThrows(StatusException.class, () -> bridge.load("polycall_no_such_lib"));

    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.getMessage().contains("libpolycall_no_such_lib.so"), e.getMessage());
    stillWorks();
  }

  @Test
  void aMissingPathIsNotFound() {
    StatusException e =
        assertThrows(StatusException.class, () -> bridge.load("/nonexistent/libnothing.so"));

    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    stillWorks();
  }

  @Test
  void aFileTheLoaderRefusesIsAFailedPrecondition(@TempDir Path dir) throws Exception {
    // An executable is an ELF file dlopen refuses ("cannot dynamically load position-independent
    // executable"); a text file would do too, but makes the JVM warn about stack guards.
    Path fake = Files.copy(Path.of("/bin/true").toRealPath(), dir.resolve("libfake.so"));

    StatusException e = assertThrows(StatusException.class, () -> bridge.load(fake.toString()));

    assertEquals(Status.Code.FAILED_PRECONDITION, e.status().code());
    assertTrue(e.getMessage().contains("could not be loaded"), e.getMessage());
    stillWorks();
  }

  @Test
  void aMissingSymbolIsNotFoundNamingSymbolAndLibrary() {
    StatusException e =
        assertThrows(StatusException.class, () -> lib.register("t.nope(x: i32) -> i32"));

    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
    assertTrue(e.getMessage().contains("libpolycalltest.so"), e.getMessage());
    stillWorks();
  }

  @Test
  void aMissingMessageSymbolIsNotFoundToo() {
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                lib.register(
                    "t.div(a: i64, b: i64, q: out i64) -> i32 [symbol=checked_div, error=nonzero,"
                        + " message=no_such_getter]"));

    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.getMessage().contains("no_such_getter"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "add_i32",
        "t.add(a: i32, b: i32 -> i32 [symbol=add_i32]",
        "t.add(a i32, b: i32) -> i32 [symbol=add_i32]",
        "t.add(a: int, b: i32) -> i32 [symbol=add_i32]",
        "t.add(a: i32, a: i32) -> i32 [symbol=add_i32]",
        "t.add(a: i32, b: i32) => i32 [symbol=add_i32]",
        "t.add(a: i32, b: i32) -> i32 [symbol=add_i32, turbo]",
        "t.add(a: i32, b: i32) -> i32 [symbol=add_i32, error=sometimes]",
        "t.add(a: i32, b: i32) -> i32 [symbol=add_i32, status=OOPS]",
        "t.add(a: i32, b: i32) -> list<i32> [symbol=add_i32]",
        "t.add(a: map<string, i32>, b: i32) -> i32 [symbol=add_i32]",
        "t.add(a: i32, b: i32 = len(zzz)) -> i32 [symbol=add_i32]",
        "t.add(a: string, b: f64 = len(a)) -> i32 [symbol=add_i32]",
        "t.add(a: out bytes, b: i32) -> i32 [symbol=add_i32]",
        "t.add(a: out bytes[zzz], b: i32) -> i32 [symbol=add_i32]",
        "t.add(a: release i32, b: i32) -> i32 [symbol=add_i32]",
        "t.add(a: i32, b: i32) -> string [symbol=add_i32, error=nonzero]",
        "t.add(a: i32, b: i32) -> i32 [symbol=add_i32, error=null]",
        "t.apply(f: fn(i64) -> i64, x: i64) -> i64 [symbol=apply, critical]",
        "t.apply(f: fn(i64), x: i64) -> i64 [symbol=apply]",
        "t.apply(f: fn(list<i64>) -> i64, x: i64) -> i64 [symbol=apply]",
        "t.norm(p: struct P{x: f64, s: string}) -> f64 [symbol=norm]",
      })
  void aMalformedDeclarationIsInvalidArgument(String declaration) {
    StatusException e = assertThrows(StatusException.class, () -> lib.register(declaration));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code(), e.getMessage());
    assertTrue(e.getMessage().contains("native declaration"), e.getMessage());
    stillWorks();
  }

  @Test
  void wrongArgumentTypesAreRefusedBeforeC() {
    StatusException tooBig =
        assertThrows(StatusException.class, () -> poly.call("cconf.negate_i8", 300));
    StatusException notAString =
        assertThrows(StatusException.class, () -> poly.call("cconf.utf8_len", 12));
    StatusException wrongDtype =
        assertThrows(
            StatusException.class,
            () -> poly.call("cconf.sum_f64", Value.NdArray.copyOf(new int[] {1, 2})));
    StatusException nullString =
        assertThrows(StatusException.class, () -> poly.call("cconf.utf8_len", Value.NULL));
    StatusException arity =
        assertThrows(StatusException.class, () -> poly.call("cconf.add_i32", 1));

    for (StatusException e :
        new StatusException[] {tooBig, notAString, wrongDtype, nullString, arity}) {
      assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code(), e.getMessage());
    }
    assertTrue(tooBig.getMessage().contains("args[0]"), tooBig.getMessage());
    stillWorks();
  }

  @Test
  void divisionByZeroIsInvalidArgumentWithCsMessage() {
    StatusException e =
        assertThrows(StatusException.class, () -> poly.call("cconf.checked_div", 1L, 0L));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.getMessage().contains("division by zero"), e.getMessage());
    assertTrue(e.getMessage().contains("errno 33"), e.getMessage());
    stillWorks();
  }

  @Test
  void anOutBufferWithANegativeCapacityIsInvalidArgument() {
    lib.register("t.iota(out: out ndarray<i32>[n], n: i64, start: i32) -> u64 [symbol=pc_iota]");

    StatusException e = assertThrows(StatusException.class, () -> poly.call("t.iota", -1L, 0));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    stillWorks();
  }

  @Test
  void registeringTheSameNameTwiceIsAlreadyExists() {
    StatusException e =
        assertThrows(
            StatusException.class, () -> lib.register("cconf.add_i32(a: i32, b: i32) -> i32"));

    assertEquals(Status.Code.ALREADY_EXISTS, e.status().code());
    stillWorks();
  }

  private void stillWorks() {
    assertEquals(Value.i32(5), poly.call("cconf.add_i32", 2, 3));
  }
}
