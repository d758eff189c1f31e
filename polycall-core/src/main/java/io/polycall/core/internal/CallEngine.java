package io.polycall.core.internal;

import io.polycall.Call;
import io.polycall.CallContext;
import io.polycall.CallInterceptor;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.Coercion;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.spi.BatchInvoker;
import io.polycall.spi.BoundFunction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The path of a call: resolve, interceptor chain, argument check, bridge, result check, and the
 * mapping of whatever went wrong to one {@link Status}.
 *
 * <pre>
 *   call(name, args, options)
 *     -> registry.find(name)                           NOT_FOUND + suggestions
 *     -> deadline? run on a virtual thread and wait     DEADLINE_EXCEEDED, CANCELLED
 *     -> interceptors[0..n) -> terminal                 (skipped when there are none)
 *     -> Coercion.arguments(signature, args)            INVALID_ARGUMENT with the path
 *     -> invoker.invoke(args, context)                  the function's own status
 *     -> Coercion.result(signature, value)              INTERNAL: the function broke its contract
 * </pre>
 *
 * Thread-safe and lock-free; a call without a deadline runs on the caller's thread.
 */
public final class CallEngine implements Caller {
  private static final ThreadFactory VIRTUAL =
      Thread.ofVirtual().name("polycall-call-", 0).factory();

  private final RealRegistry registry;
  private final CallInterceptor[] interceptors;
  private final RealContext detached;

  public CallEngine(RealRegistry registry, List<CallInterceptor> interceptors) {
    this.registry = registry;
    this.interceptors = interceptors.toArray(new CallInterceptor[0]);
    this.detached = new RealContext(CallOptions.DEFAULT, this);
  }

  public RealRegistry registry() {
    return registry;
  }

  public boolean hasInterceptors() {
    return interceptors.length > 0;
  }

  @Override
  public Value call(String name, List<Value> args, CallOptions options) {
    BoundFunction f = registry.find(name);
    if (f == null) {
      throw registry.notFound(name);
    }
    return call(f, args, options);
  }

  /** A call of an already resolved function (pre-bound handles, proxies). */
  public Value call(BoundFunction f, List<Value> args, CallOptions options) {
    if (!options.hasDeadline()) {
      RealContext ctx = options == CallOptions.DEFAULT ? detached : new RealContext(options, this);
      return run(f, args, options, ctx);
    }
    return callWithDeadline(f, args, options);
  }

