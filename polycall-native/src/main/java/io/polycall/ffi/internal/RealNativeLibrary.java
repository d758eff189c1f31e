package io.polycall.ffi.internal;

import io.polycall.Status;
import io.polycall.ffi.NativeLibrary;
import io.polycall.spi.BoundFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/**
 * A loaded library. Its symbols belong to a shared arena; closing the arena unloads the library,
 * and the linker keeps the arena alive while a call into it runs, so unloading cannot pull code out
 * from under a running call (close fails instead). Thread-safe.
 */
final class RealNativeLibrary implements NativeLibrary {
  private final RealNativeBridge bridge;
  private final String name;
  private final Arena arena;
  private final SymbolLookup lookup;
  private final String loadedAs;

  RealNativeLibrary(RealNativeBridge bridge, String name) {
    this.bridge = bridge;
    this.name = name;
    this.arena = Arena.ofShared();
    try {
      LibraryLocator.Opened opened = LibraryLocator.open(name, arena);
      this.lookup = opened.lookup();
      this.loadedAs = opened.loadedAs();
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String loadedAs() {
    return loadedAs;
  }

  @Override
  public boolean hasSymbol(String symbol) {
    checkOpen();
    return lookup.find(symbol).isPresent();
  }

  /**
   * @throws io.polycall.StatusException NOT_FOUND naming the symbol and the library
   */
  MemorySegment symbol(String symbol) {
    checkOpen();
    return lookup
        .find(symbol)
        .orElseThrow(
            () ->
                Status.NOT_FOUND
                    .withDescription(
                        "symbol '" + symbol + "' not found in native library " + describe())
                    .asException());
  }

  @Override
  public BoundFunction bind(String declaration) {
    checkOpen();
    return NativeFunction.bind(DeclarationParser.parse(declaration), this, bridge.handles());
  }

  @Override
  public BoundFunction register(String declaration) {
    BoundFunction f = bind(declaration);
    bridge.registerFunction(f);
    return f;
  }

  void checkOpen() {
    if (!arena.scope().isAlive()) {
      throw Status.FAILED_PRECONDITION
          .withDescription("native library " + describe() + " is closed")
          .asException();
    }
  }

  @Override
  public synchronized void close() {
    if (!arena.scope().isAlive()) {
      return;
    }
    try {
      arena.close();
    } catch (IllegalStateException e) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "native library " + describe() + " is in use by a running call; close it after")
          .withCause(e)
          .asException();
    }
  }

  private String describe() {
    return name.equals(loadedAs) ? "'" + name + "'" : "'" + name + "' (" + loadedAs + ")";
  }

  @Override
  public String toString() {
    return "NativeLibrary" + describe();
  }
}
