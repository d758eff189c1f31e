package io.polycall.ffi.internal;

import io.polycall.Registry;
import io.polycall.Status;
import io.polycall.ffi.NativeBridge;
import io.polycall.ffi.NativeLibrary;
import io.polycall.spi.BoundFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/** The production {@link NativeBridge}. Thread-safe. */
public final class RealNativeBridge implements NativeBridge {
  private final Registry registry;
  private final HandleTable handles = new HandleTable();
  private final Map<String, RealNativeLibrary> libraries = new ConcurrentHashMap<>();
  private final List<String> registered = new ArrayList<>();
  private volatile boolean closed;

  public RealNativeBridge(Registry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public NativeLibrary load(String nameOrPath) {
    checkOpen();
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    // computeIfAbsent does not cache a failure: a library installed later loads on retry.
    return libraries.computeIfAbsent(nameOrPath, n -> new RealNativeLibrary(this, n, false));
  }

  @Override
  public NativeLibrary loadResident(String nameOrPath) {
    checkOpen();
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    RealNativeLibrary lib =
        libraries.computeIfAbsent(nameOrPath, n -> new RealNativeLibrary(this, n, true));
    if (!lib.isResident()) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "native library '"
                  + nameOrPath
                  + "' is already loaded as unloadable; load it resident before any other use")
          .asException();
    }
    return lib;
  }

  HandleTable handles() {
    return handles;
  }

  void registerFunction(BoundFunction f) {
    checkOpen();
    registry.register(f);
    synchronized (registered) {
      registered.add(f.info().qualifiedName());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw Status.FAILED_PRECONDITION.withDescription("native bridge is closed").asException();
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (registered) {
      for (String name : registered) {
        registry.unregister(name);
      }
      registered.clear();
    }
    for (RealNativeLibrary lib : libraries.values()) {
      lib.close();
    }
  }
}
