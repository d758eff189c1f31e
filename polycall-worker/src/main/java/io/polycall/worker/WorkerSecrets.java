package io.polycall.worker;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hub's record of the workers it started: each worker id's secret, and which ids are connected.
 * The supervisor {@link #register registers} a worker before spawning it (passing the secret in
 * {@code POLYCALL_WORKER_SECRET}, hex), and {@link #release releases} it when its connection
 * closes; {@link Handshake#accept} checks proofs against it and refuses a second connection for the
 * same id.
 *
 * <p>Thread-safe; no method blocks.
 */
public final class WorkerSecrets {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Bytes of a worker secret. */
  public static final int SECRET_BYTES = 32;

  private final ConcurrentHashMap<String, byte[]> secrets = new ConcurrentHashMap<>();
  private final Set<String> connected = ConcurrentHashMap.newKeySet();

  /** A fresh random 32-byte secret. */
  public static byte[] newSecret() {
    byte[] s = new byte[SECRET_BYTES];
    RANDOM.nextBytes(s);
    return s;
  }

  /** The secret as the worker's environment carries it ({@code POLYCALL_WORKER_SECRET}). */
  public static String toHex(byte[] secret) {
    return HexFormat.of().formatHex(secret);
  }

  /** Registers (or replaces) the secret of {@code workerId}. */
  public void register(String workerId, byte[] secret) {
    Objects.requireNonNull(workerId, "workerId");
    if (secret.length == 0) {
      throw new IllegalArgumentException("an empty secret proves nothing");
    }
    secrets.put(workerId, secret.clone());
  }

  /** Registers {@code workerId} with a fresh secret and returns the secret. */
  public byte[] register(String workerId) {
    byte[] s = newSecret();
    register(workerId, s);
    return s.clone();
  }

  /** Forgets {@code workerId}: later handshakes with it fail. */
  public void remove(String workerId) {
    secrets.remove(workerId);
    connected.remove(workerId);
  }

  /** Marks {@code workerId} as no longer connected, so that it (or its restart) may connect. */
  public void release(String workerId) {
    connected.remove(workerId);
  }

  /** Whether {@code workerId} holds a connection. */
  public boolean isConnected(String workerId) {
    return connected.contains(workerId);
  }

  byte[] secretOf(String workerId) {
    byte[] s = secrets.get(workerId);
    return s == null ? null : s.clone();
  }

  /** Marks {@code workerId} connected; false when it already was. */
  boolean claim(String workerId) {
    return connected.add(workerId);
  }
}
