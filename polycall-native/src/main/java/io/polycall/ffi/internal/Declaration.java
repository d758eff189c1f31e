package io.polycall.ffi.internal;

import io.polycall.Status;
import io.polycall.Type;
import java.util.List;
import java.util.Set;

/**
 * A parsed native declaration: the C parameters in C order, each with its mode, and the options.
 * Immutable. {@link DeclarationParser} makes it; {@link NativeFunction} binds it.
 *
 * @param name the registered (canonical) name, {@code math.cos}
 * @param symbol the C symbol, by default the last segment of the name
 * @param result the C return type ({@code null} for void)
 */
record Declaration(
    String name, String symbol, List<CParam> params, Type result, Options options, String text) {

  /** How a C parameter moves data. */
  enum Mode {
    /** Passed to C; pointers point at a copy (or at the caller's native memory, for ndarrays). */
    IN,
    /** C writes through a pointer; the value comes back in the result, nothing goes in. */
    OUT,
    /** Goes in through a pointer and comes back: in place for ndarrays, in the result otherwise. */
    INOUT,
    /** A handle passed in and dropped from the handle table once the call succeeded (free). */
    RELEASE
  }

  /** A C parameter computed from another one instead of given by the caller. */
  record Derive(Kind kind, String of, long constant) {
    enum Kind {
      /** Elements of an ndarray, bytes of a {@code bytes} or UTF-8 string. */
      LEN,
      /** Bytes of an ndarray, bytes or string. */
      BYTESIZE,
      /** Bytes of one ndarray element. */
      ITEMSIZE,
      /** A literal integer. */
      CONST
    }
  }

  /**
   * One C parameter.
   *
   * @param type the canonical type; for {@code fn} the canonical callback type
   * @param pointer written {@code *T}: C takes a pointer to the value, not the value
   * @param derive non-null when the bridge computes the argument (hidden from callers)
   * @param sizeOf for an {@code out} buffer: the parameter whose value is its capacity, or null
   * @param sizeFixed for an {@code out} buffer with a literal capacity; -1 otherwise
   * @param callbackPointers for {@code fn}: which callback parameters C passes by pointer
   */
  record CParam(
      String name,
      Mode mode,
      Type type,
      boolean pointer,
      Derive derive,
      String sizeOf,
      long sizeFixed,
      List<Boolean> callbackPointers) {

    /** Whether the caller passes this parameter (it is in the canonical signature). */
    boolean visible() {
      return derive == null && mode != Mode.OUT;
    }

    /** Whether its value after the call is reported in the result. */
    boolean reported() {
      // An inout ndarray is written in place (ndarrays are the one mutable value); every other
      // out or inout, out ndarrays included, comes back in the result.
      return mode == Mode.OUT || (mode == Mode.INOUT && !(type instanceof Type.NdArray));
    }

    boolean isOutBuffer() {
      return mode == Mode.OUT
          && (type == Type.Scalar.BYTES || type instanceof Type.NdArray)
          && !pointer;
    }
  }

  /** How a failing call is recognised from its C return value. */
  enum Check {
    NONE,
    /** A nonzero return is an error code; success returns 0, so the return is not reported. */
    NONZERO,
    /** A negative return is an error; a non-negative one is the result (file descriptors). */
    NEGATIVE,
    /** A NULL pointer is an error (allocators, lookups). */
    NULL
  }

  /**
   * @param status the code for a failure; null to derive it from errno (UNKNOWN without errno)
   * @param message a {@code const char *(void)} symbol giving the last error's text, or null
   */
  record Options(
      boolean critical,
      boolean errno,
      Check check,
      Status.Code status,
      String message,
      Set<String> tags) {}
}
