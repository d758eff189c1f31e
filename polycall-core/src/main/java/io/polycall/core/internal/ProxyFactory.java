package io.polycall.core.internal;

import static java.lang.constant.ConstantDescs.CD_MethodHandle;
import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_void;

import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.RegistryListener;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.spi.BoundFunction;
import java.lang.classfile.ClassFile;
import java.lang.classfile.TypeKind;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Makes typed proxies: an implementation of a Java interface whose methods call registered
 * functions. Each proxy is a hidden class generated with {@code java.lang.classfile}; method {@code
 * i} loads call site {@code i} from the class data as a constant and calls it with {@code
 * invokeExact}, so the JIT sees straight through to the target:
 *
 * <pre>
 *   double cos(double x)  ==  ldc condy classDataAt(i) : MethodHandle   // a MutableCallSite's invoker
 *                             dload_1
 *                             invokevirtual MethodHandle.invokeExact(D)D
 *                             dreturn
 * </pre>
 *
 * A call site targets the function's direct handle when the function has one with exactly the
 * method's primitive types and no interceptor needs to see the call; otherwise the generic path
 * (box, call through the engine, unbox). When the function is registered, replaced or removed, the
 * site is relinked, so a proxy made before registration starts working after it.
 */
public final class ProxyFactory {
  private static final AtomicLong COUNTER = new AtomicLong();
  private static final MethodHandle GENERIC;
  private static final MethodHandle RETHROW;

