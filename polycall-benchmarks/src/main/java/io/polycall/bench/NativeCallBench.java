package io.polycall.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.core.PolyNamespace;
import io.polycall.ffi.NativeBridge;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
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
 * {@code cos} from libm, called through PolyCall and through its peers in one run:
 *
 * <ul>
 *   <li>{@code rawFfm}: a constant FFM downcall handle, no options (the peer)
 *   <li>{@code rawFfmCritical}, {@code rawFfmCriticalHeap}: the same with {@code
 *       Linker.Option.critical(false)} and {@code critical(true)}, the option PolyCall links {@code
 *       [critical]} functions with
 *   <li>{@code polycallProxy}: a typed proxy bound to {@code math.cos} of a resident libm (target:
 *       at most 3x rawFfm)
 *   <li>{@code polycallDynamic}: {@code pc.call("math.cos", Value)}
 *   <li>{@code jnaDirect}, {@code jnaInterface}: JNA's direct mapping and interface mapping
 *       (target: PolyCall at least 5x faster)
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NativeCallBench {
  static final String LIBM = "libm.so.6";

  static final MethodHandle RAW;
  static final MethodHandle RAW_CRITICAL;
  static final MethodHandle RAW_CRITICAL_HEAP;

  static {
    Linker linker = Linker.nativeLinker();
    SymbolLookup libm = SymbolLookup.libraryLookup(LIBM, Arena.global());
    FunctionDescriptor dd = FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_DOUBLE);
    RAW = linker.downcallHandle(libm.findOrThrow("cos"), dd);
    RAW_CRITICAL =
        linker.downcallHandle(libm.findOrThrow("cos"), dd, Linker.Option.critical(false));
    RAW_CRITICAL_HEAP =
        linker.downcallHandle(libm.findOrThrow("cos"), dd, Linker.Option.critical(true));
  }

  @PolyNamespace("math")
  public interface MathOps {
    double cos(double x);
  }

  /** JNA's interface mapping: a proxy that looks the function up and converts per call. */
  public interface JnaLibM extends Library {
    double cos(double x);
  }

  /** JNA's direct mapping: native methods registered once, JNA's fastest path. */
  public static final class JnaDirect {
    static {
      Native.register(LIBM);
    }

    public static native double cos(double x);
  }

  PolyCall pc;
  MathOps ops;

  JnaLibM jna;
  double x = 0.5;
  Value vx = Value.f64(0.5);

  @Setup(Level.Trial)
  public void setUp() {
    pc = PolyCall.create();
    NativeBridge bridge = pc.addBridge(NativeBridge.create(pc.registry()));
    bridge.loadResident("m").register("math.cos(x: f64) -> f64 [critical, pure]");
    ops = pc.bind(MathOps.class);
    jna = Native.load(LIBM, JnaLibM.class);
    JnaDirect.cos(0);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pc.close();
  }

  @Benchmark
  public double rawFfm() throws Throwable {
    return (double) RAW.invokeExact(x);
  }

  @Benchmark
  public double rawFfmCritical() throws Throwable {
    return (double) RAW_CRITICAL.invokeExact(x);
  }

  @Benchmark
  public double rawFfmCriticalHeap() throws Throwable {
    return (double) RAW_CRITICAL_HEAP.invokeExact(x);
  }

  @Benchmark
  public double polycallProxy() {
    return ops.cos(x);
  }

  @Benchmark
  public Value polycallDynamic() {
    return pc.call("math.cos", vx);
  }

  @Benchmark
  public double jnaDirect() {
    return JnaDirect.cos(x);
  }

  @Benchmark
  public double jnaInterface() {
    return jna.cos(x);
  }
}
