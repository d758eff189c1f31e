package io.polycall.ffi;

import io.polycall.Registry;
import io.polycall.ffi.internal.RealNativeBridge;
import io.polycall.spi.Bridge;

/**
 * The bridge to C: loads shared libraries and registers their symbols, each described by a native
 * declaration (see the {@linkplain io.polycall.ffi package documentation} for its syntax), as
 * functions of bridge {@code native}.
 *
 * {@snippet :
 * NativeBridge bridge = NativeBridge.create(polyCall.registry());
 * NativeLibrary libm = bridge.load("m");
 * libm.register("math.cos(x: f64) -> f64 [critical, pure]");
 * Value one = polyCall.call("math.cos", 0.0); // 1.0
 * }
 *
 * <p>Thread-safe: libraries may be loaded and functions registered and called from any thread.
 * Loading and binding block briefly (dlopen, linking); calls block for as long as the C function
 * runs. Callbacks passed to C reach registered functions through the calling {@link
 * io.polycall.CallContext}'s {@link io.polycall.Caller}, so they pass the interceptor chain like
 * any other call.
 */
public interface NativeBridge extends Bridge {

  /** The bridge name that {@code describe} shows for functions registered here. */
  String NAME = "native";

  /** A bridge that registers functions into {@code registry}. */
  static NativeBridge create(Registry registry) {
    return new RealNativeBridge(registry);
  }

  @Override
  default String name() {
    return NAME;
  }

  /**
   * Loads a shared library, or returns the one already loaded under the same name.
   *
   * <p>A bare name ({@code "m"}, {@code "z"}, {@code "c"}) is tried as {@code libNAME.so} and then
   * as the versioned {@code libNAME.so.N} found in the system library directories, because on
   * Debian-like systems {@code libc.so} and {@code libm.so} are linker scripts, not libraries. A
   * file name with {@code .so} ({@code "libz.so.1"}) goes to the dynamic loader's search as is; a
   * name with a slash is a path.
   *
   * @throws io.polycall.StatusException NOT_FOUND when no file of that name exists in the places
   *     searched: as for a missing file, the caller asked for an entity that is not there, and
   *     retrying will not help until it is installed. FAILED_PRECONDITION when a file was found but
   *     the dynamic loader refused it (wrong architecture, missing dependency, a linker script):
   *     the thing exists, the system is not in a state to use it. FAILED_PRECONDITION also after
   *     {@link #close}.
   */
  NativeLibrary load(String nameOrPath);

  /**
   * Loads a shared library that stays loaded for the life of the process, as {@code
   * System.loadLibrary} does. Its downcalls skip the per-call check that keeps an unloadable
   * library alive during a call (an atomic acquire and release, about 10 ns), which matters for
   * short functions such as libm's. {@link NativeLibrary#close} then stops new calls but does not
   * unload. Use it for system libraries (libc, libm, libz) and hot paths; use {@link #load} for
   * libraries that must be unloadable.
   *
   * @throws io.polycall.StatusException as {@link #load}; FAILED_PRECONDITION if the same name was
   *     already loaded with {@link #load}
   */
  NativeLibrary loadResident(String nameOrPath);

  /**
   * Unregisters every function this bridge registered and unloads its libraries. Idempotent and
   * non-blocking: new calls fail with FAILED_PRECONDITION at once, while a call still running in C
   * (one abandoned at its deadline, say) keeps its library loaded until it returns, so code is
   * never unloaded under a running call.
   */
  @Override
  void close();
}
