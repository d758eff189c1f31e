package io.polycall.ffi;

import io.polycall.spi.BoundFunction;

/**
 * One loaded shared library. Binding resolves the symbol, computes the C layouts and links the
 * downcall once; calls then do only marshalling and the call itself.
 *
 * {@snippet :
 * NativeLibrary zlib = bridge.load("z");
 * zlib.register("zlib.crc32(crc: u64, data: bytes, len: u32 = len(data)) -> u64 [critical]");
 * }
 *
 * <p>Thread-safe. Closing is idempotent and unregisters nothing by itself; {@link
 * NativeBridge#close} does both.
 */
public interface NativeLibrary extends AutoCloseable {

  /** The name the library was loaded by ({@code "m"}). */
  String name();

  /** What the dynamic loader was given for it ({@code "libm.so.6"} or a path). */
  String loadedAs();

  /** True if the library exports {@code symbol}. */
  boolean hasSymbol(String symbol);

  /**
   * Binds a native declaration without registering it.
   *
   * @throws io.polycall.StatusException INVALID_ARGUMENT for a malformed declaration, naming the
   *     part at fault; NOT_FOUND for a missing symbol, naming the symbol and the library;
   *     FAILED_PRECONDITION once the library is closed
   */
  BoundFunction bind(String declaration);

  /**
   * Binds a native declaration and registers it into the bridge's registry.
   *
   * @throws io.polycall.StatusException as {@link #bind}, or ALREADY_EXISTS from the registry
   */
  BoundFunction register(String declaration);

  /**
   * Unloads the library: at once, or when the last call running in it returns. Idempotent and
   * non-blocking. Functions bound from it fail with FAILED_PRECONDITION afterwards.
   */
  @Override
  void close();
}
