package io.polycall.ffi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.spi.BoundFunction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntBinaryOperator;
import java.util.function.LongUnaryOperator;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The bridge against the system's libc, libm and zlib. */
class SystemLibrariesTest {
  private PolyCall poly;
  private NativeBridge bridge;

  @BeforeEach
  void setUp() {
    poly = PolyCall.create();
    bridge = poly.addBridge(NativeBridge.create(poly.registry()));
  }

  @AfterEach
  void tearDown() {
    poly.close(); // closes the bridge too
  }

  @Test
  void cosFromLibmIsCallableByNameAndThroughItsDirectHandle() throws Throwable {
    BoundFunction cos = bridge.load("m").register("math.cos(x: f64) -> f64 [critical, pure]");

    assertEquals(1.0, ((Value.Float) poly.call("math.cos", 0.0)).value());
    assertEquals("native", cos.info().bridge());
    assertEquals(Signature.parse("math.cos(x: f64) -> f64"), cos.info().signature());
    assertTrue(cos.info().hasTag("pure"));
    assertNotNull(cos.direct());
    assertEquals(-1.0, (double) cos.direct().invokeExact(Math.PI), 1e-15);
  }

  @Test
  void aResidentLibraryServesCallsAndClosingItStopsNewOnes() {
    NativeLibrary libm = bridge.loadResident("m");
    libm.register("math.sin(x: f64) -> f64 [critical]");
    assertEquals(Value.f64(0.0), poly.call("math.sin", 0.0));
    libm.close();
    StatusException e = assertThrows(StatusException.class, () -> poly.call("math.sin", 0.0));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.status().code());
    assertTrue(e.status().description().contains("is closed"), e.status().description());
  }

  @Test
  void aLibraryAlreadyLoadedUnloadableCannotBecomeResident() {
    bridge.load("z");
    StatusException e = assertThrows(StatusException.class, () -> bridge.loadResident("z"));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.status().code());
    assertNotNull(bridge.loadResident("c"));
  }

  @Test
  void powTakesTwoDoubles() {
    bridge.load("m").register("math.pow(x: f64, y: f64) -> f64");

    assertEquals(Value.f64(1024.0), poly.call("math.pow", 2.0, 10.0));
  }

  @Test
  void integersWidenIntoDoubleParameters() {
    bridge.load("m").register("math.pow(x: f64, y: f64) -> f64");

    assertEquals(Value.f64(8.0), poly.call("math.pow", 2, 3));
  }

  @Test
  void strlenCountsUtf8Bytes() {
    bridge.load("c").register("libc.strlen(s: string) -> u64");

    assertEquals(Value.u64(5), poly.call("libc.strlen", "hello"));
    assertEquals(Value.u64(3), poly.call("libc.strlen", "\u20ac")); // one euro sign, 3 bytes
  }

  @Test
  void qsortSortsInPlaceWithARegisteredJavaComparator() {
    AtomicInteger comparisons = new AtomicInteger();
    poly.jvm()
        .register(
            "java.compare_i32(a: i32, b: i32) -> i32",
            (IntBinaryOperator)
                (a, b) -> {
                  comparisons.incrementAndGet();
                  return Integer.compare(a, b);
                });
    bridge.load("c").register(qsort());
    Value.NdArray xs = Value.NdArray.copyOf(new int[] {5, -3, 9, 0, 2, 2, -8});

    Value r = poly.call("libc.qsort", xs, new Value.Fn("java.compare_i32", null));

    assertEquals(Value.NULL, r);
    assertArrayEquals(new int[] {-8, -3, 0, 2, 2, 5, 9}, (int[]) xs.toJava());
    assertTrue(comparisons.get() > 0);
  }

  @Test
  void qsortSignatureHidesTheLengthsAndShowsTheComparatorType() {
    BoundFunction f = bridge.load("c").bind(qsort());

    assertEquals(
        Signature.parse("libc.qsort(base: ndarray<i32>, cmp: fn(i32, i32) -> i32)"),
        f.info().signature());
  }

  @Test
  void aComparatorThatThrowsInsideQsortFailsTheCallWithoutCrashingTheJvm() {
    AtomicInteger calls = new AtomicInteger();
    poly.jvm()
        .register(
            "java.bad_compare(a: i32, b: i32) -> i32",
            (IntBinaryOperator)
                (a, b) -> {
                  calls.incrementAndGet();
                  throw new IllegalStateException("comparator exploded");
                });
    bridge.load("c").register(qsort());
    Value.NdArray xs = Value.NdArray.copyOf(new int[] {3, 1, 2, 7, 5, 4});

    StatusException e =
        assertThrows(
            StatusException.class,
            () -> poly.call("libc.qsort", xs, new Value.Fn("java.bad_compare", null)));

    assertTrue(e.getMessage().contains("comparator exploded"), e.getMessage());
    assertTrue(e.getMessage().contains("java.bad_compare"), e.getMessage());
    // The first failure stops further callbacks: qsort gets 0 ("equal") without calling Java.
    assertEquals(1, calls.get());
    // ... and the bridge keeps working.
    poly.jvm()
        .register("java.compare_i32(a: i32, b: i32) -> i32", (IntBinaryOperator) Integer::compare);
    poly.call("libc.qsort", xs, new Value.Fn("java.compare_i32", null));
    assertArrayEquals(new int[] {1, 2, 3, 4, 5, 7}, (int[]) xs.toJava());
  }

  @Test
  void aCallbackToAMissingFunctionFailsWithNotFound() {
    bridge.load("c").register(qsort());
    Value.NdArray xs = Value.NdArray.copyOf(new int[] {2, 1});

    StatusException e =
        assertThrows(
            StatusException.class,
            () -> poly.call("libc.qsort", xs, new Value.Fn("java.nowhere", null)));

    assertEquals(Status.Code.NOT_FOUND, e.status().code());
  }

  @Test
  void crc32MatchesJavaUtilZip() {
    bridge
        .load("z")
        .register("zlib.crc32(crc: u64, data: bytes, len: u32 = len(data)) -> u64 [critical]");
    byte[] data = "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII);
    CRC32 expected = new CRC32();
    expected.update(data);

    Value r = poly.call("zlib.crc32", 0L, data);

    assertEquals(Value.u64(expected.getValue()), r);
  }

  @Test
  void compressAndUncompressRoundTripThroughOutBuffersAndInOutLengths() {
    NativeLibrary z = bridge.load("libz.so.1");
    z.register("zlib.compressBound(sourceLen: u64) -> u64");
    BoundFunction compress =
        z.register(
            "zlib.compress(dest: out bytes[destLen], destLen: inout u64, source: bytes,"
                + " sourceLen: u64 = len(source)) -> i32 [error=nonzero]");
    z.register(
        "zlib.uncompress(dest: out bytes[destLen], destLen: inout u64, source: bytes,"
            + " sourceLen: u64 = len(source)) -> i32 [error=nonzero]");
    byte[] original = "polycall ".repeat(200).getBytes(StandardCharsets.US_ASCII);

    long bound = ((Value.Int) poly.call("zlib.compressBound", (long) original.length)).value();
    Value.Struct packed = (Value.Struct) poly.call("zlib.compress", bound, original);
    byte[] compressed = ((Value.Bytes) packed.field("dest")).value();
    long compressedLen = ((Value.Int) packed.field("destLen")).value();
    Value.Struct unpacked =
        (Value.Struct) poly.call("zlib.uncompress", (long) original.length, compressed);

    assertEquals(
        Signature.parse(
            "zlib.compress(destLen: u64, source: bytes) -> struct{dest: bytes, destLen: u64}"),
        compress.info().signature());
    assertEquals(compressed.length, compressedLen);
    assertTrue(compressed.length < original.length / 10);
    assertArrayEquals(original, ((Value.Bytes) unpacked.field("dest")).value());
  }

  @Test
  void compressIntoATooSmallBufferFailsWithZlibsCode() {
    bridge
        .load("z")
        .register(
            "zlib.compress(dest: out bytes[destLen], destLen: inout u64, source: bytes,"
                + " sourceLen: u64 = len(source)) -> i32 [error=nonzero]");

    StatusException e =
        assertThrows(StatusException.class, () -> poly.call("zlib.compress", 2L, new byte[1000]));

    assertTrue(e.getMessage().contains("returned -5"), e.getMessage()); // Z_BUF_ERROR
  }

  @Test
  void theSameLibraryNameLoadsOnce() {
    assertTrue(bridge.load("m") == bridge.load("m"));
    assertTrue(bridge.load("m").loadedAs().startsWith("libm.so"));
  }

  @Test
  void callOptionsAreAcceptedOnCallsWithCallbacks() {
    poly.jvm().register("java.twice(x: i64) -> i64", (LongUnaryOperator) x -> x * 2);
    NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());

    Value r =
        poly.call(
            "cconf.apply",
            List.of(new Value.Fn("java.twice", null), Value.i64(21)),
            CallOptions.DEFAULT.withMetadata("trace", "t1"));

    assertEquals(Value.i64(42), r);
  }

  static String qsort() {
    return "libc.qsort(base: inout ndarray<i32>, n: u64 = len(base), size: u64 = itemsize(base),"
        + " cmp: fn(*i32, *i32) -> i32)";
  }
}
