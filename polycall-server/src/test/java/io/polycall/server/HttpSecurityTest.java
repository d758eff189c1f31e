package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.polycall.security.TokenIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The HTTP gateway under a security section: the Authorization header reaches the authentication
 * interceptor, and authorization decides as for any other transport.
 */
class HttpSecurityTest extends ConfigTestSupport {

  private static HttpResponse<String> call(
      HttpClient client, int port, String function, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/call/" + function))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("[1, 2]"));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String code(HttpResponse<String> r) throws Exception {
    return new ObjectMapper().readTree(r.body()).path("error").path("code").asText();
  }

  @Test
  void tokensAreCheckedOnTheHttpPathAsOnAnyOther() throws Exception {
    Files.writeString(dir.resolve("hs256.secret"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(dir.resolve("policy.yaml"), SecurityConfigTest.POLICY);
    PolyCallConfig c = parse(SecurityConfigTest.CONFIG + "http: {listen: 127.0.0.1:0}\n");
    String alice =
        TokenIssuer.hs256(dir.resolve("hs256.secret"))
            .issue(
                new TokenIssuer.Claims(
                    "alice",
                    "polycall",
                    "https://id.test",
                    Duration.ofMinutes(5),
                    List.of(),
                    "roles"));
    String bob =
        TokenIssuer.hs256(dir.resolve("hs256.secret"))
            .issue(
                new TokenIssuer.Claims(
                    "bob",
                    "polycall",
                    "https://id.test",
                    Duration.ofMinutes(5),
                    List.of(),
                    "roles"));
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    try (Node.Serving s = Node.serve(c)) {
      int port = s.http().port();
      HttpResponse<String> anonymous = call(client, port, "math.add", null);
      assertEquals(401, anonymous.statusCode(), anonymous.body());
      assertEquals("UNAUTHENTICATED", code(anonymous));
      assertTrue(anonymous.headers().firstValue("www-authenticate").isPresent());

      HttpResponse<String> garbage = call(client, port, "math.add", "not-a-jwt");
      assertEquals(401, garbage.statusCode(), garbage.body());

      HttpResponse<String> ok = call(client, port, "math.add", alice);
      assertEquals(200, ok.statusCode(), ok.body());
      assertEquals("{\"result\":3}", ok.body());

      HttpResponse<String> denied = call(client, port, "math.add", bob);
      assertEquals(403, denied.statusCode(), denied.body());
      assertEquals("PERMISSION_DENIED", code(denied));
    }
  }
}
