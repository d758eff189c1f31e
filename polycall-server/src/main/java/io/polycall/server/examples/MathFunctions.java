package io.polycall.server.examples;

import io.polycall.core.PolyFunction;
import io.polycall.core.PolyNamespace;

/**
 * Example JVM functions in namespace {@code math}, registered by the example config as an instance
 * made with the no-arg constructor. Stateless and thread-safe.
 */
@PolyNamespace("math")
public final class MathFunctions {

  public MathFunctions() {}

  @PolyFunction(
      tags = {"pure", "idempotent"},
      doc = "Adds two integers; fails on overflow.")
  public long add(long a, long b) {
    return Math.addExact(a, b);
  }

  @PolyFunction(
      tags = "pure",
      doc = "x squared; as a fn(i64) -> i64 it can be passed to C, e.g. to ctest.apply.")
  public long square(long x) {
    return Math.multiplyExact(x, x);
  }

  @PolyFunction(tags = "pure", doc = "Multiplies two numbers.")
  public double mul(double a, double b) {
    return a * b;
  }

  @PolyFunction(tags = "pure", doc = "The length of the hypotenuse of a right triangle.")
  public double hypot(double x, double y) {
    return Math.hypot(x, y);
  }

  @PolyFunction(
      tags = "pure",
      doc = "Integer division; dividing by zero fails, which shows an error crossing the bridge.")
  public long divide(long a, long b) {
    if (b == 0) {
      throw new ArithmeticException("division by zero: " + a + " / 0");
    }
    return a / b;
  }

  @PolyFunction(
      tags = "pure",
      doc = "Orders two integers as C's qsort expects: negative, zero or positive.")
  public int compare(int a, int b) {
    return Integer.compare(a, b);
  }
}
