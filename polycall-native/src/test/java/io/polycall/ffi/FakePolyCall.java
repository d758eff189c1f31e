package io.polycall.ffi;

import io.polycall.CallContext;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.Coercion;
import io.polycall.FunctionInfo;
import io.polycall.Registry;
import io.polycall.RegistryListener;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BoundFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A registry and caller in one, just enough for the bridge's tests while the core's PolyCall is
 * being written: one version per name, Coercion on the way in and out, no interceptors. Calls go
 * through {@link Coercion} exactly as in the core, so wrong-type tests see the real errors.
 */
final class FakePolyCall implements Registry, Caller {
  private final Map<String, BoundFunction> functions = new ConcurrentHashMap<>();

  /** Registers a Java function for callbacks, as the core's jvm bridge would. */
  void registerJava(String signature, Function<Value[], Value> body) {
    Signature sig = Signature.parse(signature);
    register(BoundFunction.of(FunctionInfo.of(sig, "jvm"), (args, ctx) -> body.apply(args)));
  }

  @Override
  public void register(BoundFunction function) {
    if (functions.putIfAbsent(function.name(), function) != null) {
      throw Status.ALREADY_EXISTS.withDescription(function.name()).asException();
    }
  }

  @Override
  public boolean unregister(String nameOrRef) {
    String name =
        nameOrRef.contains("@") ? nameOrRef.substring(0, nameOrRef.indexOf('@')) : nameOrRef;
    return functions.remove(name) != null;
  }

  @Override
  public Optional<BoundFunction> lookup(String nameOrRef) {
    return Optional.ofNullable(functions.get(nameOrRef));
  }

  @Override
  public BoundFunction resolve(String nameOrRef) {
    return lookup(nameOrRef)
        .orElseThrow(
            () -> Status.NOT_FOUND.withDescription("no function " + nameOrRef).asException());
  }

  @Override
  public List<FunctionInfo> list(String glob) {
    List<FunctionInfo> out = new ArrayList<>();
    functions.values().forEach(f -> out.add(f.info()));
    return out;
  }

  @Override
  public void addListener(RegistryListener listener) {}

  @Override
  public void removeListener(RegistryListener listener) {}

  @Override
  public Value call(String name, List<Value> args, CallOptions options) {
    BoundFunction f = resolve(name);
    Value[] checked = Coercion.arguments(f.info().signature(), args);
    Caller self = this;
    CallContext ctx =
        new CallContext() {
          @Override
          public CallOptions options() {
            return options;
          }

          @Override
          public boolean isCancelled() {
            return false;
          }

          @Override
          public Caller caller() {
            return self;
          }
        };
    try {
      return Coercion.result(f.info().signature(), f.invoker().invoke(checked, ctx));
    } catch (StatusException e) {
      throw e;
    } catch (Throwable t) {
      throw Status.fromThrowable(t).asException();
    }
  }

  @Override
  public CompletableFuture<Value> callAsync(String name, List<Value> args, CallOptions options) {
    return CompletableFuture.supplyAsync(() -> call(name, args, options));
  }
}
