package io.polycall.bench;

import io.polycall.Value;
import io.polycall.core.FunctionHandle;
import io.polycall.core.PolyCall;
import io.polycall.core.PolyNamespace;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A two-argument Java function called four ways. The peer is {@code direct}: a constant {@link
 * MethodHandle} of the same static method, called with {@code invokeExact}.
 *
 * <ul>
 *   <li>{@code typedProxy}: target at most 2x {@code direct}
 *   <li>{@code dynamicByName}: {@code pc.call("bench.add", boxed values)}, target at most 150 ns
 *   <li>{@code preBoundHandle}: a {@link FunctionHandle} with boxed values
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JvmCallBench {

  @PolyNamespace("bench")
  public interface Ops {
    long add(long a, long b);
  }

  static final MethodHandle DIRECT;

  static {
    try {
      DIRECT =
          MethodHandles.lookup()
              .findStatic(
                  JvmCallBench.class,
                  "add",
                  MethodType.methodType(long.class, long.class, long.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public static long add(long a, long b) {
    return a + b;
  }

  PolyCall pc;
  Ops ops;
  FunctionHandle handle;
  long a = 17;
  long b = 25;
  Value va = Value.i64(17);
  Value vb = Value.i64(25);

  @Setup(Level.Trial)
  public void setUp() {
    pc = PolyCall.create();
    pc.jvm().register("bench.add(a: i64, b: i64) -> i64", (LongBinaryOperator) JvmCallBench::add);
    ops = pc.bind(Ops.class);
    handle = pc.handle("bench.add");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pc.close();
  }

  @Benchmark
  public long direct() throws Throwable {
    return (long) DIRECT.invokeExact(a, b);
  }

  @Benchmark
  public long typedProxy() {
    return ops.add(a, b);
  }

  @Benchmark
  public Value dynamicByName() {
    return pc.call("bench.add", va, vb);
  }

  @Benchmark
  public Value preBoundHandle() {
    return handle.call(va, vb);
  }
}
