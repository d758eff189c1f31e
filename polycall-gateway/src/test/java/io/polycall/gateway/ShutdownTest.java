package io.polycall.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.StatusException;
import io.polycall.core.PolyCall;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Shutdown lets calls in flight answer, then stops; a taken port fails the start. */
class ShutdownTest {

  @Test
  void shutdownLetsACallInFlightAnswerThenStopsAccepting() throws Exception {
    TestFunctions f = new TestFunctions();
    try (PolyCall node = PolyCall.create()) {
      node.jvm().register(f);
      HttpGateway gateway = HttpGateway.builder(node).start();
      URI uri = URI.create("http://127.0.0.1:" + gateway.port() + "/v1/call/t.sleep");
      HttpClient client = HttpClient.newHttpClient();
      CompletableFuture<HttpResponse<String>> answer =
          client.sendAsync(
              HttpRequest.newBuilder(uri)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("[300]"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertTrue(f.started.await(10, TimeUnit.SECONDS));
      gateway.shutdown();
      HttpResponse<String> r = answer.get(10, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("{\"result\":false}", r.body(), "the call ran to its end");
      assertTrue(gateway.awaitTermination(Duration.ofSeconds(10)));
      assertThrows(
          ConnectException.class,
          () ->
              HttpClient.newHttpClient()
                  .send(
                      HttpRequest.newBuilder(uri).GET().build(),
                      HttpResponse.BodyHandlers.ofString()));
      gateway.close();
      gateway.close(); // idempotent
    }
  }

  @Test
  void aTakenPortFailsTheStartWithFailedPrecondition() {
    try (PolyCall node = PolyCall.create();
        HttpGateway first = HttpGateway.builder(node).start()) {
      StatusException e =
          assertThrows(
              StatusException.class,
              () -> HttpGateway.builder(node).withListen("127.0.0.1", first.port()).start());
      assertEquals(io.polycall.Status.Code.FAILED_PRECONDITION, e.status().code());
      assertTrue(e.getMessage().contains("cannot listen"), e.getMessage());
    }
  }
}
