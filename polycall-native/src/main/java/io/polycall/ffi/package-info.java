/**
 * The native bridge: C functions in shared libraries, called through {@code java.lang.foreign}.
 *
 * <h2>Native declarations</h2>
 *
 * A function is bound from one line: the canonical signature users will see, written in C parameter
 * order, with a few native-only marks. Everything after the name is what C needs; the registered
 * {@link io.polycall.Signature} is derived from it (hidden parameters dropped, outs moved to the
 * result).
 *
 * <pre>
 *   declaration := name '(' [param {',' param}] ')' ['-&gt;' type] ['[' option {',' option} ']']
 *   param       := pname ':' [mode] ['*'] type ['=' derive]
 *   mode        := in (default) | out | inout | release
 *   derive      := len(p) | bytesize(p) | itemsize(p) | integer
 * </pre>
 *
 * {@snippet :
 * libm.register("math.cos(x: f64) -> f64 [critical, pure]");
 * // registered as math.cos(x: f64) -> f64, with a direct (double)double handle
 *
 * libc.register("libc.qsort(base: inout ndarray<i32>, n: u64 = len(base),"
 *     + " size: u64 = itemsize(base), cmp: fn(*i32, *i32) -> i32)");
 * // registered as libc.qsort(base: ndarray<i32>, cmp: fn(i32, i32) -> i32) -> null
 *
 * zlib.register("zlib.crc32(crc: u64, data: bytes, len: u32 = len(data)) -> u64 [critical]");
 * // registered as zlib.crc32(crc: u64, data: bytes) -> u64
 *
 * zlib.register("zlib.compress(dest: out bytes[destLen], destLen: inout u64, source: bytes,"
 *     + " sourceLen: u64 = len(source)) -> i32 [error=nonzero]");
 * // registered as zlib.compress(destLen: u64, source: bytes) -> struct{dest: bytes, destLen: u64}
 * }
 *
 * <h3>Types, as C sees them (LP64: x86-64, AArch64 Linux)</h3>
 *
 * <pre>
 *   declared                 C parameter                    notes
 *   bool i8..i64 u8..u64     bool, intN_t, uintN_t          size_t, long, unsigned long are u64/i64
 *   f32 f64                  float, double
 *   string                   const char *                   UTF-8 copy, NUL-terminated; null -&gt; NULL
 *                                                           when declared optional&lt;string&gt;
 *   bytes                    const uint8_t *                pair with n: u64 = len(data)
 *   ndarray&lt;T&gt;               T *                            the caller's memory when native
 *   struct S{..}             struct S (by value)            C layout, padding computed
 *   *struct S{..}, *i32      const struct S *, const int *  a copy in the call's arena
 *   handle&lt;kind&gt;             void *                         a pointer C returned earlier
 *   fn(A, *B) -&gt; R           R (*)(A, const B *)            a callback, see below
 * </pre>
 *
 * Results: a number, bool, {@code string} / {@code optional<string>} ({@code const char *}, copied,
 * never freed), a struct by value, or {@code handle<kind>} ({@code optional<...>} maps NULL to
 * null). No {@code -> T} means void.
 *
 * <h3>Modes and the result</h3>
 *
 * <ul>
 *   <li>{@code out T} (a number or struct): C gets a pointer to zeroed memory; the value comes
 *       back. {@code out bytes[n]} / {@code out ndarray<T>[n]}: a buffer of capacity {@code n}, a
 *       literal or another parameter's value; when that parameter is {@code inout}, its value after
 *       the call is the length written and the buffer is cut to it (zlib's destLen).
 *   <li>{@code inout T}: a pointer to the caller's value, which comes back. {@code inout
 *       ndarray<T>}: C writes into the caller's array itself (copied back if it lives on the Java
 *       heap); it is not repeated in the result.
 *   <li>{@code release handle<k>}: after a successful call the handle is dropped; using it again is
 *       FAILED_PRECONDITION ({@code free}, {@code fclose}).
 *   <li>{@code = len(p)}, {@code bytesize(p)}, {@code itemsize(p)}, or an integer: the bridge
 *       computes the argument and the caller does not pass it.
 * </ul>
 *
 * The result is what is left: the C return value (named {@code result}, unless void or only an
 * error code under {@code error=nonzero}), then every out and inout parameter by name. None gives
 * null, one gives that value itself, more give an anonymous struct in that order.
 *
 * <h3>Options</h3>
 *
 * <ul>
 *   <li>{@code symbol=name}: the C symbol when it differs from the last part of the name.
 *   <li>{@code error=nonzero|negative|null}: a return value meaning failure. {@code status=CODE}
 *       picks the status code; otherwise errno decides it (ENOENT is NOT_FOUND, EINVAL and EDOM
 *       INVALID_ARGUMENT, ...), and without errno it is UNKNOWN. {@code message=fn}: a {@code const
 *       char *fn(void)} in the same library giving the error text.
 *   <li>{@code errno}: captures errno right after the call (before the JVM can touch it) and adds
 *       it, with its {@code strerror} text, to a failure's message.
 *   <li>{@code critical}: links with {@code Linker.Option.critical(true)}: less transition cost,
 *       and bytes and heap arrays go to C without a copy. The declaration is the promise that the
 *       function is short and never calls back into Java; it is refused with {@code fn} parameters.
 *       Blocking or long functions must not be critical: the GC waits for them.
 *   <li>{@code pure}, {@code idempotent}: tags for the router.
 * </ul>
 *
 * <h3>Callbacks</h3>
 *
 * A {@code fn} parameter takes a {@link io.polycall.Value.Fn}, the name of any registered function.
 * For the call's duration the bridge hands C an upcall stub that converts C's arguments ({@code *T}
 * ones are read through the pointer) and calls the function through the call's {@link
 * io.polycall.CallContext#caller()}. If the callback fails, C gets zero, later callbacks in the
 * same call are answered with zero without calling out, and once C returns the call fails with the
 * callback's status: an exception never unwinds through C.
 *
 * <h3>Memory and threads</h3>
 *
 * Each call allocates from its own confined arena, closed when the call returns. The downcall
 * handle is linked once, at binding. Everything here is thread-safe; a call blocks for as long as
 * the C function runs.
 */
package io.polycall.ffi;
