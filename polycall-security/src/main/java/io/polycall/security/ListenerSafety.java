package io.polycall.security;

import io.polycall.Status;
import io.polycall.StatusException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The safe default for network listeners: a node reachable from other machines must know who is
 * calling. A listener bound to anything but loopback (127.0.0.0/8, ::1, localhost) is refused
 * unless authentication is configured, or the operator said {@code --insecure}, which is logged at
 * WARNING. Stateless and thread-safe.
 */
public final class ListenerSafety {
  private static final System.Logger LOG = System.getLogger(ListenerSafety.class.getName());

  private ListenerSafety() {}

  /** One listener: what it is ({@code grpc.listen}, {@code --http}) and its {@code host:port}. */
  public record Listener(String name, String address) {}

  /**
   * Whether {@code address} ({@code host:port}, {@code [v6]:port} or a bare host) only accepts
   * connections from this machine. An empty host, {@code 0.0.0.0}, {@code ::} and any other name
   * are not loopback: a host name may resolve elsewhere tomorrow.
   */
  public static boolean isLoopback(String address) {
    String host = host(address).toLowerCase(Locale.ROOT);
    if (host.equals("localhost") || host.equals("::1") || host.equals("0:0:0:0:0:0:0:1")) {
      return true;
    }
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4 || !parts[0].equals("127")) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
        return false;
      }
      if (Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  private static String host(String address) {
    String a = address.trim();
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      return end < 0 ? a : a.substring(1, end);
    }
    int colon = a.lastIndexOf(':');
    // A bare IPv6 address has several colons and no port.
    if (colon >= 0 && a.indexOf(':') == colon) {
      return a.substring(0, colon);
    }
    return a;
  }

  /**
   * Refuses to go on when a listener is exposed and nothing authenticates its callers.
   *
   * @param authenticated whether the node checks credentials (security.authentication)
   * @param insecure whether the operator accepted the risk ({@code polycall serve --insecure})
   * @return the exposed listeners (empty when all are loopback), for reminders in the logs
   * @throws StatusException FAILED_PRECONDITION naming the listeners and the two ways out
   */
  public static List<Listener> check(
      List<Listener> listeners, boolean authenticated, boolean insecure) {
    List<Listener> exposed = new ArrayList<>();
    for (Listener l : listeners) {
      if (!isLoopback(l.address())) {
        exposed.add(l);
      }
    }
    if (exposed.isEmpty() || authenticated) {
      return authenticated ? List.of() : exposed;
    }
    if (!insecure) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "refusing to listen on "
                  + describe(exposed)
                  + " without authentication: anyone who can reach "
                  + (exposed.size() == 1 ? "it" : "them")
                  + " could call every function. Configure security.authentication (see"
                  + " docs/security.md), listen on 127.0.0.1, or start with --insecure to accept"
                  + " the risk")
          .asException();
    }
    warn(exposed);
    return exposed;
  }

  /** The loud line an insecure node logs at start and repeats while it runs. */
  public static void warn(List<Listener> exposed) {
    LOG.log(
        Level.WARNING,
        "INSECURE: listening on {0} WITHOUT AUTHENTICATION (--insecure); anyone who can reach"
            + " this node can call its functions",
        describe(exposed));
  }

  private static String describe(List<Listener> ls) {
    List<String> out = new ArrayList<>();
    for (Listener l : ls) {
      out.add(l.address() + " (" + l.name() + ")");
    }
    return String.join(", ", out);
  }
}
