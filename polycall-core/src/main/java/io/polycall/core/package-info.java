/**
 * A PolyCall node in this process: {@link io.polycall.core.PolyCall} holds the registry, the
 * interceptor chain and the bridges; {@link io.polycall.core.JvmBridge} registers Java methods and
 * lambdas; {@link io.polycall.core.PolyCall#bind} makes typed proxies of any bridge's functions.
 *
 * {@snippet :
 * try (PolyCall pc = PolyCall.builder().withInterceptor(new LoggingInterceptor()).build()) {
 *   pc.jvm().register("math.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
 *   pc.call("math.add", 1L, 2L);                       // Value.i64(3)
 *   pc.call("math.ad", 1L, 2L);                        // NOT_FOUND: ... did you mean math.add?
 *   pc.call("math.add", 1L, "two");                    // INVALID_ARGUMENT: args[1] (b) is a string, expected i64
 * }
 * }
 */
package io.polycall.core;
