package io.polycall;

/**
 * A link of the one chain every call passes through: authentication, authorization, limits, audit,
 * metrics and caching are each one interceptor (OkHttp's model).
 *
 * <p>An interceptor either returns a result without calling {@link Chain#proceed} (a cache hit, a
 * denial by throwing {@link StatusException}), or calls it exactly once. Implementations must be
 * thread-safe: one instance serves every call.
 *
 * {@snippet :
 * CallInterceptor timing = chain -> {
 *   long t0 = System.nanoTime();
 *   try {
 *     return chain.proceed(chain.call());
 *   } finally {
 *     log(chain.call().function().name(), System.nanoTime() - t0);
 *   }
 * };
 * }
 */
@FunctionalInterface
public interface CallInterceptor {

  Value intercept(Chain chain);

  /** The rest of the chain. Not thread-safe: it belongs to one call. */
  interface Chain {
    Call call();

    CallContext context();

    /** Passes the (possibly changed) call to the next interceptor, or to the bridge. */
    Value proceed(Call call);
  }
}
