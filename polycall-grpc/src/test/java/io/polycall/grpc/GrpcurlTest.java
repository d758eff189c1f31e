package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polycall.core.PolyCall;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The real grpcurl (installed by {@code make tools} into build/tools) against a node: it finds the
 * per-function methods through server reflection alone, with no proto file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcurlTest {
  private Path grpcurl;
  private PolyCall node;
  private GrpcServer server;

  @BeforeAll
  void start() {
    String p = System.getProperty("polycall.grpcurl", "");
    grpcurl = p.isEmpty() ? null : Path.of(p);
    assumeTrue(
        grpcurl != null && Files.isExecutable(grpcurl),
        "grpcurl is not installed at " + p + ": run `make tools` (or `make grpcurl`) first");
    node = PolyCall.create();
    node.jvm().register("math.cos(x: f64) -> f64", (DoubleUnaryOperator) Math::cos);
    server = GrpcServer.builder(node).start();
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
      node.close();
    }
  }

  private record Run(int exit, String out, String err) {}

  private Run grpcurl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(grpcurl.toString());
    cmd.add("-plaintext");
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("grpcurl", ".out");
    Path err = Files.createTempFile("grpcurl", ".err");
    try {
      Process proc =
          new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!proc.waitFor(60, TimeUnit.SECONDS)) {
        proc.destroyForcibly();
        throw new AssertionError("grpcurl did not finish: " + cmd);
      }
      return new Run(
          proc.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private String target() {
    return "127.0.0.1:" + server.port();
  }

  @Test
  void grpcurlCallsMathCosWithJsonAndNoProtoFile() throws Exception {
    Run r = grpcurl("-d", "{\"x\": 0.5}", target(), "polycall.fn.math/Cos");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("\"result\": " + Math.cos(0.5)), r.out());
  }

  @Test
  void grpcurlListsAndDescribesTheServices() throws Exception {
    Run list = grpcurl(target(), "list");
    assertEquals(0, list.exit(), list.err());
    assertTrue(list.out().contains("polycall.fn.math"), list.out());
    assertTrue(list.out().contains("polycall.v1.PolyCall"), list.out());
    Run describe = grpcurl(target(), "describe", "polycall.fn.math.Cos");
    assertEquals(0, describe.exit(), describe.err());
    assertTrue(describe.out().contains("math_CosRequest"), describe.out());
  }

  @Test
  void aFunctionRegisteredWhileServingBecomesCallable() throws Exception {
    node.jvm().register("late.half(x: f64) -> f64", (DoubleUnaryOperator) x -> x / 2);
    assertTrue(server.awaitFunctionServices(java.time.Duration.ofSeconds(10)));
    try {
      Run r = grpcurl("-d", "{\"x\": 3}", target(), "polycall.fn.late/Half");
      assertEquals(0, r.exit(), r.err());
      assertTrue(r.out().contains("\"result\": 1.5"), r.out());
    } finally {
      node.registry().unregister("late.half");
    }
    assertTrue(server.awaitFunctionServices(java.time.Duration.ofSeconds(10)));
    Run gone = grpcurl("-d", "{\"x\": 3}", target(), "polycall.fn.late/Half");
    assertNotEquals(0, gone.exit());
  }

  @Test
  void theGenericServiceAndHealthAnswerGrpcurlToo() throws Exception {
    Run health = grpcurl(target(), "grpc.health.v1.Health/Check");
    assertEquals(0, health.exit(), health.err());
    assertTrue(health.out().contains("SERVING"), health.out());
    Run call =
        grpcurl(
            "-d",
            "{\"function\": \"math.cos\", \"args\": [{\"floatValue\": 0}]}",
            target(),
            "polycall.v1.PolyCall/Call");
    assertEquals(0, call.exit(), call.err());
    assertTrue(call.out().contains("\"float_value\": 1"), call.out());
    Run missing =
        grpcurl("-d", "{\"function\": \"math.nope\"}", target(), "polycall.v1.PolyCall/Call");
    assertNotEquals(0, missing.exit());
    assertTrue(missing.err().contains("NotFound"), missing.err());
  }
}
