package io.polycall.ffi.internal;

import io.polycall.Status;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * errno, captured by the linker right after the C call returns (the JVM may overwrite the real one
 * before Java code could read it), its text from libc's {@code strerror}, and the status code it
 * stands for. The numbers are Linux's. Thread-safe.
 */
final class Errno {
  static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
  static final StructLayout LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle STRERROR =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker().defaultLookup().find("strerror").orElseThrow(),
              FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

  private Errno() {}

  static int read(MemorySegment captured) {
    return (int) ERRNO.get(captured, 0L);
  }

  /** {@code "errno 2 (No such file or directory)"}. */
  static String describe(int errno) {
    String text;
    try {
      MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
      text = s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      text = "?";
    }
    return "errno " + errno + " (" + text + ")";
  }

  /** The status code closest to an errno value; UNKNOWN when none is. */
  static Status.Code code(int errno) {
    return switch (errno) {
      case 1, 13 -> Status.Code.PERMISSION_DENIED; // EPERM, EACCES
      case 2, 3, 6, 19 -> Status.Code.NOT_FOUND; // ENOENT, ESRCH, ENXIO, ENODEV
      case 4, 125 -> Status.Code.CANCELLED; // EINTR, ECANCELED
      case 11, 16, 111 -> Status.Code.UNAVAILABLE; // EAGAIN, EBUSY, ECONNREFUSED
      case 12, 24, 28, 23 -> Status.Code.RESOURCE_EXHAUSTED; // ENOMEM, EMFILE, ENOSPC, ENFILE
      case 17 -> Status.Code.ALREADY_EXISTS; // EEXIST
      case 22, 33, 9, 14, 20, 21, 36 -> Status.Code.INVALID_ARGUMENT; // EINVAL, EDOM, EBADF, ...
      case 34, 75 -> Status.Code.OUT_OF_RANGE; // ERANGE, EOVERFLOW
      case 38, 95 -> Status.Code.UNIMPLEMENTED; // ENOSYS, EOPNOTSUPP
      case 110 -> Status.Code.DEADLINE_EXCEEDED; // ETIMEDOUT
      case 5 -> Status.Code.DATA_LOSS; // EIO
      default -> Status.Code.UNKNOWN;
    };
  }
}
