package io.polycall.ffi.internal;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.ffi.NativeLibrary;
import io.polycall.spi.BoundFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/**
 * A loaded library. Its symbols belong to a shared arena; closing the arena unloads the library,
 * and the linker keeps the arena alive while a call into it runs, so unloading cannot pull code out
 * from under a running call (close fails instead). That keeping-alive is an atomic acquire and
 * release on every downcall (about 10 ns). A resident library lives in the global arena instead:
 * never unloaded, and its downcalls skip that cost; close then only stops new calls. Thread-safe.
 */
final class RealNativeLibrary implements NativeLibrary {
  private final RealNativeBridge bridge;
  private final String name;
  private final Arena arena;
  private final SymbolLookup lookup;
  private final String loadedAs;
  private final boolean resident;
  private volatile boolean closing;

  RealNativeLibrary(RealNativeBridge bridge, String name, boolean resident) {
    this.bridge = bridge;
    this.name = name;
    this.resident = resident;
    this.arena = resident ? Arena.global() : Arena.ofShared();
    try {
      LibraryLocator.Opened opened = LibraryLocator.open(name, arena);
      this.lookup = opened.lookup();
      this.loadedAs = opened.loadedAs();
    } catch (RuntimeException e) {
      if (!resident) {
        arena.close();
      }
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
    if (closing || !arena.scope().isAlive()) {
      throw closed();
    }
  }

  StatusException closed() {
    return Status.FAILED_PRECONDITION
        .withDescription("native library " + describe() + " is closed")
        .asException();
  }

  /** Called after every call: the last call to return from a closing library unloads it. */
  void afterCall() {
    if (closing) {
      tryUnload();
    }
  }

  @Override
  public void close() {
    closing = true;
    tryUnload();
  }

  boolean isUnloaded() {
    return !arena.scope().isAlive();
  }

  boolean isResident() {
    return resident;
  }

  private synchronized void tryUnload() {
    if (resident || !arena.scope().isAlive()) {
      return;
    }
    try {
      arena.close();
    } catch (IllegalStateException busy) {
      // A running call holds the arena; afterCall retries when it returns.
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
