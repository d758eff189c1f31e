package io.polycall.core;

import io.polycall.CallContext;
import io.polycall.FunctionInfo;
import io.polycall.Registry;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.core.internal.JavaTypes;
import io.polycall.core.internal.JvmInvokers;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Bridge;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Registers Java code as PolyCall functions: annotated methods of an object, annotated static
 * methods of a class, and lambdas with a declared signature. Each becomes a method handle bound
 * once at registration; calls never use reflection.
 *
 * {@snippet :
 * PolyCall pc = PolyCall.create();
 * pc.jvm().register(new MathFunctions());                                   // @PolyFunction methods
 * pc.jvm().register("math.hypot(x: f64, y: f64) -> f64", (DoubleBinaryOperator) Math::hypot);
 * double h = pc.call("math.hypot", 3.0, 4.0).toJava();                      // 5.0
 * }
 *
 * <p>Thread-safe. Registration takes the registry's per-name lock; calls take none.
 */
public final class JvmBridge implements Bridge {
  public static final String NAME = "jvm";

  private final Registry registry;

  JvmBridge(Registry registry) {
    this.registry = registry;
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Registers every {@link PolyFunction} method of {@code target}: its instance methods, or the
   * static ones when {@code target} is a {@link Class}.
   *
   * @return what was registered
   * @throws StatusException INVALID_ARGUMENT when nothing is annotated or a type has no mapping;
   *     ALREADY_EXISTS on a duplicate (functions registered before it stay registered)
   */
  public List<FunctionInfo> register(Object target) {
    boolean statics = target instanceof Class<?>;
    Class<?> type = statics ? (Class<?>) target : target.getClass();
    PolyNamespace ns = type.getAnnotation(PolyNamespace.class);
    List<FunctionInfo> out = new ArrayList<>();
    for (Method m : allMethods(type)) {
      PolyFunction pf = m.getAnnotation(PolyFunction.class);
      if (pf == null || Modifier.isStatic(m.getModifiers()) != statics) {
        continue;
      }
      String simple = pf.name().isEmpty() ? m.getName() : pf.name();
      String name =
          ns == null || !pf.name().isEmpty() && pf.name().contains(".")
              ? simple
              : ns.value() + "." + simple;
      Signature sig =
          pf.signature().isEmpty() ? signatureOf(name, m) : Signature.parse(name + pf.signature());
      MethodHandle mh = unreflect(m);
      if (!statics) {
        mh = mh.bindTo(target);
      }
      FunctionInfo info = new FunctionInfo(sig, pf.version(), NAME, Set.of(pf.tags()), pf.doc());
      out.add(registerHandle(info, mh));
    }
    if (out.isEmpty()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "no @PolyFunction "
                  + (statics ? "static" : "instance")
                  + " methods in "
                  + type.getName())
          .asException();
    }
    return out;
  }

  /**
   * Registers a lambda or any functional-interface instance under a declared signature, such as
   * {@code register("math.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum)}.
   */
  public FunctionInfo register(String signature, Object function) {
    return register(FunctionInfo.of(Signature.parse(signature), NAME), function);
  }

  /** As {@link #register(String, Object)}, with version, tags and doc. */
  public FunctionInfo register(FunctionInfo info, Object function) {
    Method sam = singleAbstractMethod(function.getClass());
    MethodHandle mh = unreflect(sam).bindTo(function);
    return registerHandle(
        info.bridge().equals(NAME)
            ? info
            : new FunctionInfo(info.signature(), info.version(), NAME, info.tags(), info.doc()),
        mh);
  }

  /**
   * Registers a method handle whose parameters (after an optional leading {@link CallContext})
   * match the signature's.
   */
  public FunctionInfo registerHandle(FunctionInfo info, MethodHandle handle) {
    MethodHandle direct =
        handle.type().parameterCount() > 0 && handle.type().parameterType(0) == CallContext.class
            ? null
            : handle;
    try {
      registry.register(
          new BoundFunction(info, JvmInvokers.adapt(handle, info.signature()), direct));
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription("cannot register " + info.signature() + ": " + e.getMessage())
          .asException();
    }
    return info;
  }

  /** The canonical signature of a Java method, parameter names from {@code -parameters}. */
  static Signature signatureOf(String name, Method m) {
    List<Signature.Param> params = new ArrayList<>();
    java.lang.reflect.Type[] generic = m.getGenericParameterTypes();
    Parameter[] ps = m.getParameters();
    for (int i = 0; i < ps.length; i++) {
      if (i == 0 && ps[i].getType() == CallContext.class) {
        continue;
      }
      Type t = JavaTypes.canonical(generic[i]);
      params.add(new Signature.Param(ps[i].getName(), t));
    }
    return new Signature(name, params, JavaTypes.canonical(m.getGenericReturnType()));
  }

  private static List<Method> allMethods(Class<?> type) {
    List<Method> out = new ArrayList<>();
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        if (!m.isSynthetic() && !m.isBridge()) {
          out.add(m);
        }
      }
    }
    return out;
  }

  private static MethodHandle unreflect(Method m) {
    try {
      if (!Modifier.isPublic(m.getModifiers())
          || !Modifier.isPublic(m.getDeclaringClass().getModifiers())) {
        m.setAccessible(true);
      }
      return MethodHandles.lookup().unreflect(m);
    } catch (IllegalAccessException | RuntimeException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "cannot access "
                  + m
                  + " ("
                  + e.getMessage()
                  + "); make the method and its class public, or open the package to io.polycall.core")
          .asException();
    }
  }

  static Method singleAbstractMethod(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      for (Class<?> i : c.getInterfaces()) {
        Method found = samOf(i);
        if (found != null) {
          return found;
        }
      }
    }
    throw Status.INVALID_ARGUMENT
        .withDescription(
            type.getName()
                + " implements no functional interface; pass a lambda cast to one, such as"
                + " (DoubleUnaryOperator) Math::cos")
        .asException();
  }

  private static Method samOf(Class<?> i) {
    Method sam = null;
    for (Method m : i.getMethods()) {
      if (Modifier.isAbstract(m.getModifiers()) && !isObjectMethod(m)) {
        if (sam != null) {
          return null;
        }
        sam = m;
      }
    }
    return sam;
  }

  private static boolean isObjectMethod(Method m) {
    try {
      Object.class.getMethod(m.getName(), m.getParameterTypes());
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
