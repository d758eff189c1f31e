package io.polycall.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenerSafetyTest {
  @Test
  void loopback_addresses_are_recognized_and_everything_else_is_not() {
    for (String a : List.of("127.0.0.1:8080", "127.1.2.3:1", "localhost:9", "[::1]:50051", "::1")) {
      assertTrue(ListenerSafety.isLoopback(a), a);
    }
    for (String a :
        List.of(
            "0.0.0.0:8080",
            ":8080",
            "[::]:50051",
            "10.0.0.5:1",
            "example.com:443",
            "127.0.0.1.evil.com:1",
            "1270.0.0.1:1")) {
      assertFalse(ListenerSafety.isLoopback(a), a);
    }
  }

  @Test
  void a_non_loopback_listener_without_authentication_is_refused_naming_it() {
    var ls =
        List.of(
            new ListenerSafety.Listener("grpc.listen", "0.0.0.0:50051"),
            new ListenerSafety.Listener("http.listen", "127.0.0.1:8080"));
    StatusException e =
        assertThrows(StatusException.class, () -> ListenerSafety.check(ls, false, false));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.status().code());
    assertTrue(
        e.status()
            .description()
            .startsWith("refusing to listen on 0.0.0.0:50051 (grpc.listen) without authentication"),
        e.status().description());
    assertTrue(e.status().description().contains("--insecure"));
  }

  @Test
  void insecure_allows_it_and_authentication_makes_it_safe() {
    var ls = List.of(new ListenerSafety.Listener("grpc.listen", "0.0.0.0:50051"));
    assertEquals(ls, ListenerSafety.check(ls, false, true));
    assertEquals(List.of(), ListenerSafety.check(ls, true, false));
    assertEquals(
        List.of(),
        ListenerSafety.check(
            List.of(new ListenerSafety.Listener("x", "127.0.0.1:1")), false, false));
  }
}
