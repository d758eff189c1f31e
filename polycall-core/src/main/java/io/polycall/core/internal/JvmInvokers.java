package io.polycall.core.internal;

import io.polycall.CallContext;
import io.polycall.Signature;
import io.polycall.Value;
import io.polycall.spi.Invoker;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Adapts a Java method handle to the {@link Invoker} shape once, at registration:
 *
 * <pre>
 *   target        (CallContext?, double, double) double
 *   + unboxers    (CallContext?, Value,  Value)  double     filterArguments
 *   + boxer       (CallContext?, Value,  Value)  Value      filterReturnValue
 *   + spreader    (CallContext?, Value[])        Value      asSpreader
 *   final         (Value[], CallContext)         Value      drop/permute
 * </pre>
 *
 * A call then is one {@code invokeExact}; there is no reflection and no per-call lookup.
 */
public final class JvmInvokers {
  private JvmInvokers() {}

  private static final MethodType INVOKER_TYPE =
      MethodType.methodType(Value.class, Value[].class, CallContext.class);

  /**
   * @param target the method, receiver already bound; it may take a {@link CallContext} first
   * @param signature the canonical signature (without the context parameter)
   */
  public static Invoker adapt(MethodHandle target, Signature signature) {
    boolean takesContext =
        target.type().parameterCount() > 0 && target.type().parameterType(0) == CallContext.class;
    int offset = takesContext ? 1 : 0;
    int n = signature.arity();
    if (target.type().parameterCount() - offset != n) {
      throw new IllegalArgumentException(
          "signature "
              + signature
              + " has "
              + n
              + " parameters but the Java method takes "
              + (target.type().parameterCount() - offset));
    }
    MethodHandle mh = target;
    for (int i = 0; i < n; i++) {
      Class<?> javaType = target.type().parameterType(i + offset);
      mh =
          MethodHandles.filterArguments(
              mh, i + offset, JavaTypes.fromValue(javaType, signature.params().get(i).type()));
    }
    mh =
        MethodHandles.filterReturnValue(
            mh, JavaTypes.toValue(target.type().returnType(), signature.result()));
    mh = mh.asSpreader(Value[].class, n);
    if (takesContext) {
      // (CallContext, Value[]) -> (Value[], CallContext)
      mh = MethodHandles.permuteArguments(mh, INVOKER_TYPE, 1, 0);
    } else {
      mh = MethodHandles.dropArguments(mh, 1, CallContext.class);
    }
    return new HandleInvoker(mh.asType(INVOKER_TYPE));
  }

  /** The invoker: a record so the handle is a final field the JIT can trust. */
  record HandleInvoker(MethodHandle handle) implements Invoker {
    @Override
    public Value invoke(Value[] args, CallContext context) throws Throwable {
      return (Value) handle.invokeExact(args, context);
    }
  }
}