  private Value callWithDeadline(BoundFunction f, List<Value> args, CallOptions options) {
    if (options.isExpired()) {
      throw Status.DEADLINE_EXCEEDED
          .withDescription("deadline passed before " + f.info().qualifiedName() + " started")
          .asException();
    }
    RealContext ctx = new RealContext(options, this);
    CompletableFuture<Value> result = new CompletableFuture<>();
    Thread worker =
        VIRTUAL.newThread(
            () -> {
              try {
                result.complete(run(f, args, options, ctx));
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    worker.start();
    try {
      Value v = result.get(Math.max(0, options.remainingNanos()), TimeUnit.NANOSECONDS);
      if (options.isExpired()) {
        // As in gRPC, a result that arrives after the deadline is discarded: the function may
        // have returned early precisely because it saw the deadline pass.
        throw new TimeoutException();
      }
      return v;
    } catch (TimeoutException e) {
      ctx.cancel();
      worker.interrupt();
      throw Status.DEADLINE_EXCEEDED
          .withDescription(
              f.info().qualifiedName()
                  + " ["
                  + f.info().bridge()
                  + "] did not finish before its deadline; it was cancelled")
          .asException();
    } catch (InterruptedException e) {
      ctx.cancel();
      worker.interrupt();
      Thread.currentThread().interrupt();
      throw Status.CANCELLED
          .withDescription("the caller was interrupted while " + f.info().qualifiedName() + " ran")
          .asException();
    } catch (ExecutionException e) {
      throw asStatusException(e.getCause());
    }
  }

  @Override
  public CompletableFuture<Value> callAsync(String name, List<Value> args, CallOptions options) {
    CancellableFuture future = new CancellableFuture();
    Thread t =
        VIRTUAL.newThread(
            () -> {
              try {
                future.complete(call(name, args, options));
              } catch (Throwable e) {
                future.completeExceptionally(asStatusException(e));
              }
            });
    future.worker = t;
    t.start();
    return future;
  }

  /**
   * Runs {@code calls} concurrently and returns their results in order; one failed call fails only
   * its own result.
   *
   * <p>Without interceptors and without a deadline, consecutive calls of the same function whose
   * invoker is a {@link BatchInvoker} run as one {@link BatchInvoker#invokeAll} (one frame per
   * worker process instead of one per call); each call's arguments are still checked with {@link
   * Coercion#arguments} and its result with {@link Coercion#result}. Every other call runs on its
   * own virtual thread through {@link #callAsync}, interceptors included.
   */
  public List<CallResult> batch(List<CallRequest> calls, CallOptions options) {
    int n = calls.size();
    CallResult[] out = new CallResult[n];
    List<CompletableFuture<?>> pending = new ArrayList<>();
    boolean grouping = interceptors.length == 0 && !options.hasDeadline();
    int i = 0;
    while (i < n) {
      BoundFunction f = grouping ? registry.find(calls.get(i).name()) : null;
      int end = i + 1;
      if (f != null && f.invoker() instanceof BatchInvoker) {
        while (end < n && registry.find(calls.get(end).name()) == f) {
          end++;
        }
      }
      if (end - i >= 2) {
        int from = i;
        int to = end;
        CompletableFuture<Void> group = new CompletableFuture<>();
        VIRTUAL
            .newThread(
                () -> {
                  try {
                    runGroup(f, calls.subList(from, to), options, out, from);
                  } finally {
                    group.complete(null);
                  }
                })
            .start();
        pending.add(group);
      } else {
        int at = i;
        pending.add(
            callAsync(calls.get(i).name(), calls.get(i).args(), options)
                .handle(
                    (v, t) ->
                        out[at] =
                            t == null
                                ? CallResult.ok(v)
                                : CallResult.failed(Status.fromThrowable(unwrap(t)))));
      }
      i = end;
    }
    for (CompletableFuture<?> p : pending) {
      p.join();
    }
    return List.of(out);
  }

  /** One {@code invokeAll} for calls of {@code f}; fills {@code out[offset..]}. Never throws. */
  private void runGroup(
      BoundFunction f, List<CallRequest> calls, CallOptions options, CallResult[] out, int offset) {
    Signature sig = f.info().signature();
    List<Value[]> valid = new ArrayList<>(calls.size());
    int[] slots = new int[calls.size()];
    for (int k = 0; k < calls.size(); k++) {
      try {
        valid.add(Coercion.arguments(sig, calls.get(k).args()));
        slots[valid.size() - 1] = offset + k;
      } catch (RuntimeException e) {
        out[offset + k] = CallResult.failed(Status.fromThrowable(e));
      }
    }
    if (valid.isEmpty()) {
      return;
    }
    RealContext ctx = options == CallOptions.DEFAULT ? detached : new RealContext(options, this);
    List<BatchInvoker.Outcome> outcomes;
    try {
      outcomes = ((BatchInvoker) f.invoker()).invokeAll(valid, ctx);
      if (outcomes.size() != valid.size()) {
        throw Status.INTERNAL
            .withDescription(
                "batch invoker of "
                    + f.info().qualifiedName()
                    + " returned "
                    + outcomes.size()
                    + " outcomes for "
                    + valid.size()
                    + " calls")
            .asException();
      }
    } catch (Throwable t) {
      Status s = failureOf(t, f.info()).status();
      for (int k = 0; k < valid.size(); k++) {
        out[slots[k]] = CallResult.failed(s);
      }
      return;
    }
    for (int k = 0; k < valid.size(); k++) {
      BatchInvoker.Outcome o = outcomes.get(k);
      CallResult r;
      if (!o.isOk()) {
        r = CallResult.failed(failureOf(o.status().asException(), f.info()).status());
      } else {
        try {
          r = CallResult.ok(checkedResult(f, o.value()));
        } catch (StatusException e) {
          r = CallResult.failed(e.status());
        }
      }
      out[slots[k]] = r;
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause()
        : t;
  }

  /** A future whose {@code cancel} interrupts the call, so the function sees it cancelled. */
  private static final class CancellableFuture extends CompletableFuture<Value> {
    volatile Thread worker;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean done =
          completeExceptionally(
              Status.CANCELLED
                  .withDescription("the call was cancelled by its caller")
                  .asException());
      Thread w = worker;
      if (done && w != null) {
        w.interrupt();
      }
      return done;
    }

    @Override
    public boolean isCancelled() {
      return isCompletedExceptionally()
          && exceptionNow() instanceof StatusException se
          && se.status().code() == Status.Code.CANCELLED;
    }
  }

  private Value run(BoundFunction f, List<Value> args, CallOptions options, RealContext ctx) {
    if (interceptors.length == 0) {
      return terminal(f, args, ctx);
    }
    return new RealChain(0, new Call(f.info(), args, options), ctx, f).proceed(null);
  }

  private Value terminal(BoundFunction f, List<Value> args, CallContext ctx) {
    Signature sig = f.info().signature();
    Value[] checked = Coercion.arguments(sig, args);
    Value result;
    try {
      result = f.invoker().invoke(checked, ctx);
    } catch (Throwable t) {
      throw asStatusException(t, f.info());
    }
    return checkedResult(f, result);
  }

  /** The result checked against the signature; INTERNAL when the function broke its contract. */
  private static Value checkedResult(BoundFunction f, Value result) {
    Signature sig = f.info().signature();
    try {
      return Coercion.result(sig, result == null ? Value.NULL : result);
    } catch (StatusException e) {
      throw Status.INTERNAL
          .withDescription(
              f.info().qualifiedName()
                  + " ["
                  + f.info().bridge()
                  + "] broke its signature "
                  + sig.shape()
                  + ": "
                  + e.status().description())
          .asException();
    }
  }

  private static StatusException asStatusException(Throwable t) {
    return t instanceof StatusException se ? se : Status.fromThrowable(t).asException();
  }

  /**
   * The function's failure as a status: its Java frames cut where PolyCall's own call path begins
   * (so a nested call does not repeat its caller's stack), then a frame naming the function and its
   * bridge. Used by the engine and by proxies on their direct path.
   */
  public static StatusException failureOf(Throwable t, FunctionInfo info) {
    if (t instanceof StackOverflowError || t instanceof OutOfMemoryError) {
      return Status.RESOURCE_EXHAUSTED
          .withDescription(
              info.qualifiedName()
                  + " ran out of "
                  + (t instanceof StackOverflowError ? "stack" : "memory"))
          .withCause(t)
          .asException();
    }
    Status s = Status.fromThrowable(t);
    boolean fresh = !(t instanceof StatusException se) || se.status().frames().isEmpty();
    if (fresh) {
      Throwable origin = t instanceof StatusException ? t : (s.cause() != null ? s.cause() : t);
      s = s.withFrames(userFrames(origin));
    }
    return s.withOuterFrames(
            List.of(
                new Status.StackFrame(
                    "polycall", info.qualifiedName() + " [" + info.bridge() + "]", "", 0)))
        .asException();
  }

  private static StatusException asStatusException(Throwable t, FunctionInfo info) {
    return failureOf(t, info);
  }

  /** A throwable's Java frames up to, not including, the first frame of PolyCall's core. */
  private static List<Status.StackFrame> userFrames(Throwable t) {
    List<Status.StackFrame> all = Status.javaFrames(t);
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).function().startsWith(INTERNAL_PACKAGE)) {
        return all.subList(0, i);
      }
    }
    return all;
  }

