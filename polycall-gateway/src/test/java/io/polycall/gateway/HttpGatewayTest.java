package io.polycall.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.polycall.CallOptions;
import io.polycall.Identity;
import io.polycall.core.PolyCall;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gateway over loopback with a real HTTP client; every bad case checks it keeps serving. */
class HttpGatewayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CBORMapper CBOR = new CBORMapper();
  private static final int LIMIT = 64 * 1024;

  private static PolyCall node;
  private static HttpGateway gateway;
  private static HttpClient client;
  private static String base;
  private static final TestFunctions functions = new TestFunctions();
  private static final List<CallOptions> seen = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    node =
        PolyCall.builder()
            .withInterceptor(
                chain -> {
                  seen.add(chain.call().options());
                  return chain.proceed(chain.call());
                })
            .build();
    node.jvm().register(functions);
    gateway = HttpGateway.builder(node).withMaxBodyBytes(LIMIT).start();
    base = "http://127.0.0.1:" + gateway.port();
    // HTTP/1.1 here; h2cClientsGetHttp2 covers HTTP/2.
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    assertTrue(gateway.isTerminated());
    node.close();
  }

  static HttpResponse<String> post(String path, String contentType, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> call(String function, String json, String... headers)
      throws Exception {
    return post("/v1/call/" + function, "application/json", json, headers);
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static JsonNode error(HttpResponse<String> r, int httpStatus, String code) throws Exception {
    assertEquals(httpStatus, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("content-type").orElseThrow());
    JsonNode e = json(r).get("error");
    assertNotNull(e, r.body());
    assertEquals(code, e.get("code").asText(), r.body());
    assertEquals(io.polycall.Status.Code.valueOf(code).number(), e.get("status").asInt());
    return e;
  }

  /** After each bad case: the gateway still answers calls. */
  static void stillServing() throws Exception {
    HttpResponse<String> r = call("t.add", "[40, 2]");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(42, json(r).get("result").asLong());
  }

  @Test
  void aJsonArrayCallsWithPositionalArguments() throws Exception {
    HttpResponse<String> r = call("t.add", "[1, 2]");
    assertEquals(200, r.statusCode());
    assertEquals("{\"result\":3}", r.body());
  }

  @Test
  void aJsonObjectNamesTheArguments() throws Exception {
    assertEquals("{\"result\":5}", call("t.add", "{\"b\": 3, \"a\": 2}").body());
    assertEquals(
        "{\"result\":\"hello ada (36)\"}",
        call("t.greet", "{\"p\": {\"name\": \"ada\", \"age\": 36}}").body());
  }

  @Test
  void aNonblockingFunctionRunsOnTheEventLoopAndStillPassesTheChain() throws Exception {
    seen.clear();
    assertEquals("{\"result\":42}", call("t.twice", "[21]").body());
    assertEquals(1, seen.size(), "the interceptor saw the call");
    error(call("t.twice", "[\"x\"]"), 400, "INVALID_ARGUMENT");
    assertEquals("{\"result\":4}", call("t.twice", "[2]", "X-PolyCall-Timeout", "5s").body());
    stillServing();
  }

  @Test
  void aPinnedVersionIsCalledByNameAtVersion() throws Exception {
    assertEquals("{\"result\":3}", call("t.add@1", "[1, 2]").body());
  }

  @Test
  void aFunctionWithoutArgumentsTakesAnEmptyBodyAndAnswersNull() throws Exception {
    HttpResponse<String> r = post("/v1/call/t.nop", null, "");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"result\":null}", r.body());
  }

  @Test
  void u64BeyondTwoToThe53IsAcceptedAsAStringAndAnsweredExactly() throws Exception {
    assertEquals(
        "{\"result\":18446744073709551615}", call("t.big", "[\"18446744073709551615\"]").body());
    assertEquals("{\"result\":9007199254740993}", call("t.big", "[9007199254740993]").body());
  }

  @Test
  void bytesTravelAsBase64() throws Exception {
    // [1, 2, 3] in base64 is AQID; reversed [3, 2, 1] is AwIB.
    assertEquals("{\"result\":\"AwIB\"}", call("t.reverse", "[\"AQID\"]").body());
    assertEquals("{\"result\":\"AwIB\"}", call("t.reverse", "[{\"base64\": \"AQID\"}]").body());
  }

  @Test
  void ndarraysGoInAsNestedListsOrBlocksAndComeBackAsBlocks() throws Exception {
    JsonNode r = json(call("t.scale", "[[1.0, 2.0], 3]")).get("result");
    assertEquals("f64", r.get("dtype").asText());
    assertEquals("[2]", r.get("shape").toString());
    byte[] data = r.get("data").binaryValue();
    java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(data).order(java.nio.ByteOrder.nativeOrder());
    assertEquals(3.0, bb.getDouble(0));
    assertEquals(6.0, bb.getDouble(8));
    // The block the gateway wrote is a valid argument as it is.
    JsonNode again = json(call("t.scale", "[" + r + ", 0.5]")).get("result");
    java.nio.ByteBuffer b2 =
        java.nio.ByteBuffer.wrap(again.get("data").binaryValue())
            .order(java.nio.ByteOrder.nativeOrder());
    assertEquals(1.5, b2.getDouble(0));
  }

  @Test
  void theAuthorizationHeaderBecomesMetadataAndTheIdentityStaysAnonymous() throws Exception {
    seen.clear();
    call("t.add", "[1, 1]", "Authorization", "Bearer abc.def");
    CallOptions o = seen.getLast();
    assertEquals("Bearer abc.def", o.metadata().get("authorization"));
    assertEquals(Identity.ANONYMOUS, o.identity());
  }

  @Test
  void malformedJsonIs400InvalidArgumentSayingWhere() throws Exception {
    JsonNode e = error(call("t.add", "[1, 2"), 400, "INVALID_ARGUMENT");
    assertTrue(e.get("message").asText().contains("line 1, column"), e.toString());
    error(call("t.add", "{\"a\": 1,, }"), 400, "INVALID_ARGUMENT");
    stillServing();
  }

  @Test
  void aWrongContentTypeIs415() throws Exception {
    JsonNode e = error(post("/v1/call/t.add", "text/plain", "[1, 2]"), 415, "INVALID_ARGUMENT");
    assertTrue(e.get("message").asText().contains("application/json"), e.toString());
    stillServing();
  }

  @Test
  void anAcceptHeaderNamingNoKnownFormatIs406() throws Exception {
    error(call("t.add", "[1, 2]", "Accept", "text/html"), 406, "INVALID_ARGUMENT");
    stillServing();
  }

  @Test
  void aBodyOverTheLimitIs413BeforeTheBodyIsRead() throws Exception {
    try (Socket s = new Socket("127.0.0.1", gateway.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      // Announce 100 MB, send only the headers and 1 KB: the answer must not wait for the rest.
      out.write(
          ("POST /v1/call/t.add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Content-Length: 104857600\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[1024]);
      out.flush();
      String head = readHead(s.getInputStream());
      assertTrue(head.startsWith("HTTP/1.1 413"), head);
      assertTrue(head.toLowerCase().contains("connection: close"), head);
    }
    // The same through the client, with a body really over the limit.
    HttpResponse<String> r = call("t.reverse", "[\"" + "A".repeat(LIMIT + 4) + "\"]");
    JsonNode e = error(r, 413, "RESOURCE_EXHAUSTED");
    assertTrue(e.get("message").asText().contains(Integer.toString(LIMIT)), e.toString());
    stillServing();
  }

  static String readHead(InputStream in) throws Exception {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      sb.append((char) c);
      if (sb.toString().endsWith("\r\n\r\n")) {
        break;
      }
    }
    return sb.toString();
  }

  @Test
  void anUnknownFunctionIs404WithAStatusBodyAndSuggestions() throws Exception {
    JsonNode e = error(call("t.ad", "[1, 2]"), 404, "NOT_FOUND");
    assertTrue(e.get("message").asText().contains("t.ad"), e.toString());
    assertTrue(e.get("suggestions").toString().contains("t.add"), e.toString());
    error(get("/v1/functions/t.nothing"), 404, "NOT_FOUND");
    error(get("/v2/elsewhere"), 404, "NOT_FOUND");
    HttpResponse<String> odd = call("t.add@x", "[1, 2]");
    assertTrue(odd.statusCode() == 400 || odd.statusCode() == 404, odd.body());
    HttpResponse<String> empty = call("%20", "[1, 2]");
    assertTrue(empty.statusCode() == 400 || empty.statusCode() == 404, empty.body());
    stillServing();
  }

  @Test
  void wrongArgumentTypesAre400WithTheElementPath() throws Exception {
    JsonNode e = error(call("t.add", "[1, \"two\"]"), 400, "INVALID_ARGUMENT");
    assertTrue(e.get("message").asText().contains("args[1]"), e.toString());
    JsonNode nested =
        error(call("t.greet", "[{\"name\": \"ada\", \"age\": \"old\"}]"), 400, "INVALID_ARGUMENT");
    assertTrue(nested.get("message").asText().contains("age"), nested.toString());
    JsonNode unknown = error(call("t.add", "{\"a\": 1, \"c\": 2}"), 400, "INVALID_ARGUMENT");
    assertTrue(unknown.get("message").asText().contains("args.c"), unknown.toString());
    JsonNode missing = error(call("t.add", "{\"a\": 1}"), 400, "INVALID_ARGUMENT");
    assertTrue(missing.get("message").asText().contains("args.b"), missing.toString());
    error(call("t.add", "\"text\""), 400, "INVALID_ARGUMENT");
    stillServing();
  }

  @Test
  void anExpiredDeadlineIs504() throws Exception {
    error(call("t.sleep", "[20000]", "X-PolyCall-Timeout", "50ms"), 504, "DEADLINE_EXCEEDED");
    error(call("t.sleep", "[20000]", "grpc-timeout", "50m"), 504, "DEADLINE_EXCEEDED");
    error(call("t.add", "[1, 2]", "X-PolyCall-Timeout", "soon"), 400, "INVALID_ARGUMENT");
    stillServing();
  }

  @Test
  void resourceExhaustedWithARetryHintSetsRetryAfter() throws Exception {
    HttpResponse<String> r = call("t.busy", "[]");
    error(r, 429, "RESOURCE_EXHAUSTED");
    assertEquals("2", r.headers().firstValue("retry-after").orElseThrow());
  }

  @Test
  void h2cClientsGetHttp2() throws Exception {
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> health =
        h2.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/health")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_2, health.version(), "upgraded with Upgrade: h2c");
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      calls.add(
          h2.sendAsync(
              HttpRequest.newBuilder(URI.create(base + "/v1/call/t.add"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("[" + i + ", 1]"))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = calls.get(i).get(30, TimeUnit.SECONDS);
      assertEquals(HttpClient.Version.HTTP_2, r.version());
      assertEquals("{\"result\":" + (i + 1) + "}", r.body());
    }
    HttpResponse<String> missing =
        h2.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/call/t.nothing"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[]"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    error(missing, 404, "NOT_FOUND");
    HttpResponse<String> malformed =
        h2.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/call/t.add"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[1,"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_2, malformed.version());
    error(malformed, 400, "INVALID_ARGUMENT");
    HttpResponse<String> tooBig =
        h2.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/call/t.reverse"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[\"" + "A".repeat(LIMIT) + "\"]"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    error(tooBig, 413, "RESOURCE_EXHAUSTED");
    assertEquals(
        "{\"result\":3}",
        h2.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/call/t.add"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("[1, 2]"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body(),
        "the connection serves on after a refused stream");
    h2.close();
    stillServing();
  }

  @Test
  void aPriorKnowledgeHttp2ClientIsAnsweredInHttp2() throws Exception {
    try (Socket s = new Socket("127.0.0.1", gateway.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame
      out.flush();
      byte[] frame = s.getInputStream().readNBytes(9);
      assertEquals(4, frame[3], "the server's first frame is its SETTINGS");
    }
    stillServing();
  }

  @Test
  void aMalformedRequestLineIs400AndOversizedHeadersAre431() throws Exception {
    try (Socket s = new Socket("127.0.0.1", gateway.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GARBAGE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String head = readHead(s.getInputStream());
      assertTrue(head.startsWith("HTTP/1.1 400"), head);
    }
    try (Socket s = new Socket("127.0.0.1", gateway.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String head = readHead(s.getInputStream());
      assertTrue(head.startsWith("HTTP/1.1 431"), head);
    }
    stillServing();
  }

  @Test
  void unauthenticatedIs401WithAChallenge() throws Exception {
    node.jvm()
        .register(
            "t.locked() -> null",
            (Runnable)
                () -> {
                  throw io.polycall.Status.UNAUTHENTICATED
                      .withDescription("no token")
                      .asException();
                });
    try {
      HttpResponse<String> r = call("t.locked", "[]");
      error(r, 401, "UNAUTHENTICATED");
      assertTrue(r.headers().firstValue("www-authenticate").orElseThrow().startsWith("Bearer"));
    } finally {
      node.registry().unregister("t.locked");
    }
  }

  @Test
  void aWrongMethodIs405WithAllow() throws Exception {
    HttpResponse<String> r = get("/v1/call/t.add");
    error(r, 405, "UNIMPLEMENTED");
    assertEquals("POST", r.headers().firstValue("allow").orElseThrow());
    stillServing();
  }

  @Test
  void cborGoesInAndComesBackOut() throws Exception {
    byte[] body = CBOR.writeValueAsBytes(List.of(new byte[] {1, 2, 3}));
    HttpResponse<byte[]> r =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/call/t.reverse"))
                .header("Content-Type", "application/cbor")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    assertEquals("application/cbor", r.headers().firstValue("content-type").orElseThrow());
    JsonNode answer = CBOR.readTree(r.body());
    assertTrue(answer.get("result").isBinary());
    assertEquals(List.of((byte) 3, (byte) 2, (byte) 1), boxed(answer.get("result").binaryValue()));
    // JSON in, CBOR out when Accept asks for it.
    HttpResponse<byte[]> mixed =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/v1/call/t.add"))
                .header("Content-Type", "application/json")
                .header("Accept", "application/cbor")
                .POST(HttpRequest.BodyPublishers.ofString("[2, 2]"))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(4, CBOR.readTree(mixed.body()).get("result").asLong());
  }

  private static List<Byte> boxed(byte[] b) {
    List<Byte> out = new ArrayList<>();
    for (byte x : b) {
      out.add(x);
    }
    return out;
  }

  @Test
  void functionsAreListedFilteredAndDescribed() throws Exception {
    JsonNode all = json(get("/v1/functions")).get("functions");
    assertTrue(all.size() >= 9, all.toString());
    JsonNode some = json(get("/v1/functions?pattern=t.a*")).get("functions");
    assertEquals(1, some.size(), some.toString());
    assertEquals("t.add(a: i64, b: i64) -> i64", some.get(0).get("signature").asText());
    JsonNode one = json(get("/v1/functions/t.add"));
    assertEquals("Adds two integers.", one.get("doc").asText());
    assertEquals("jvm", one.get("bridge").asText());
    assertEquals("SERVING", json(get("/v1/health")).get("status").asText());
  }

  @Test
  void theOpenApiDocumentIsValidAndFollowsTheRegistry() throws Exception {
    SwaggerParseResult parsed = parse(get("/v1/openapi.json").body());
    assertEquals(List.of(), parsed.getMessages());
    assertNotNull(parsed.getOpenAPI().getPaths().get("/v1/call/t.add"));
    assertFalse(parsed.getOpenAPI().getPaths().containsKey("/v1/call/t.late"));
    assertEquals(0, json(get("/v1/functions?pattern=t.late")).get("functions").size());

    java.util.function.BiFunction<List<Double>, String, Map<String, Double>> late =
        (xs, tag) -> Map.of("n", (double) xs.size());
    node.jvm().register("t.late(xs: list<f64>, tag: string?) -> map<string, f64>", late);
    try {
      SwaggerParseResult later = parse(get("/v1/openapi.json").body());
      assertEquals(List.of(), later.getMessages());
      assertNotNull(later.getOpenAPI().getPaths().get("/v1/call/t.late"));
      assertEquals(1, json(get("/v1/functions?pattern=t.late")).get("functions").size());
      assertEquals("{\"result\":{\"n\":2.0}}", call("t.late", "{\"xs\": [1, 2]}").body());
    } finally {
      node.registry().unregister("t.late");
    }
    assertFalse(
        parse(get("/v1/openapi.json").body())
            .getOpenAPI()
            .getPaths()
            .containsKey("/v1/call/t.late"));
  }

  private static SwaggerParseResult parse(String doc) {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    return new OpenAPIV3Parser().readContents(doc, null, options);
  }

  // ---- WebSocket ----------------------------------------------------------------------------

  /** Collects the text messages of a WebSocket. */
  static final class Collector implements WebSocket.Listener {
    final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          messages.add(JSON.readTree(partial.toString()));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
      closed.complete(code);
      return null;
    }

    JsonNode next() throws InterruptedException {
      JsonNode m = messages.poll(30, TimeUnit.SECONDS);
      assertNotNull(m, "no message within 30 s");
      return m;
    }
  }

  static WebSocket connect(Collector c) {
    return client
        .newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/v1/stream"), c)
        .join();
  }

  @Test
  void aStreamRunsManyCallsAndAnswersInCompletionOrder() throws Exception {
    functions.release = new java.util.concurrent.CountDownLatch(1);
    Collector c = new Collector();
    WebSocket ws = connect(c);
    ws.sendText("{\"id\": 1, \"function\": \"t.hold\", \"args\": []}", true).join();
    for (int i = 2; i <= 20; i++) {
      ws.sendText("{\"id\": " + i + ", \"function\": \"t.add\", \"args\": [" + i + ", 1]}", true)
          .join();
    }
    // The 19 quick calls all answer while the first is still held.
    java.util.Set<Integer> ids = new java.util.TreeSet<>();
    for (int i = 0; i < 19; i++) {
      JsonNode m = c.next();
      int id = m.get("id").asInt();
      ids.add(id);
      assertEquals(id + 1, m.get("result").asInt(), m.toString());
    }
    assertEquals(19, ids.size());
    assertFalse(ids.contains(1), ids.toString());
    functions.release.countDown();
    JsonNode last = c.next();
    assertEquals(1, last.get("id").asInt());
    assertTrue(last.get("result").asBoolean(), last.toString());
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
  }

  @Test
  void aStreamReportsBadMessagesAndKeepsGoing() throws Exception {
    Collector c = new Collector();
    WebSocket ws = connect(c);
    ws.sendText("{\"id\": 1, \"function\": \"t.add\", \"args\": [1", true).join();
    JsonNode bad = c.next();
    assertEquals("INVALID_ARGUMENT", bad.get("error").get("code").asText(), bad.toString());
    ws.sendText("{\"id\": 2, \"function\": \"t.nope\", \"args\": []}", true).join();
    JsonNode missing = c.next();
    assertEquals(2, missing.get("id").asInt());
    assertEquals("NOT_FOUND", missing.get("error").get("code").asText());
    ws.sendText(
            "{\"id\": 3, \"function\": \"t.sleep\", \"args\": [5000], \"timeout\": \"50ms\"}", true)
        .join();
    assertEquals("DEADLINE_EXCEEDED", c.next().get("error").get("code").asText());
    ws.sendText("{\"id\": 4, \"function\": \"t.add\", \"args\": [1, 2]}", true).join();
    assertEquals(3, c.next().get("result").asInt());
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
  }

  @Test
  void aStreamCallCancelledHalfWayIsCancelledInTheFunction() throws Exception {
    functions.started = new java.util.concurrent.CountDownLatch(1);
    functions.cancelled = new java.util.concurrent.CountDownLatch(1);
    Collector c = new Collector();
    WebSocket ws = connect(c);
    ws.sendText("{\"id\": \"slow\", \"function\": \"t.sleep\", \"args\": [30000]}", true).join();
    assertTrue(functions.started.await(10, TimeUnit.SECONDS));
    ws.sendText("{\"cancel\": \"slow\"}", true).join();
    JsonNode m = c.next();
    assertEquals("slow", m.get("id").asText());
    assertEquals("CANCELLED", m.get("error").get("code").asText(), m.toString());
    assertTrue(functions.cancelled.await(10, TimeUnit.SECONDS), "the function saw the cancel");
    ws.sendText("{\"id\": 2, \"function\": \"t.add\", \"args\": [1, 2]}", true).join();
    assertEquals(3, c.next().get("result").asInt());
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    stillServing();
  }

  @Test
  void aClientThatHangsUpCancelsItsHttpCall() throws Exception {
    functions.started = new java.util.concurrent.CountDownLatch(1);
    functions.cancelled = new java.util.concurrent.CountDownLatch(1);
    try (Socket s = new Socket("127.0.0.1", gateway.port())) {
      byte[] body = "[30000]".getBytes(StandardCharsets.US_ASCII);
      s.getOutputStream()
          .write(
              ("POST /v1/call/t.sleep HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + "Content-Length: "
                      + body.length
                      + "\r\n\r\n[30000]")
                  .getBytes(StandardCharsets.US_ASCII));
      assertTrue(functions.started.await(10, TimeUnit.SECONDS));
    }
    assertTrue(functions.cancelled.await(10, TimeUnit.SECONDS), "the function saw the cancel");
    stillServing();
  }
}
