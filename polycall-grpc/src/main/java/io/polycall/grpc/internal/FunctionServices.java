package io.polycall.grpc.internal;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.util.MutableHandlerRegistry;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.FunctionInfo;
import io.polycall.Registry;
import io.polycall.RegistryListener;
import io.polycall.Signature;
import io.polycall.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Serves every registered function as a gRPC method of its own: one service per namespace ({@code
 * math.cos} -> {@code polycall.fn.math/Cos}), rebuilt whenever a function of that namespace comes
 * or goes, in a {@link MutableHandlerRegistry} that the server falls back to and that server
 * reflection reads. The naming rules are in WIRE.md, "gRPC"; the message mapping in {@link
 * FnSchema}.
 *
 * <p>Thread-safe: registry events arrive on the threads that register, and rebuilds are serialized.
 */
public final class FunctionServices implements RegistryListener, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FunctionServices.class.getName());

  /** The package every per-function service lives under. */
  public static final String PACKAGE = "polycall.fn";

  /** The service name of functions without a namespace. */
  public static final String TOP_LEVEL_SERVICE = "_";

  private final Registry registry;
  private final Caller caller;
  private final MutableHandlerRegistry handlers;

  /** Served services by namespace; guarded by this. */
  private final Map<String, ServerServiceDefinition> served = new HashMap<>();

  private boolean closed;

  /** Namespaces whose service must be rebuilt; guards itself and {@link #rebuilding}. */
  private final java.util.Set<String> dirty = new java.util.LinkedHashSet<>();

  private boolean rebuilding;

  private final HealthStatusManager health;

  /**
   * @param health told SERVING for each service as it appears, cleared when it goes; may be null
   */
  public FunctionServices(
      Registry registry,
      Caller caller,
      MutableHandlerRegistry handlers,
      HealthStatusManager health) {
    this.registry = registry;
    this.caller = caller;
    this.handlers = handlers;
    this.health = health;
  }

  /** Serves what is registered now and follows the registry from here on. */
  public synchronized void start() {
    registry.addListener(this);
    Map<String, Boolean> namespaces = new TreeMap<>();
    for (FunctionInfo f : registry.list("**")) {
      namespaces.put(f.signature().namespace(), true);
    }
    namespaces.keySet().forEach(this::rebuild);
  }

  @Override
  public void onRegistered(FunctionInfo function) {
    refresh(function.signature().namespace());
  }

  @Override
  public void onUnregistered(FunctionInfo function) {
    refresh(function.signature().namespace());
  }

  /**
   * Marks a namespace for rebuilding and makes sure a rebuilder runs. Registry events arrive on the
   * registering thread, which must not wait; and a bridge that registers a thousand functions at
   * once (a remote node's) would otherwise rebuild the namespace's service a thousand times. Events
   * that arrive while a rebuild runs are coalesced into the next one.
   */
  private void refresh(String namespace) {
    synchronized (dirty) {
      dirty.add(namespace);
      if (rebuilding) {
        return;
      }
      rebuilding = true;
    }
    Thread.ofVirtual().name("polycall-grpc-services").start(this::drain);
  }

  private void drain() {
    while (true) {
      List<String> batch;
      synchronized (dirty) {
        if (dirty.isEmpty()) {
          rebuilding = false;
          dirty.notifyAll();
          return;
        }
        batch = List.copyOf(dirty);
        dirty.clear();
      }
      synchronized (this) {
        if (!closed) {
          batch.forEach(this::rebuild);
        }
      }
    }
  }

  /**
   * Waits until every registry change so far is served (or {@code timeoutMillis} passed); for tests
   * and for callers that register functions and then announce the node.
   */
  public boolean awaitServed(long timeoutMillis) throws InterruptedException {
    long end = System.currentTimeMillis() + timeoutMillis;
    synchronized (dirty) {
      while (rebuilding || !dirty.isEmpty()) {
        long left = end - System.currentTimeMillis();
        if (left <= 0) {
          return false;
        }
        dirty.wait(left);
      }
    }
    return true;
  }

  /** The full service name of a namespace: {@code polycall.fn.math}, {@code polycall.fn._}. */
  public static String serviceName(String namespace) {
    return PACKAGE + "." + (namespace.isEmpty() ? TOP_LEVEL_SERVICE : namespace);
  }

  private void rebuild(String namespace) {
    ServerServiceDefinition old = served.remove(namespace);
    ServerServiceDefinition def = null;
    try {
      def = build(namespace);
    } catch (RuntimeException | Descriptors.DescriptorValidationException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "cannot serve namespace ''{0}'' as gRPC service {1}: {2}",
          namespace,
          serviceName(namespace),
          e.toString());
    }
    if (def == null) {
      if (old != null) {
        handlers.removeService(old);
        if (health != null) {
          health.clearStatus(serviceName(namespace));
        }
      }
      return;
    }
    served.put(namespace, def);
    handlers.addService(def); // replaces the service of the same name
    if (health != null) {
      health.setStatus(serviceName(namespace), ServingStatus.SERVING);
    }
  }

  /** The service of one namespace, or null when it has no servable function. */
  private ServerServiceDefinition build(String namespace)
      throws Descriptors.DescriptorValidationException {
    String glob = namespace.isEmpty() ? "*" : namespace + ".*";
    // name -> versions, sorted by name then version (the registry's order).
    Map<String, List<FunctionInfo>> byName = new LinkedHashMap<>();
    for (FunctionInfo f : registry.list(glob)) {
      if (!f.signature().namespace().equals(namespace)) {
        continue;
      }
      byName.computeIfAbsent(f.name(), k -> new ArrayList<>()).add(f);
    }
    String fullService = serviceName(namespace);
    int dot = fullService.lastIndexOf('.');
    String pkg = fullService.substring(0, dot);
    String service = fullService.substring(dot + 1);
    for (String seg : fullService.split("\\.")) {
      if (!FnSchema.isIdentifier(seg)) {
        LOG.log(
            System.Logger.Level.DEBUG,
            "namespace ''{0}'' is not a protobuf name; its functions are served only through"
                + " polycall.v1.PolyCall",
            namespace);
        return null;
      }
    }

    // Method names: UpperCamel of the simple name; names that clash keep their exact spelling.
    Map<String, List<String>> byMethod = new HashMap<>();
    for (String name : byName.keySet()) {
      String simple = name.substring(name.lastIndexOf('.') + 1);
      byMethod.computeIfAbsent(FnSchema.methodName(simple), k -> new ArrayList<>()).add(name);
    }
    List<Target> targets = new ArrayList<>();
    for (var e : byName.entrySet()) {
      String simple = e.getKey().substring(e.getKey().lastIndexOf('.') + 1);
      String method = FnSchema.methodName(simple);
      if (byMethod.get(method).size() > 1) {
        method = simple;
      }
      if (!FnSchema.isIdentifier(method)) {
        continue;
      }
      List<FunctionInfo> versions = e.getValue();
      FunctionInfo latest = versions.getLast();
      targets.add(new Target(method, e.getKey(), latest));
      if (versions.size() > 1) {
        for (FunctionInfo v : versions) {
          targets.add(new Target(method + "_v" + v.version(), v.qualifiedName(), v));
        }
      }
    }

    FileDescriptorProto.Builder file =
        FileDescriptorProto.newBuilder()
            .setName(fullService.replace('.', '/') + ".proto")
            .setPackage(pkg)
            .setSyntax("proto3")
            .addAllDependency(FnSchema.dependencyNames());
    ServiceDescriptorProto.Builder svc = ServiceDescriptorProto.newBuilder().setName(service);
    Map<String, FnSchema.MethodPlan> plans = new HashMap<>();
    List<Target> servable = new ArrayList<>();
    for (Target t : targets) {
      Signature sig = t.info().signature();
      if (!FnSchema.isMappable(sig)) {
        continue;
      }
      String prefix = service + "_" + t.method();
      plans.put(t.method(), FnSchema.addMessages(file, prefix, sig));
      svc.addMethod(
          MethodDescriptorProto.newBuilder()
              .setName(t.method())
              .setInputType("." + pkg + "." + prefix + "Request")
              .setOutputType("." + pkg + "." + prefix + "Response"));
      servable.add(t);
    }
    if (servable.isEmpty()) {
      return null;
    }
    file.addService(svc);
    Descriptors.FileDescriptor fd =
        Descriptors.FileDescriptor.buildFrom(file.build(), FnSchema.dependencies());
    Descriptors.ServiceDescriptor sd = fd.findServiceByName(service);

    ServiceDescriptor.Builder grpcService =
        ServiceDescriptor.newBuilder(fullService).setSchemaDescriptor(new Schema(fd, sd, null));
    List<MethodDescriptor<Object, DynamicMessage>> methods = new ArrayList<>();
    for (Target t : servable) {
      Descriptors.MethodDescriptor md = sd.findMethodByName(t.method());
      MethodDescriptor<Object, DynamicMessage> m =
          MethodDescriptor.<Object, DynamicMessage>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(MethodDescriptor.generateFullMethodName(fullService, t.method()))
              .setRequestMarshaller(
                  Marshallers.parseFailureAsValue(
                      ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(md.getInputType())),
                      md.getInputType().getFullName()))
              .setResponseMarshaller(
                  ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(md.getOutputType())))
              .setSchemaDescriptor(new Schema(fd, sd, md))
              .build();
      methods.add(m);
      grpcService.addMethod(m);
    }
    ServerServiceDefinition.Builder def = ServerServiceDefinition.builder(grpcService.build());
    for (int i = 0; i < servable.size(); i++) {
      Target t = servable.get(i);
      Descriptors.MethodDescriptor md = sd.findMethodByName(t.method());
      def.addMethod(
          methods.get(i),
          new FunctionHandler(
              registry, caller, t.callName(), plans.get(t.method()), md.getOutputType()));
    }
    return def.build();
  }

  /** One method: its name and what it calls ({@code name}, or {@code name@N} for _vN). */
  private record Target(String method, String callName, FunctionInfo info) {}

  /** Stops following the registry and withdraws every per-function service. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    registry.removeListener(this);
    served.values().forEach(handlers::removeService);
    served.clear();
  }

  /** The schema reflection serves for a per-function service and its methods. */
  private record Schema(
      Descriptors.FileDescriptor file,
      Descriptors.ServiceDescriptor service,
      Descriptors.MethodDescriptor method)
      implements ProtoFileDescriptorSupplier,
          ProtoServiceDescriptorSupplier,
          ProtoMethodDescriptorSupplier {
    @Override
    public Descriptors.FileDescriptor getFileDescriptor() {
      return file;
    }

    @Override
    public Descriptors.ServiceDescriptor getServiceDescriptor() {
      return service;
    }

    @Override
    public Descriptors.MethodDescriptor getMethodDescriptor() {
      return method;
    }
  }

  /** A function's own method: request fields -> arguments -> call -> result field. */
  private static final class FunctionHandler extends UnaryHandler<Message, DynamicMessage> {
    private final Registry registry;
    private final Caller caller;
    private final String callName;
    private final FnSchema.MethodPlan plan;
    private final Descriptor response;

    FunctionHandler(
        Registry registry,
        Caller caller,
        String callName,
        FnSchema.MethodPlan plan,
        Descriptor response) {
      this.registry = registry;
      this.caller = caller;
      this.callName = callName;
      this.plan = plan;
      this.response = response;
    }

    @Override
    protected CompletableFuture<DynamicMessage> start(
        Message request, ServerCall<?, DynamicMessage> call, Metadata headers) {
      List<Value> args = new ArrayList<>(plan.params().size());
      for (FnSchema.FieldPlan p : plan.params()) {
        args.add(p.get(request, p.name()));
      }
      CallOptions options = Requests.options(call, headers, Map.of(), 0);
      return Futures.map(
          Dispatch.call(registry, caller, callName, args, options),
          v -> {
            DynamicMessage.Builder b = DynamicMessage.newBuilder(response);
            if (plan.result() != null) {
              plan.result().set(b, v);
            }
            return b.build();
          });
    }
  }
}
