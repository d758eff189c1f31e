package io.polycall.worker;

import io.polycall.wire.proto.Role;
import java.util.Objects;

/**
 * Who a peer says it is in its {@code Hello}: a worker (id and the secret the supervisor gave it)
 * or a client (no proof).
 */
public record PeerCredentials(
    Role role, String workerId, byte[] secret, String language, String sdkVersion, long pid) {

  public PeerCredentials {
    Objects.requireNonNull(role, "role");
    workerId = workerId == null ? "" : workerId;
    secret = secret == null ? new byte[0] : secret.clone();
    language = language == null ? "java" : language;
    sdkVersion = sdkVersion == null ? "" : sdkVersion;
  }

  /** A worker with the id and secret its supervisor gave it. */
  public static PeerCredentials worker(String workerId, byte[] secret) {
    return new PeerCredentials(
        Role.WORKER, workerId, secret, "java", version(), ProcessHandle.current().pid());
  }

  /** A client: calls functions only, proves nothing. */
  public static PeerCredentials client() {
    return new PeerCredentials(
        Role.CLIENT, "", new byte[0], "java", version(), ProcessHandle.current().pid());
  }

  @Override
  public byte[] secret() {
    return secret.clone();
  }

  private static String version() {
    String v = PeerCredentials.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String toString() {
    return "PeerCredentials[" + role + (workerId.isEmpty() ? "" : " " + workerId) + "]";
  }
}
