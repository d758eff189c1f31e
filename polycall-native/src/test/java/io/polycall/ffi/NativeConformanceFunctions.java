package io.polycall.ffi;

import java.nio.file.Path;
import java.util.List;

/**
 * Binds the conformance functions of the project's C library (polycalltest.c) under the prefix
 * {@code cconf}, for the bridge conformance suite.
 */
public final class NativeConformanceFunctions {
  public static final String PREFIX = "cconf";

  /** The declarations, one per conformance function, in the suite's order. */
  public static final List<String> DECLARATIONS =
      List.of(
          "cconf.add_i32(a: i32, b: i32) -> i32 [critical, pure]",
          "cconf.add_i64(a: i64, b: i64) -> i64 [critical, pure]",
          "cconf.mul_f64(a: f64, b: f64) -> f64 [critical, pure]",
          "cconf.negate_i8(x: i8) -> i8 [critical, pure]",
          "cconf.is_positive(x: f64) -> bool [critical, pure]",
          "cconf.utf8_len(s: string) -> u64",
          "cconf.maybe_len(s: optional<string>) -> i64",
          "cconf.sum_f64(xs: ndarray<f64>, n: u64 = len(xs)) -> f64",
          "cconf.byte_sum(data: bytes, n: u64 = len(data)) -> u64 [critical]",
          "cconf.checked_div(a: i64, b: i64, quotient: out i64) -> i32"
              + " [error=nonzero, errno, message=pc_last_error]",
          "cconf.apply(f: fn(i64) -> i64, x: i64) -> i64",
          "cconf.norm(p: struct Point{x: f64, y: f64}) -> f64",
          "cconf.midpoint(a: struct Point{x: f64, y: f64}, b: struct Point{x: f64, y: f64})"
              + " -> struct Point{x: f64, y: f64}",
          "cconf.sleep_ms(ms: i64)");

  private NativeConformanceFunctions() {}

  /** The test library built by {@code make native-testlib}. */
  public static Path testLibrary() {
    String dir = System.getProperty("polycall.testlib.dir", "build/native");
    return Path.of(dir, "libpolycalltest.so").toAbsolutePath();
  }

  /** Loads the library at {@code libPath} and registers every conformance function. */
  public static NativeLibrary register(NativeBridge bridge, Path libPath) {
    NativeLibrary lib = bridge.load(libPath.toString());
    for (String d : DECLARATIONS) {
      lib.register(d);
    }
    return lib;
  }
}