  private static final String INTERNAL_PACKAGE = CallEngine.class.getPackageName() + ".";

  /** One call's trip through the interceptors; not shared between threads. */
  private final class RealChain implements CallInterceptor.Chain {
    private final int index;
    private final Call call;
    private final RealContext ctx;
    private final BoundFunction function;
    private boolean proceeded;

    RealChain(int index, Call call, RealContext ctx, BoundFunction function) {
      this.index = index;
      this.call = call;
      this.ctx = ctx;
      this.function = function;
    }

    @Override
    public Call call() {
      return call;
    }

    @Override
    public CallContext context() {
      return ctx;
    }

    @Override
    public Value proceed(Call next) {
      Call c = next == null ? call : next;
      if (index > 0) {
        if (proceeded) {
          throw new IllegalStateException(
              "interceptor "
                  + interceptors[index - 1].getClass().getName()
                  + " called proceed() twice");
        }
        proceeded = true;
      }
      if (index == interceptors.length) {
        BoundFunction f =
            c.function() == function.info()
                ? function
                : registry.resolve(c.function().qualifiedName());
        RealContext rc =
            c.options() == ctx.options() ? ctx : new RealContext(c.options(), CallEngine.this);
        return terminal(f, c.args(), rc);
      }
      RealChain nextChain = new RealChain(index + 1, c, ctx, function);
      Value v = interceptors[index].intercept(nextChain);
      if (v == null) {
        throw Status.INTERNAL
            .withDescription(
                "interceptor " + interceptors[index].getClass().getName() + " returned null")
            .asException();
      }
      return v;
    }
  }

  /** The context of one call. Nested calls through {@link #caller} keep its deadline. */
  static final class RealContext implements CallContext, Caller {
    private final CallOptions options;
    private final CallEngine engine;
    private volatile boolean cancelled;

    RealContext(CallOptions options, CallEngine engine) {
      this.options = options;
      this.engine = engine;
    }

    void cancel() {
      cancelled = true;
    }

    @Override
    public CallOptions options() {
      return options;
    }

    @Override
    public boolean isCancelled() {
      return cancelled || options.isExpired() || Thread.currentThread().isInterrupted();
    }

    @Override
    public Caller caller() {
      return options.hasDeadline() ? this : engine;
    }

    private CallOptions inherit(CallOptions o) {
      if (!options.hasDeadline() || o.deadlineNanoTime() <= options.deadlineNanoTime()) {
        return o;
      }
      return o.withDeadlineAfter(Duration.ofNanos(Math.max(0, options.remainingNanos())));
    }

    @Override
    public Value call(String name, List<Value> args, CallOptions o) {
      return engine.call(name, args, inherit(o));
    }

    @Override
    public CompletableFuture<Value> callAsync(String name, List<Value> args, CallOptions o) {
      return engine.callAsync(name, args, inherit(o));
    }
  }
}
