package io.polycall.core;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a Java method as a PolyCall function (for {@link JvmBridge#register(Object)}), or names the
 * function an interface method calls (for {@link PolyCall#bind}).
 *
 * {@snippet :
 * @PolyNamespace("math")
 * class MathFunctions {
 *   @PolyFunction(tags = "pure", doc = "Adds two integers.")
 *   public long add(long a, long b) { return a + b; }      // registered as math.add(a: i64, b: i64) -> i64
 * }
 * }
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface PolyFunction {
  /** The function name; empty means the method's name, inside the class's namespace. */
  String name() default "";

  /**
   * An explicit parameter list and result, such as {@code (x: u32) -> u64}, when the Java types
   * alone do not say enough (unsigned integers, {@code fn} parameters, ndarray dtypes). Its types
   * must be convertible to the method's Java types. Empty means derive from the method.
   */
  String signature() default "";

  int version() default 1;

  String[] tags() default {};

  String doc() default "";
}
