package io.polycall.testing;

import io.polycall.CallContext;
import io.polycall.Value;
import io.polycall.core.PolyFunction;
import io.polycall.core.PolyNamespace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The conformance functions written in Java, as a Java user would write them. */
@PolyNamespace("jconf")
public final class JvmConformanceFunctions {

  public record Point(double x, double y) {}

  @PolyFunction(tags = {"pure", "idempotent"})
  public int add_i32(int a, int b) {
    return a + b;
  }

  @PolyFunction(tags = "pure")
  public long add_i64(long a, long b) {
    return a + b;
  }

  @PolyFunction
  public double mul_f64(double a, double b) {
    return a * b;
  }

  @PolyFunction
  public byte negate_i8(byte x) {
    return (byte) -x;
  }

  @PolyFunction
  public boolean is_positive(double x) {
    return x > 0;
  }

  @PolyFunction(signature = "(s: string) -> u64")
  public long utf8_len(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  @PolyFunction(signature = "(s: optional<string>) -> i64")
  public long maybe_len(String s) {
    return s == null ? -1 : s.length();
  }

  @PolyFunction(signature = "(xs: ndarray<f64>) -> f64")
  public double sum_f64(MemorySegment xs) {
    double sum = 0;
    for (long i = 0; i < xs.byteSize() / 8; i++) {
      sum += xs.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
    }
    return sum;
  }

  @PolyFunction(signature = "(data: bytes) -> u64")
  public long byte_sum(byte[] data) {
    long sum = 0;
    for (byte b : data) {
      sum += Byte.toUnsignedInt(b);
    }
    return sum;
  }

  @PolyFunction
  public long checked_div(long a, long b) {
    if (b == 0) {
      throw new IllegalArgumentException("division by zero: " + a + " / 0");
    }
    return a / b;
  }

  @PolyFunction(signature = "(f: fn(i64) -> i64, x: i64) -> i64")
  public long apply(CallContext ctx, Value.Fn f, long x) {
    Value r = ctx.caller().call(f.name(), List.of(Value.i64(x)), ctx.options());
    return ((Value.Int) r).value();
  }

  @PolyFunction
  public double norm(Point p) {
    return Math.hypot(p.x(), p.y());
  }

  @PolyFunction
  public Point midpoint(Point a, Point b) {
    return new Point((a.x() + b.x()) / 2, (a.y() + b.y()) / 2);
  }

  @PolyFunction
  public void sleep_ms(long ms) throws InterruptedException {
    Thread.sleep(ms);
  }
}
