/**
 * The native bridge: C (and anything with a C ABI, such as Rust's {@code extern "C"}) called
 * through {@code java.lang.foreign}, with no JNI and no JNA. See {@link io.polycall.ffi}.
 *
 * <p>Run with {@code --enable-native-access=io.polycall.ffi}: loading libraries, linking symbols
 * and creating upcall stubs are restricted operations.
 */
module io.polycall.ffi {
  requires io.polycall.api;

  exports io.polycall.ffi;
}
