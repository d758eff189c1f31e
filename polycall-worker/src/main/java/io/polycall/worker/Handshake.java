package io.polycall.worker;

import com.google.protobuf.ByteString;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.wire.FrameReader;
import io.polycall.wire.FrameWriter;
import io.polycall.wire.ProtocolException;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.WireLimits;
import io.polycall.wire.proto.Challenge;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.GoAway;
import io.polycall.wire.proto.Hello;
import io.polycall.wire.proto.Role;
import io.polycall.wire.proto.Welcome;
import io.polycall.worker.internal.SharedRings;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The handshake that opens every connection, hub side ({@link #accept}) and peer side ({@link
 * #connect}):
 *
 * <pre>
 *   peer (worker or client)                         hub
 *      |  ------------- connect ------------------->  |
 *      |  &lt;------------ Challenge{nonce, versions}    |  32 random bytes, fresh per connection
 *      |  Hello{version, role, worker_id, proof,      |
 *      |        language, sdk_version, pid} -------&gt;  |  proof = HMAC-SHA256(secret,
 *      |                                              |            nonce || UTF-8(worker_id))
 *      |  &lt;------------ Welcome{version, limits}      |  or GoAway{UNAUTHENTICATED}, close
 * </pre>
 *
 * <p>A peer that lists {@code "shm-rings/1"} in {@code Hello.features} gets shared-memory rings
 * beside the socket when the hub offers them ({@link RingFactory}): the hub creates the file and
 * names it in {@code Welcome.rings}, the peer maps it (WIRE.md, "Shared-memory rings"). Both hand
 * them to {@link Connection.Builder#rings}.
 *
 * <p>Both methods block on the socket until the handshake is done; a peer that never answers holds
 * the calling thread, so callers close the channel from elsewhere after their own timeout. On
 * failure the channel is closed (after a {@code GoAway} where WIRE.md asks for one). On success,
 * hand the returned {@link FrameReader} to {@link Connection.Builder#reader}: it may already hold
 * frames that followed the handshake.
 *
 * <p>Stateless and thread-safe.
 */
public final class Handshake {
  /** The protocol version this implementation speaks. */
  public static final int VERSION = 1;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final System.Logger LOG = System.getLogger(Handshake.class.getName());

  private Handshake() {}

  /**
   * Makes the shared-memory rings for a peer that offers them, or declines (null). Called by {@link
   * #accept} on the handshaking thread, after the peer's proof was checked.
   */
  @FunctionalInterface
  public interface RingFactory {
    /** Rings for this peer, or null for the socket only. */
    SharedRings create(Hello hello) throws IOException;

    /** Rings of {@code ringBytes} each way for every peer, files in {@code directory}. */
    static RingFactory in(Path directory, int ringBytes) {
      return hello -> SharedRings.create(directory, ringBytes);
    }
  }

  /**
   * What the hub learned from a peer that passed the handshake.
   *
   * @param rings the shared-memory rings named in the Welcome, or null
   */
  public record Accepted(Hello hello, FrameReader reader, WireLimits limits, SharedRings rings) {
    public Role role() {
      return hello.getRole();
    }

    /** The worker id; empty for a client. */
    public String workerId() {
      return hello.getWorkerId();
    }
  }

  /**
   * What a peer learned from the hub's Welcome.
   *
   * @param rings the hub's shared-memory rings, mapped, or null
   */
  public record Welcomed(
      Welcome welcome, FrameReader reader, WireLimits limits, SharedRings rings) {}

  /**
   * The hub side: sends a Challenge, checks the Hello, answers Welcome.
   *
   * @param secrets the workers the hub started; a worker's proof is checked against its secret in
   *     constant time, and a worker id already connected is refused
   * @param allowClients whether peers with role CLIENT are let in (the socket directory's mode is
   *     their authentication)
   * @param limits the limits announced in the Welcome, binding both directions
   * @throws StatusException UNAUTHENTICATED (wrong or missing proof, unknown or already connected
   *     worker id, a client where none is allowed), after GoAway{UNAUTHENTICATED};
   *     FAILED_PRECONDITION when the peer closed without a Hello (no common protocol version)
   * @throws ProtocolException the peer sent something other than a Hello, after
   *     GoAway{INVALID_ARGUMENT}
   * @throws IOException the socket failed
   */
  public static Accepted accept(
      SocketChannel channel,
      WorkerSecrets secrets,
      boolean allowClients,
      WireLimits limits,
      String nodeId)
      throws IOException {
    return accept(channel, secrets, allowClients, limits, nodeId, null);
  }

  /**
   * {@link #accept(SocketChannel, WorkerSecrets, boolean, WireLimits, String)}, offering
   * shared-memory rings from {@code rings} (null: never) to a peer whose Hello lists {@code
   * "shm-rings/1"}. A factory that fails is logged and the peer gets the socket only.
   */
  public static Accepted accept(
      SocketChannel channel,
      WorkerSecrets secrets,
      boolean allowClients,
      WireLimits limits,
      String nodeId,
      RingFactory rings)
      throws IOException {
    FrameWriter out = FrameWriter.of(channel, limits);
    FrameReader in = FrameReader.of(limits);
    byte[] nonce = new byte[32];
    RANDOM.nextBytes(nonce);
    boolean ok = false;
    try {
      out.write(
          Frame.newBuilder()
              .setChallenge(
                  Challenge.newBuilder().setNonce(ByteString.copyFrom(nonce)).addVersions(VERSION))
              .build());
      Frame f;
      try {
        f = in.read(channel);
      } catch (ProtocolException e) {
        refuse(out, e.status());
        throw e;
      }
      if (f == null) {
        throw Status.FAILED_PRECONDITION
            .withDescription("peer closed the connection before Hello: no common protocol version")
            .asException();
      }
      if (f.getBodyCase() != Frame.BodyCase.HELLO) {
        ProtocolException e =
            ProtocolException.invalid("expected Hello, got " + f.getBodyCase() + " before Welcome");
        refuse(out, e.status());
        throw e;
      }
      Hello hello = f.getHello();
      if (hello.getVersion() != VERSION) {
        Status s =
            Status.FAILED_PRECONDITION.withDescription(
                "no common protocol version: hub speaks "
                    + VERSION
                    + ", peer chose "
                    + hello.getVersion());
        refuse(out, s);
        throw s.asException();
      }
      Status denied = authenticate(hello, nonce, secrets, allowClients);
      if (denied != null) {
        refuse(out, denied);
        throw denied.asException();
      }
      SharedRings shared = null;
      try {
        Welcome.Builder welcome =
            Welcome.newBuilder()
                .setVersion(VERSION)
                .setLimits(limits.toProto())
                .setNodeId(nodeId == null ? "" : nodeId);
        if (rings != null && hello.getFeaturesList().contains(SharedRings.FEATURE)) {
          try {
            shared = rings.create(hello);
          } catch (IOException | RuntimeException e) {
            LOG.log(
                System.Logger.Level.WARNING,
                "no shared-memory rings for pid " + hello.getPid() + ", socket only: " + e);
          }
          if (shared != null) {
            welcome.setRings(
                io.polycall.wire.proto.SharedRings.newBuilder()
                    .setPath(shared.path().toString())
                    .setRingBytes(shared.ringBytes()));
          }
        }
        out.write(Frame.newBuilder().setWelcome(welcome).build());
      } catch (IOException | RuntimeException e) {
        if (shared != null) {
          shared.close();
        }
        if (hello.getRole() == Role.WORKER) {
          secrets.release(hello.getWorkerId());
        }
        throw e;
      }
      ok = true;
      return new Accepted(hello, in, limits, shared);
    } finally {
      if (!ok) {
        channel.close();
      }
    }
  }

  private static Status authenticate(
      Hello hello, byte[] nonce, WorkerSecrets secrets, boolean allowClients) {
    switch (hello.getRole()) {
      case CLIENT -> {
        return allowClients
            ? null
            : Status.UNAUTHENTICATED.withDescription("this socket accepts workers only");
      }
      case WORKER -> {
        String id = hello.getWorkerId();
        byte[] secret = secrets.secretOf(id);
        if (secret == null) {
          return Status.UNAUTHENTICATED.withDescription("unknown worker id " + quote(id));
        }
        byte[] expected = proof(secret, nonce, id);
        // Constant time: the comparison must not tell an attacker how many bytes were right.
        if (!MessageDigest.isEqual(expected, hello.getProof().toByteArray())) {
          return Status.UNAUTHENTICATED.withDescription("wrong proof for worker " + quote(id));
        }
        if (!secrets.claim(id)) {
          return Status.UNAUTHENTICATED.withDescription(
              "worker " + quote(id) + " is already connected");
        }
        return null;
      }
      default -> {
        return Status.UNAUTHENTICATED.withDescription(
            "Hello has no role (" + hello.getRoleValue() + ")");
      }
    }
  }

  /**
   * The peer side: reads the Challenge, answers Hello (with a proof for a worker), reads the
   * Welcome.
   *
   * @throws StatusException the hub refused (its GoAway status, usually UNAUTHENTICATED);
   *     FAILED_PRECONDITION when the hub speaks no version this peer knows (the channel is closed
   *     without a word, as WIRE.md says)
   * @throws ProtocolException the hub sent something else than the handshake expects
   * @throws IOException the socket failed or closed
   */
  public static Welcomed connect(SocketChannel channel, PeerCredentials me) throws IOException {
    return connect(channel, me, false);
  }

  /**
   * {@link #connect(SocketChannel, PeerCredentials)}, offering {@code "shm-rings/1"} when {@code
   * offerRings}: if the hub names a ring file, it is mapped and returned in {@link
   * Welcomed#rings()}; a file that cannot be mapped is logged and the socket alone is used.
   */
  public static Welcomed connect(SocketChannel channel, PeerCredentials me, boolean offerRings)
      throws IOException {
    FrameReader in = FrameReader.of(WireLimits.DEFAULT);
    FrameWriter out = FrameWriter.of(channel, WireLimits.DEFAULT);
    boolean ok = false;
    try {
      Frame f = in.read(channel);
      if (f == null) {
        throw new IOException("hub closed the connection before its Challenge");
      }
      if (f.getBodyCase() != Frame.BodyCase.CHALLENGE) {
        throw ProtocolException.invalid("expected Challenge, got " + f.getBodyCase());
      }
      Challenge c = f.getChallenge();
      if (!c.getVersionsList().contains(VERSION)) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                "no common protocol version: hub speaks " + c.getVersionsList() + ", we " + VERSION)
            .asException();
      }
      Hello.Builder hello =
          Hello.newBuilder()
              .setVersion(VERSION)
              .setRole(me.role())
              .setLanguage(me.language())
              .setSdkVersion(me.sdkVersion())
              .setPid((int) me.pid());
      if (offerRings) {
        hello.addFeatures(SharedRings.FEATURE);
      }
      if (me.role() == Role.WORKER) {
        hello
            .setWorkerId(me.workerId())
            .setProof(
                ByteString.copyFrom(proof(me.secret(), c.getNonce().toByteArray(), me.workerId())));
      }
      out.write(Frame.newBuilder().setHello(hello).build());
      Frame answer = in.read(channel);
      if (answer == null) {
        throw new IOException("hub closed the connection before its Welcome");
      }
      switch (answer.getBodyCase()) {
        case WELCOME -> {
          WireLimits limits = WireLimits.fromProto(answer.getWelcome().getLimits());
          SharedRings shared = null;
          if (offerRings && answer.getWelcome().hasRings()) {
            var r = answer.getWelcome().getRings();
            try {
              shared = SharedRings.open(Path.of(r.getPath()), r.getRingBytes());
            } catch (IOException | RuntimeException e) {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "cannot map the shared-memory rings " + r.getPath() + ", socket only: " + e);
            }
          }
          ok = true;
          // Frames after the Welcome are read with the limits it announced.
          return new Welcomed(answer.getWelcome(), withLimits(in, limits), limits, shared);
        }
        case GOAWAY -> throw StatusCodec.decode(answer.getGoaway().getStatus()).asException();
        default -> throw ProtocolException.invalid("expected Welcome, got " + answer.getBodyCase());
      }
    } finally {
      if (!ok) {
        channel.close();
      }
    }
  }

  /**
   * {@code HMAC-SHA256(secret, nonce || UTF-8(workerId))}, the proof a worker sends in its Hello.
   */
  public static byte[] proof(byte[] secret, byte[] nonce, String workerId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(nonce);
      return mac.doFinal(workerId.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  private static FrameReader withLimits(FrameReader in, WireLimits limits) {
    // Keep the same reader: it may already hold frames the hub sent right after the Welcome.
    in.setLimits(limits);
    return in;
  }

  private static void refuse(FrameWriter out, Status s) {
    try {
      out.write(
          Frame.newBuilder()
              .setGoaway(GoAway.newBuilder().setStatus(StatusCodec.encode(s)))
              .build());
    } catch (IOException | RuntimeException e) {
      // The peer is gone already; the channel is closed next anyway.
    }
  }

  private static String quote(String s) {
    return '"' + s + '"';
  }
}
