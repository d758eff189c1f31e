package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1alpha.ServerReflectionGrpc;
import io.grpc.reflection.v1alpha.ServerReflectionRequest;
import io.grpc.reflection.v1alpha.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.core.PolyCall;
import io.polycall.grpc.internal.Rpc;
import io.polycall.spi.BoundFunction;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every function as a gRPC method of its own, found and called the way grpcurl does: through server
 * reflection, with JSON, no proto file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FunctionServicesTest {
  private PolyCall node;
  private GrpcServer server;
  private ManagedChannel channel;
  private ReflectionClient reflection;

  @BeforeAll
  void start() {
    node = PolyCall.create();
    node.jvm().register("math.cos(x: f64) -> f64", (DoubleUnaryOperator) Math::cos);
    node.jvm().register("math.add_all(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    node.jvm().register("a.b.c.twice(x: f64) -> f64", (DoubleUnaryOperator) x -> 2 * x);
    node.jvm().register("top(x: f64) -> f64", (DoubleUnaryOperator) x -> x + 1);
    node.jvm().register("clash.get_x(x: f64) -> f64", (DoubleUnaryOperator) x -> 1);
    node.jvm().register("clash.getX(x: f64) -> f64", (DoubleUnaryOperator) x -> 2);
    node.jvm()
        .register(
            new FunctionInfo(
                Signature.parse("ver.f(x: f64) -> f64"), 1, "jvm", java.util.Set.of(), ""),
            (DoubleUnaryOperator) x -> 10);
    node.jvm()
        .register(
            new FunctionInfo(
                Signature.parse("ver.f(x: f64) -> f64"), 2, "jvm", java.util.Set.of(), ""),
            (DoubleUnaryOperator) x -> 20);
    echo("bool", "bool");
    echo("i8", "i8");
    echo("u16", "u16");
    echo("i64", "i64");
    echo("u64", "u64");
    echo("f32", "f32");
    echo("f64", "f64");
    echo("string", "string");
    echo("bytes", "bytes");
    echo("list", "list<i32>");
    echo("list_list", "list<list<i32>>");
    echo("list_opt", "list<optional<string>>");
    echo("map", "map<string, f64>");
    echo("map_int", "map<i32, string>");
    echo("map_f64", "map<f64, string>");
    echo("map_list", "map<string, list<i64>>");
    echo("point", "struct Point{x: f64, y: f64}");
    echo("line", "struct Line{a: struct Point{x: f64, y: f64}, b: struct Point{x: f64, y: f64}}");
    echo("opt", "optional<i32>");
    echo("opt_point", "optional<struct Point{x: f64, y: f64}>");
    echo("opt_list", "optional<list<string>>");
    echo("array", "ndarray<f64>");
    echo("handle", "handle<file>");
    echo("fn", "fn(i64) -> i64");
    echo("any", "any");
    server = GrpcServer.builder(node).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    reflection = new ReflectionClient(channel);
  }

  private void echo(String label, String type) {
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(
                    Signature.parse("echo." + label + "(v: " + type + ") -> " + type), "jvm"),
                (args, ctx) -> args[0]));
  }

  @AfterAll
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
    node.close();
  }

  @Test
  void reflectionListsAServicePerNamespaceBesideTheGenericOne() throws Exception {
    List<String> services = reflection.services();
    for (String s :
        List.of(
            "polycall.fn.math",
            "polycall.fn.a.b.c",
            "polycall.fn._",
            "polycall.fn.echo",
            Rpc.SERVICE,
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection")) {
      assertTrue(services.contains(s), s + " missing from " + services);
    }
  }

  @Test
  void aFunctionIsCalledByItsOwnMethodWithJson() throws Exception {
    assertEquals(
        "{\"result\":" + Math.cos(0.5) + "}",
        reflection.call("polycall.fn.math", "Cos", "{\"x\": 0.5}"));
    assertEquals(
        "{\"result\":\"5\"}",
        reflection.call("polycall.fn.math", "AddAll", "{\"a\": 2, \"b\": \"3\"}"));
  }

  @Test
  void nestedNamespacesAndTopLevelFunctionsHaveServicesToo() throws Exception {
    assertEquals("{\"result\":3.0}", reflection.call("polycall.fn.a.b.c", "Twice", "{\"x\": 1.5}"));
    assertEquals("{\"result\":2.5}", reflection.call("polycall.fn._", "Top", "{\"x\": 1.5}"));
  }

  @Test
  void methodNamesThatClashKeepTheExactFunctionNames() throws Exception {
    assertEquals("{\"result\":1.0}", reflection.call("polycall.fn.clash", "get_x", "{\"x\": 0}"));
    assertEquals("{\"result\":2.0}", reflection.call("polycall.fn.clash", "getX", "{\"x\": 0}"));
  }

  @Test
  void everyVersionHasAMethodAndThePlainNameCallsTheLatest() throws Exception {
    assertEquals("{\"result\":20.0}", reflection.call("polycall.fn.ver", "F", "{\"x\": 0}"));
    assertEquals("{\"result\":10.0}", reflection.call("polycall.fn.ver", "F_v1", "{\"x\": 0}"));
    assertEquals("{\"result\":20.0}", reflection.call("polycall.fn.ver", "F_v2", "{\"x\": 0}"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "Bool | {\"v\":true}",
        "I8 | {\"v\":-5}",
        "U16 | {\"v\":65535}",
        "I64 | {\"v\":\"-9000000000\"}",
        "U64 | {\"v\":\"18446744073709551615\"}",
        "F32 | {\"v\":1.5}",
        "F64 | {\"v\":0.25}",
        "String | {\"v\":\"h\u00e9llo\"}",
        "Bytes | {\"v\":\"AQID\"}",
        "List | {\"v\":[1,2,3]}",
        "ListList | {\"v\":[{\"value\":[1,2]},{\"value\":[3]}]}",
        "ListOpt | {\"v\":[{\"value\":\"a\"},{}]}",
        "Map | {\"v\":{\"a\":1.5}}",
        "MapInt | {\"v\":{\"7\":\"seven\"}}",
        "MapF64 | {\"v\":[{\"key\":1.5,\"value\":\"x\"}]}",
        "MapList | {\"v\":[{\"key\":\"k\",\"value\":[\"1\",\"2\"]}]}",
        "Point | {\"v\":{\"x\":1.5,\"y\":2.5}}",
        "Line | {\"v\":{\"a\":{\"x\":1.0,\"y\":2.0},\"b\":{\"x\":3.0,\"y\":4.0}}}",
        "Opt | {\"v\":7}",
        "Opt | {}",
        "OptPoint | {\"v\":{\"x\":1.5,\"y\":2.5}}",
        "OptPoint | {}",
        "OptList | {\"v\":{\"value\":[\"a\",\"b\"]}}",
        "OptList | {}",
        "Handle | {\"v\":{\"kind\":\"file\",\"id\":\"7\",\"generation\":2}}",
        "Fn | {\"v\":{\"name\":\"math.add_all\",\"signature\":\"fn(i64) -> i64\"}}",
        "Any | {\"v\":{\"a\":[1.0,\"x\",true,null],\"b\":2.5}}",
      })
  void everyCanonicalTypeRoundTripsThroughItsMessage(String method, String json) throws Exception {
    assertEquals(
        json.replace("\"v\"", "\"result\""), reflection.call("polycall.fn.echo", method, json));
  }

  @Test
  void anNdarrayIsAMessageWithDtypeShapeAndData() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    b.putDouble(1).putDouble(2).putDouble(3).putDouble(4);
    String data = Base64.getEncoder().encodeToString(b.array());
    String json = "{\"v\":{\"dtype\":\"f64\",\"shape\":[\"2\",\"2\"],\"data\":\"" + data + "\"}}";
    assertEquals(
        json.replace("\"v\"", "\"result\""), reflection.call("polycall.fn.echo", "Array", json));
    // Without a shape, the data is one dimension; without a dtype, the declared one.
    assertEquals(
        "{\"result\":{\"dtype\":\"f64\",\"shape\":[\"4\"],\"data\":\"" + data + "\"}}",
        reflection.call("polycall.fn.echo", "Array", "{\"v\":{\"data\":\"" + data + "\"}}"));
  }

  @Test
  void aValueOutsideItsDeclaredWidthIsInvalidArgumentWithItsPath() throws Exception {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> reflection.call("polycall.fn.echo", "I8", "{\"v\": 300}"));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("args[0]"), e.getStatus().getDescription());
    StatusRuntimeException bad =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                reflection.call(
                    "polycall.fn.echo", "Array", "{\"v\":{\"dtype\":\"f64\",\"data\":\"AQI=\"}}"));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
    assertEquals("{\"result\":true}", reflection.call("polycall.fn.echo", "Bool", "{\"v\":true}"));
  }

  @Test
  void functionsRegisteredLaterAppearAndRemovedOnesDisappear() throws Exception {
    assertFalse(reflection.services().contains("polycall.fn.dyn"));
    node.jvm().register("dyn.hello(x: f64) -> f64", (DoubleUnaryOperator) x -> x * 10);
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(10)));
    assertTrue(reflection.services().contains("polycall.fn.dyn"));
    assertEquals("{\"result\":5.0}", reflection.call("polycall.fn.dyn", "Hello", "{\"x\": 0.5}"));

    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("dyn.bye(s: string) -> string"), "jvm"),
                (args, ctx) -> args[0]));
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(10)));
    assertEquals("{\"result\":\"x\"}", reflection.call("polycall.fn.dyn", "Bye", "{\"s\": \"x\"}"));
    assertNotNull(reflection.method("polycall.fn.dyn", "Hello"));

    node.registry().unregister("dyn.hello");
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(10)));
    assertThrows(IllegalStateException.class, () -> reflection.method("polycall.fn.dyn", "Hello"));
    node.registry().unregister("dyn.bye");
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(10)));
    assertFalse(reflection.services().contains("polycall.fn.dyn"));
    StatusRuntimeException gone =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                io.grpc.stub.ClientCalls.blockingUnaryCall(
                    channel,
                    io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
                        .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
                        .setFullMethodName("polycall.fn.dyn/Hello")
                        .setRequestMarshaller(GenericServiceTest.BYTES)
                        .setResponseMarshaller(GenericServiceTest.BYTES)
                        .build(),
                    io.grpc.CallOptions.DEFAULT,
                    new byte[0]));
    assertEquals(io.grpc.Status.Code.UNIMPLEMENTED, gone.getStatus().getCode());
    assertEquals("{\"result\":1.0}", reflection.call("polycall.fn.math", "Cos", "{\"x\": 0}"));
  }

  @Test
  void aFunctionsFailureIsItsStatus() throws Exception {
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("fails.now() -> null"), "jvm"),
                (args, ctx) -> {
                  throw Status.PERMISSION_DENIED.withDescription("not you").asException();
                }));
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(10)));
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class, () -> reflection.call("polycall.fn.fails", "Now", "{}"));
    assertEquals(io.grpc.Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertNotNull(e.getTrailers().get(Rpc.STATUS_TRAILER));
  }

  @Test
  void aThousandFunctionsRegisteredAtOnceAreServedWithoutAThousandRebuilds() throws Exception {
    for (int i = 0; i < 1000; i++) {
      node.jvm().register("bulk.f" + i + "(x: f64) -> f64", (DoubleUnaryOperator) x -> x);
    }
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(30)));
    assertEquals("{\"result\":2.0}", reflection.call("polycall.fn.bulk", "F999", "{\"x\": 2}"));
    node.registry().list("bulk.*").forEach(f -> node.registry().unregister(f.name()));
    assertTrue(server.awaitFunctionServices(Duration.ofSeconds(30)));
    assertFalse(reflection.services().contains("polycall.fn.bulk"));
  }

  @Test
  void theLegacyV1alphaReflectionListsThemToo() throws Exception {
    CompletableFuture<ServerReflectionResponse> f = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> out =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    f.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    f.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    out.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    out.onCompleted();
    List<String> names =
        f.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
            .map(s -> s.getName())
            .toList();
    assertTrue(names.contains("polycall.fn.math"), names::toString);
  }
}
