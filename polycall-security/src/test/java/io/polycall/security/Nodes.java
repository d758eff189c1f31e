package io.polycall.security;

import io.polycall.CallInterceptor;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.spi.BoundFunction;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/** Test nodes: real PolyCall nodes with functions that report who called them. */
final class Nodes {
  private Nodes() {}

  /**
   * Registers {@code NAME() -> string} on {@code bridge} (only the label: it runs in the JVM),
   * answering the subject of the identity it was called with.
   */
  static void whoami(PolyCall pc, String name, String bridge, String... tags) {
    FunctionInfo info =
        new FunctionInfo(Signature.parse(name + "() -> string"), 1, bridge, Set.of(tags), "");
    pc.registry()
        .register(
            BoundFunction.of(info, (args, ctx) -> Value.of(ctx.options().identity().subject())));
  }

  /**
   * The audit log's side of the contract, as the audit interceptor keeps it: a {@link CallRecord}
   * bound for every call, kept after the call whatever happened.
   */
  static final class Records implements CallInterceptor {
    final List<CallRecord> all = new CopyOnWriteArrayList<>();

    @Override
    public Value intercept(Chain chain) {
      CallRecord r = CallRecord.open();
      all.add(r);
      try {
        return ScopedValue.where(CallRecord.scope(), r).call(() -> chain.proceed(chain.call()));
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    CallRecord last() {
      return all.getLast();
    }
  }
}
