/**
 * The PolyCall API: what every caller, bridge and SDK agrees on.
 *
 * <ul>
 *   <li>{@link io.polycall.Type} and {@link io.polycall.Value}: the canonical types, as sealed
 *       records, and values of them; {@link io.polycall.Signature} reads and prints {@code
 *       math.cos(x: f64) -> f64}.
 *   <li>{@link io.polycall.Coercion}: exact conversion of values to declared types, with the path
 *       of the bad element in every error.
 *   <li>{@link io.polycall.Status} and {@link io.polycall.StatusException}: one error model with
 *       gRPC's codes and a cross-language stack.
 *   <li>{@link io.polycall.Caller}, {@link io.polycall.CallOptions}, {@link
 *       io.polycall.CallInterceptor}, {@link io.polycall.Registry}: the call path's contracts.
 * </ul>
 *
 * {@snippet :
 * Signature s = Signature.parse("stats.mean(xs: ndarray<f64>) -> f64");
 * Value[] args = Coercion.arguments(s, List.of(Value.list(Value.i32(1), Value.f64(2.5))));
 * // args[0] is an ndarray<f64>[2]: the list was converted exactly, element by element, once
 * }
 */
package io.polycall;
