/**
 * The bridge SPI: how a bridge hands functions to the core. A bridge binds each function once into
 * a {@link io.polycall.spi.BoundFunction} (its {@link io.polycall.FunctionInfo}, an {@link
 * io.polycall.spi.Invoker}, and optionally a direct method handle for typed proxies) and registers
 * it; the core checks arguments, runs the interceptor chain and maps failures, so a bridge only
 * runs the call.
 */
package io.polycall.spi;
