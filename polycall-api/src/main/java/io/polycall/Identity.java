package io.polycall;

import java.util.Map;
import java.util.Objects;

/**
 * Who is calling: the subject a transport or an authenticator vouched for, how it was proven, and
 * what the proof said (token claims, certificate fields, worker pool).
 *
 * <p>An identity travels in {@link CallOptions#identity()}. Only code that verified a credential
 * sets it: a transport from its channel (a worker's handshake, a Unix socket's peer credentials, an
 * mTLS certificate) or the authentication interceptor from a token. Remote peers cannot set it:
 * metadata they send stays metadata. Authorization decides on the identity alone.
 *
 * @param subject the verified name, e.g. {@code alice}, {@code worker:py-stats}; empty for {@link
 *     #ANONYMOUS}
 * @param method how it was proven: {@link #JWT}, {@link #MTLS}, {@link #WORKER}, {@link #UNIX},
 *     {@link #LOCAL}, or {@link #NONE}
 * @param attributes what the proof carried (claims such as {@code iss}, {@code roles}); never
 *     secrets
 */
public record Identity(String subject, String method, Map<String, String> attributes) {
  /** A bearer token (JWT) checked by the authentication interceptor. */
  public static final String JWT = "jwt";

  /** A client certificate checked by TLS (gRPC with mTLS). */
  public static final String MTLS = "mtls";

  /** A worker process that proved its per-worker secret at handshake. */
  public static final String WORKER = "worker";

  /** A process of the node's own user, by the Unix socket's peer credentials. */
  public static final String UNIX = "unix";

  /** The program that embeds the node, named by its configuration. */
  public static final String LOCAL = "local";

  /** Nothing was proven. */
  public static final String NONE = "none";

  /** No credential at all: deny-by-default policies refuse it with UNAUTHENTICATED. */
  public static final Identity ANONYMOUS = new Identity("", NONE, Map.of());

  public Identity {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(method, "method");
    attributes = Map.copyOf(attributes);
  }

  /** An identity without attributes. */
  public static Identity of(String subject, String method) {
    return new Identity(subject, method, Map.of());
  }

  /** Whether some credential was verified (anything but {@link #ANONYMOUS}). */
  public boolean isAuthenticated() {
    return !method.equals(NONE);
  }

  /** The identity of worker {@code workerId} in pool {@code pool}: subject {@code worker:pool}. */
  public static Identity worker(String pool, String workerId) {
    return new Identity("worker:" + pool, WORKER, Map.of("worker_id", workerId));
  }

  @Override
  public String toString() {
    return isAuthenticated() ? subject + " (" + method + ")" : "anonymous";
  }
}
