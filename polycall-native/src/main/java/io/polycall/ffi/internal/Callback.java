package io.polycall.ffi.internal;

import io.polycall.Coercion;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One {@code fn} parameter of a native function: turns the caller's {@link Value.Fn} (the name of a
 * registered function, of any bridge) into a C function pointer for the duration of one call.
 *
 * <p>The C-facing shape is fixed at bind time ({@link #descriptor}); per call only the upcall stub
 * is made, in the call's confined arena, so it is freed when the call returns. C must not keep the
 * pointer past the call.
 *
 * <p>An exception must never leave an upcall: the JVM would abort. {@link #dispatch} catches
 * everything, records the first failure in the {@link NativeFunction.Frame}, answers C with zero of
 * the return type (for a {@code qsort} comparator: "equal", which is harmless), and answers every
 * later callback of the same call with zero without calling out again. The native function then
 * fails with the recorded status once C has returned. Immutable and thread-safe.
 */
final class Callback {
  private static final MethodHandle DISPATCH;

  static {
    try {
      DISPATCH =
          MethodHandles.lookup()
              .findVirtual(
                  Callback.class,
                  "dispatch",
                  MethodType.methodType(
                      Object.class, NativeFunction.Frame.class, Value.Fn.class, Object[].class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String param;
  private final Type.Fn type;
  private final List<Boolean> pointers;
  private final List<MemoryLayout> pointees;
  private final FunctionDescriptor descriptor;
  private final MethodHandle target; // (Frame, Value.Fn, carriers...) -> carrier
  private final Object neutral;

  Callback(String param, Type.Fn type, List<Boolean> pointers, String where) {
    this.param = param;
    this.type = type;
    this.pointers = pointers;
    List<MemoryLayout> args = new ArrayList<>();
    List<MemoryLayout> targets = new ArrayList<>();
    for (int i = 0; i < type.params().size(); i++) {
      Type t = type.params().get(i);
      boolean ptr = pointers.get(i);
      if (ptr) {
        MemoryLayout pointee = CTypes.memoryLayout(t, where);
        targets.add(pointee);
        args.add(ValueLayout.ADDRESS);
      } else {
        targets.add(null);
        args.add(
            switch (t) {
              case Type.Scalar s when s.isDtype() -> CTypes.layout(s);
              case Type.Scalar s when s == Type.Scalar.STRING -> ValueLayout.ADDRESS;
              case Type.OptionalOf o when o.inner() == Type.Scalar.STRING -> ValueLayout.ADDRESS;
              case Type.Struct st -> CStruct.of(st, where).layout();
              default ->
                  throw DeclarationParser.malformed(
                      where,
                      "callback "
                          + param
                          + " has a parameter of type "
                          + t
                          + "; callbacks take numbers, bools, strings, structs or *pointers to"
                          + " them");
            });
      }
    }
    this.pointees = targets;
    Type r = type.result();
    if (r == Type.Scalar.NULL) {
      descriptor = FunctionDescriptor.ofVoid(args.toArray(new MemoryLayout[0]));
    } else if (CTypes.isNumeric(r)) {
      descriptor =
          FunctionDescriptor.of(CTypes.layout((Type.Scalar) r), args.toArray(new MemoryLayout[0]));
    } else {
      throw DeclarationParser.malformed(
          where,
          "callback " + param + " returns " + r + "; callbacks return a number, bool or null");
    }
    MethodType cType = descriptor.toMethodType();
    this.neutral = CTypes.neutral(cType.returnType());
    this.target =
        DISPATCH
            .bindTo(this)
            .asCollector(Object[].class, args.size())
            .asType(cType.insertParameterTypes(0, NativeFunction.Frame.class, Value.Fn.class));
  }

  Type.Fn type() {
    return type;
  }

  /** A C function pointer calling {@code fn}, valid until {@code arena} closes. */
  MemorySegment stub(Value.Fn fn, NativeFunction.Frame frame, Arena arena) {
    MethodHandle bound = MethodHandles.insertArguments(target, 0, frame, fn);
    return Linker.nativeLinker().upcallStub(bound, descriptor, arena);
  }

  @SuppressWarnings("unused") // reached through DISPATCH
  private Object dispatch(NativeFunction.Frame frame, Value.Fn fn, Object[] cargs) {
    if (frame.failed()) {
      return neutral;
    }
    try {
      Value[] args = new Value[cargs.length];
      for (int i = 0; i < args.length; i++) {
        args[i] = toValue(i, cargs[i]);
      }
      Value result =
          frame.context().caller().call(fn.name(), Arrays.asList(args), frame.context().options());
      if (type.result() == Type.Scalar.NULL) {
        return null;
      }
      Type.Scalar rt = (Type.Scalar) type.result();
      Value coerced = Coercion.coerce(result, rt, "result of callback " + fn.name());
      return CTypes.toCarrier(coerced, rt);
    } catch (Throwable t) {
      Status s = Status.fromThrowable(t);
      frame.fail(
          s.withDescription(
              "callback "
                  + param
                  + " ("
                  + fn.name()
                  + ") failed: "
                  + (s.description() == null ? s.code().name() : s.description())));
      return neutral;
    }
  }

  private Value toValue(int i, Object carrier) {
    Type t = type.params().get(i);
    if (pointers.get(i)) {
      MemorySegment p = (MemorySegment) carrier;
      if (p.address() == 0) {
        return Value.NULL;
      }
      MemorySegment seg = p.reinterpret(pointees.get(i).byteSize());
      return CTypes.readMemory(seg, 0, t);
    }
    return switch (t) {
      case Type.Scalar s when s.isDtype() -> CTypes.fromCarrier(carrier, s);
      case Type.Struct st -> CStruct.of(st, "").read((MemorySegment) carrier);
      default -> {
        MemorySegment p = (MemorySegment) carrier;
        yield p.address() == 0 ? Value.NULL : Value.str(p.reinterpret(Long.MAX_VALUE).getString(0));
      }
    };
  }
}
