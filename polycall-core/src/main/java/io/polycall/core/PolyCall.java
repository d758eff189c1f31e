package io.polycall.core;

import io.polycall.CallInterceptor;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.FunctionInfo;
import io.polycall.Registry;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.internal.CallEngine;
import io.polycall.core.internal.ProxyFactory;
import io.polycall.core.internal.RealRegistry;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Bridge;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A PolyCall node in this process: one registry, one interceptor chain, the bridges that run
 * functions, and the ways to call them.
 *
 * {@snippet :
 * try (PolyCall pc = PolyCall.builder().withInterceptor(new LoggingInterceptor()).build()) {
 *   pc.jvm().register("math.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
 *   Value three = pc.call("math.add", 1L, 2L);                          // dynamic, by name
 *   MathOps ops = pc.bind(MathOps.class);                                // typed
 *   long five = ops.add(2, 3);
 * }
 * }
 *
 * <p>Thread-safe. {@code call} blocks on the caller's thread (on a virtual thread when a deadline
 * is set, so that the caller can stop waiting); {@code callAsync} and {@code batch} run on virtual
 * threads. {@link #close} is idempotent and closes every bridge added to this node.
 */
public final class PolyCall implements Caller, AutoCloseable {
  private final RealRegistry registry;
  private final CallEngine engine;
  private final JvmBridge jvm;
  private final List<Bridge> bridges = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong callbacks = new AtomicLong();

  private PolyCall(Builder b) {
    this.registry = new RealRegistry();
    this.engine = new CallEngine(registry, b.interceptors);
    this.jvm = new JvmBridge(registry);
    bridges.add(jvm);
  }

  /** A node with no interceptors. */
  public static PolyCall create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Settings of a node. Not thread-safe; build once. */
  public static final class Builder {
    private final List<CallInterceptor> interceptors = new ArrayList<>();

    private Builder() {}

    /**
     * Adds an interceptor after those already added. The first added sees a call first and its
     * result last.
     */
    public Builder withInterceptor(CallInterceptor interceptor) {
      interceptors.add(java.util.Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    public PolyCall build() {
      return new PolyCall(this);
    }
  }

  public Registry registry() {
    return registry;
  }

  /** The bridge for Java functions. */
  public JvmBridge jvm() {
    return jvm;
  }

  /** A caller for bridges that call back (native upcalls, workers); the same chain applies. */
  public Caller caller() {
    return this;
  }

  /**
   * Adds a bridge whose lifetime this node owns: {@link #close} closes it.
   *
   * @return the bridge, for chaining
   */
  public <B extends Bridge> B addBridge(B bridge) {
    checkOpen();
    bridges.add(bridge);
    return bridge;
  }

  /** Calls a function by name with values, no deadline. */
  public Value call(String name, Value... args) {
    return call(name, Arrays.asList(args), CallOptions.DEFAULT);
  }

  @Override
  public Value call(String name, List<Value> args, CallOptions options) {
    checkOpen();
    return engine.call(name, args, options);
  }

  @Override
  public CompletableFuture<Value> callAsync(String name, List<Value> args, CallOptions options) {
    checkOpen();
    return engine.callAsync(name, args, options);
  }

  public CompletableFuture<Value> callAsync(String name, Value... args) {
    return callAsync(name, Arrays.asList(args), CallOptions.DEFAULT);
  }

  /**
   * Runs calls concurrently and returns their results in order. One failing call fails only its own
   * result. When no interceptor is installed and {@code options} has no deadline, consecutive calls
   * of the same function whose bridge can batch (a worker pool) travel together: one frame per
   * worker process instead of one per call. Blocks until every call has finished.
   */
  public List<CallResult> batch(List<CallRequest> calls, CallOptions options) {
    checkOpen();
    return engine.batch(calls, options);
  }

  public List<CallResult> batch(List<CallRequest> calls) {
    return batch(calls, CallOptions.DEFAULT);
  }

  /**
   * A handle on one function, resolved now: calls through it skip the lookup by name. It keeps
   * calling the version it resolved even if a newer one is registered later.
   *
   * @throws StatusException NOT_FOUND
   */
  public FunctionHandle handle(String name) {
    BoundFunction f = registry.resolve(name);
    return new FunctionHandle(f, engine);
  }

  /**
   * An implementation of {@code iface} whose methods call registered functions. A method calls the
   * function its {@link PolyFunction#name} names, else {@code namespace.methodName} with the
   * interface's {@link PolyNamespace}, else its own name. Functions may be registered before or
   * after binding, and on any bridge. When no interceptor is installed and the function has a
   * direct handle with the method's exact primitive types, the proxy calls it with no boxing.
   */
  public <T> T bind(Class<T> iface) {
    checkOpen();
    PolyNamespace ns = iface.getAnnotation(PolyNamespace.class);
    return ProxyFactory.create(iface, engine, (Method m) -> functionNameOf(ns, m));
  }

  private static String functionNameOf(PolyNamespace ns, Method m) {
    PolyFunction pf = m.getAnnotation(PolyFunction.class);
    if (pf != null && !pf.name().isEmpty()) {
      return pf.name().contains(".") || ns == null ? pf.name() : ns.value() + "." + pf.name();
    }
    return ns == null ? m.getName() : ns.value() + "." + m.getName();
  }

  /**
   * Registers a Java lambda as an anonymous function and returns its reference, to pass where a
   * {@code fn} is expected (a comparator for C's {@code qsort}, a callback for Python).
   *
   * @param shape parameters and result, such as {@code (a: i32, b: i32) -> i32}
   */
  public Value.Fn callback(String shape, Object lambda) {
    String name = "callback.fn" + callbacks.incrementAndGet();
    Signature sig = Signature.parse(name + shape);
    jvm.register(FunctionInfo.of(sig, JvmBridge.NAME), lambda);
    return new Value.Fn(name, sig.asFnType());
  }

  /** Removes a callback made by {@link #callback}. */
  public void release(Value.Fn callback) {
    registry.unregister(callback.name());
  }

  /** Lists functions whose names match a glob ({@code math.*}, {@code **}). */
  public List<FunctionInfo> functions(String glob) {
    return registry.list(glob);
  }

  public FunctionInfo describe(String name) {
    return registry.describe(name);
  }

  private void checkOpen() {
    if (closed.get()) {
      throw Status.FAILED_PRECONDITION
          .withDescription("this PolyCall node is closed")
          .asException();
    }
  }

  /** Closes every bridge, in reverse order of addition. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List<Bridge> reversed = new ArrayList<>(bridges);
    java.util.Collections.reverse(reversed);
    for (Bridge b : reversed) {
      try {
        b.close();
      } catch (Exception e) {
        System.getLogger(PolyCall.class.getName())
            .log(System.Logger.Level.WARNING, "closing bridge " + b.name() + " failed", e);
      }
    }
  }
}