  static {
    try {
      GENERIC =
          MethodHandles.lookup()
              .findStatic(
                  ProxyFactory.class,
                  "invokeGeneric",
                  MethodType.methodType(Object.class, Site.class, Object[].class));
      RETHROW =
          MethodHandles.lookup()
              .findStatic(
                  ProxyFactory.class,
                  "rethrow",
                  MethodType.methodType(Object.class, FunctionInfo.class, Throwable.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private ProxyFactory() {}

  /** One proxied method: the function it calls and the call site that runs it. */
  static final class Site {
    final String function;
    final Method method;
    final MutableCallSite callSite;
    final CallEngine engine;
    final MethodHandle generic;

    Site(String function, Method method, CallEngine engine) {
      this.function = function;
      this.method = method;
      this.engine = engine;
      MethodType mt = MethodType.methodType(method.getReturnType(), method.getParameterTypes());
      this.callSite = new MutableCallSite(mt);
      this.generic =
          GENERIC.bindTo(this).asCollector(Object[].class, mt.parameterCount()).asType(mt);
    }

    void relink() {
      callSite.setTarget(target());
    }

    private MethodHandle target() {
      if (engine.hasInterceptors()) {
        return generic;
      }
      BoundFunction f = engine.registry().find(function);
      if (f == null || f.direct() == null) {
        return generic;
      }
      MethodType want = callSite.type();
      if (!f.direct().type().equals(want) || !allPrimitive(want)) {
        return generic;
      }
      // The direct path skips argument checks, so only take it where Java's own types already
      // guarantee what the signature asks: primitives whose canonical type is the declared one.
      List<io.polycall.Signature.Param> params = f.info().signature().params();
      for (int i = 0; i < params.size(); i++) {
        if (!JavaTypes.canonical(want.parameterType(i)).equals(params.get(i).type())) {
          return generic;
        }
      }
      Type r = f.info().signature().result();
      if (!JavaTypes.canonical(want.returnType()).equals(r)) {
        return generic;
      }
      // Failures leave the proxy as StatusExceptions, exactly as on the generic path; the
      // handler costs nothing until something is thrown.
      MethodHandle handler =
          MethodHandles.dropArguments(RETHROW.bindTo(f.info()), 1, want.parameterArray())
              .asType(want.insertParameterTypes(0, Throwable.class));
      return MethodHandles.catchException(f.direct(), Throwable.class, handler);
    }

    private static boolean allPrimitive(MethodType mt) {
      for (Class<?> p : mt.parameterArray()) {
        if (!p.isPrimitive()) {
          return false;
        }
      }
      return mt.returnType().isPrimitive();
    }
  }

  private static Object rethrow(FunctionInfo info, Throwable t) {
    throw CallEngine.failureOf(t, info);
  }

  /** The boxed path: any function, any bridge, through the interceptor chain. */
  private static Object invokeGeneric(Site site, Object[] args) {
    Value[] values = new Value[args.length];
    for (int i = 0; i < args.length; i++) {
      values[i] = Value.of(args[i]);
    }
    Value result = site.engine.call(site.function, Arrays.asList(values), CallOptions.DEFAULT);
    Class<?> rt = site.method.getReturnType();
    if (rt == void.class) {
      return null;
    }
    if (rt.isPrimitive()) {
      if (result instanceof Value.Null) {
        throw Status.INTERNAL
            .withDescription(
                site.function + " returned null for primitive " + rt + " of " + site.method)
            .asException();
      }
      Object o = result.toJava();
      if (o instanceof Number n) {
        return switch (rt.getName()) {
          case "int" -> n.intValue();
          case "long" -> n.longValue();
          case "short" -> n.shortValue();
          case "byte" -> n.byteValue();
          case "double" -> n.doubleValue();
          case "float" -> n.floatValue();
          default -> o;
        };
      }
      return o;
    }
    return JavaTypes.toJavaOf(result, rt);
  }

  /**
   * Implements {@code iface}.
   *
   * @param nameOf the function a method calls
   */
  public static <T> T create(Class<T> iface, CallEngine engine, Function<Method, String> nameOf) {
    if (!iface.isInterface()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(iface.getName() + " is not an interface; bind() implements interfaces")
          .asException();
    }
    List<Site> sites = new ArrayList<>();
    for (Method m : iface.getMethods()) {
      if (Modifier.isAbstract(m.getModifiers())) {
        sites.add(new Site(nameOf.apply(m), m, engine));
      }
    }
    sites.forEach(Site::relink);
    engine
        .registry()
        .addListener(
            new RegistryListener() {
              @Override
              public void onRegistered(FunctionInfo function) {
                relink(function);
              }

              @Override
              public void onUnregistered(FunctionInfo function) {
                relink(function);
              }

              private void relink(FunctionInfo function) {
                boolean any = false;
                for (Site s : sites) {
                  if (s.function.equals(function.name())
                      || s.function.startsWith(function.name() + "@")) {
                    s.relink();
                    any = true;
                  }
                }
                if (any) {
                  MutableCallSite.syncAll(
                      sites.stream().map(s -> s.callSite).toArray(MutableCallSite[]::new));
                }
              }
            });
    if (!Modifier.isPublic(iface.getModifiers())) {
      throw Status.INVALID_ARGUMENT
          .withDescription(iface.getName() + " must be public to be bound")
          .asException();
    }
    return define(iface, sites);
  }

  private static <T> T define(Class<T> iface, List<Site> sites) {
    MethodHandles.Lookup lookup = MethodHandles.lookup();
    // The hidden class lives in this module and must be able to see the user's interface.
    ProxyFactory.class.getModule().addReads(iface.getModule());
    ClassDesc self =
        ClassDesc.of(
            ProxyFactory.class.getPackageName()
                + ".Proxy$"
                + iface.getSimpleName()
                + "$"
                + COUNTER.incrementAndGet());
    ClassDesc ifaceDesc = iface.describeConstable().orElseThrow();
    byte[] bytes =
        ClassFile.of()
            .build(
                self,
                cb -> {
                  cb.withFlags(
                      ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
                  cb.withInterfaceSymbols(ifaceDesc);
                  cb.withMethodBody(
                      ConstantDescs.INIT_NAME,
                      MethodTypeDesc.of(CD_void),
                      ClassFile.ACC_PUBLIC,
                      code ->
                          code.aload(0)
                              .invokespecial(
                                  CD_Object, ConstantDescs.INIT_NAME, MethodTypeDesc.of(CD_void))
                              .return_());
                  cb.withMethodBody(
                      "toString",
                      MethodTypeDesc.of(ConstantDescs.CD_String),
                      ClassFile.ACC_PUBLIC,
                      code -> code.ldc("PolyCall proxy of " + iface.getName()).areturn());
                  for (int i = 0; i < sites.size(); i++) {
                    Method m = sites.get(i).method;
                    MethodTypeDesc desc =
                        MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                            .describeConstable()
                            .orElseThrow();
                    DynamicConstantDesc<MethodHandle> handle =
                        DynamicConstantDesc.ofNamed(
                            ConstantDescs.BSM_CLASS_DATA_AT,
                            ConstantDescs.DEFAULT_NAME,
                            CD_MethodHandle,
                            i);
                    cb.withMethodBody(
                        m.getName(),
                        desc,
                        ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL,
                        code -> {
                          code.ldc(handle);
                          int slot = 1;
                          for (Class<?> p : m.getParameterTypes()) {
                            TypeKind k = TypeKind.from(p);
                            code.loadLocal(k, slot);
                            slot += k.slotSize();
                          }
                          code.invokevirtual(CD_MethodHandle, "invokeExact", desc);
                          code.return_(TypeKind.from(m.getReturnType()));
                        });
                  }
                });
    List<MethodHandle> invokers = sites.stream().map(s -> s.callSite.dynamicInvoker()).toList();
    try {
      MethodHandles.Lookup hidden = lookup.defineHiddenClassWithClassData(bytes, invokers, true);
      return iface.cast(
          hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke());
    } catch (Throwable e) {
      throw Status.INTERNAL
          .withDescription("could not generate a proxy for " + iface.getName() + ": " + e)
          .withCause(e)
          .asException();
    }
  }
}
