package io.polycall.grpc.internal;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** Future helpers. */
public final class Futures {
  private Futures() {}

  /**
   * {@code source} mapped by {@code fn}, where cancelling the result also cancels {@code source} (a
   * plain {@code thenApply} stage would not, and the call would keep running).
   */
  public static <T, R> CompletableFuture<R> map(
      CompletableFuture<T> source, Function<? super T, ? extends R> fn) {
    CompletableFuture<R> out =
        new CompletableFuture<>() {
          @Override
          public boolean cancel(boolean mayInterruptIfRunning) {
            source.cancel(mayInterruptIfRunning);
            return super.cancel(mayInterruptIfRunning);
          }
        };
    source.whenComplete(
        (v, t) -> {
          if (t != null) {
            out.completeExceptionally(t);
            return;
          }
          try {
            out.complete(fn.apply(v));
          } catch (Throwable e) {
            out.completeExceptionally(e);
          }
        });
    return out;
  }
}
