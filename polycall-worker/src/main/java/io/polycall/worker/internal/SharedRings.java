package io.polycall.worker.internal;

import io.polycall.worker.SocketDirectory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The file of one connection's shared-memory rings (WIRE.md, feature {@code shm-rings/1}): two
 * {@link ShmRing}s, hub-to-peer first.
 *
 * <pre>
 *  file offset 0                      128 + R                            2 x (128 + R)
 *  +---------+-----------------------+---------+-----------------------+
 *  | header  | data (R bytes)        | header  | data (R bytes)        |
 *  +---------+-----------------------+---------+-----------------------+
 *    ring 0: hub -> peer               ring 1: peer -> hub          R = ring_bytes
 * </pre>
 *
 * <p>The hub {@link #create}s the file (mode 0600, in {@link #directory}) and names it in the
 * {@code Welcome}; the peer {@link #open}s it. Both map it read-write into a shared arena: no
 * native access is needed. The hub {@link #unlink}s the file once the peer has mapped it (its first
 * frame after the Welcome says so); the memory lives on while either side has it mapped.
 *
 * <p>Thread-safe. {@link #close()} unmaps; the caller makes sure no thread is still using a ring (a
 * ring used after close throws IllegalStateException). Idempotent.
 */
public final class SharedRings implements AutoCloseable {
  /** The feature name in {@code Hello.features}. */
  public static final String FEATURE = "shm-rings/1";

  /** R unless configured: 1 MiB each way, so frames up to 256 KiB use the rings. */
  public static final int DEFAULT_RING_BYTES = 1 << 20;

  /** The smallest R WIRE.md allows. */
  public static final int MIN_RING_BYTES = 1 << 16;

  private static final long MAX_RING_BYTES = 1L << 30;

  private final Arena arena;
  private final Path path;
  private final int ringBytes;
  private final boolean hub;
  private final ShmRing outgoing;
  private final ShmRing incoming;
  private final AtomicBoolean unlinked;
  private final AtomicBoolean closed = new AtomicBoolean();

  private SharedRings(Arena arena, MemorySegment file, Path path, int ringBytes, boolean hub) {
    this.arena = arena;
    this.path = path;
    this.ringBytes = ringBytes;
    this.hub = hub;
    long one = ShmRing.HEADER_BYTES + (long) ringBytes;
    ShmRing ring0 = new ShmRing(file.asSlice(0, one), ringBytes, "ring 0 (hub -> peer)");
    ShmRing ring1 = new ShmRing(file.asSlice(one, one), ringBytes, "ring 1 (peer -> hub)");
    this.outgoing = hub ? ring0 : ring1;
    this.incoming = hub ? ring1 : ring0;
    // Only the hub unlinks: the peer's file is the hub's to remove.
    this.unlinked = new AtomicBoolean(!hub);
  }

  /**
   * Where the hub puts ring files: {@code /dev/shm/polycall-<user>/} (memory, never written to
   * disk), created with mode 0700 or checked to be the user's own with that mode; {@code fallback}
   * (the socket directory, already owner-only) when that is not possible.
   */
  public static Path directory(Path fallback) {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      try {
        return SocketDirectory.at(shm.resolve("polycall-" + System.getProperty("user.name")))
            .path();
      } catch (IOException | RuntimeException e) {
        System.getLogger(SharedRings.class.getName())
            .log(
                System.Logger.Level.DEBUG,
                "no ring directory in /dev/shm, using " + fallback + ": " + e);
      }
    }
    return fallback;
  }

  /**
   * The hub side: a new zero-filled file of {@code 2 x (128 + ringBytes)} bytes, mode 0600, in
   * {@code dir}, mapped.
   *
   * @param ringBytes R, a power of two of at least {@link #MIN_RING_BYTES}
   */
  public static SharedRings create(Path dir, int ringBytes) throws IOException {
    checkRingBytes(ringBytes);
    Path file =
        Files.createTempFile(
            dir,
            "rings-",
            "",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      return map(file, ringBytes, true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /**
   * The peer side: maps the hub's file, which must be exactly {@code 2 x (128 + ringBytes)} bytes.
   *
   * @throws IOException the file is missing, of another size, or cannot be mapped
   */
  public static SharedRings open(Path file, int ringBytes) throws IOException {
    try {
      checkRingBytes(ringBytes);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    return map(file, ringBytes, false);
  }

  private static SharedRings map(Path file, int ringBytes, boolean hub) throws IOException {
    long size = 2 * (ShmRing.HEADER_BYTES + (long) ringBytes);
    Arena arena = Arena.ofShared();
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (hub) {
        // Sized by writing its last byte: the rest reads as zeros (a sparse file on tmpfs).
        ch.write(ByteBuffer.allocate(1), size - 1);
      } else if (ch.size() != size) {
        throw new IOException(
            file + " has " + ch.size() + " bytes; rings of " + ringBytes + " need " + size);
      }
      MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
      return new SharedRings(arena, seg, file, ringBytes, hub);
    } catch (IOException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  private static void checkRingBytes(int ringBytes) {
    if (Integer.bitCount(ringBytes) != 1
        || ringBytes < MIN_RING_BYTES
        || ringBytes > MAX_RING_BYTES) {
      throw new IllegalArgumentException(
          "ring_bytes must be a power of two from 65536 to 2^30: " + ringBytes);
    }
  }

  /** The file (it may already be unlinked). */
  public Path path() {
    return path;
  }

  /** R, the data bytes of each ring. */
  public int ringBytes() {
    return ringBytes;
  }

  /** Whether this side created the file (the hub). */
  public boolean isHub() {
    return hub;
  }

  /** The ring this side produces on: ring 0 for the hub, ring 1 for the peer. */
  public ShmRing outgoing() {
    return outgoing;
  }

  /** The ring this side consumes: ring 1 for the hub, ring 0 for the peer. */
  public ShmRing incoming() {
    return incoming;
  }

  /** Removes the file, on the hub side; the mapping stays. Idempotent; never throws. */
  public void unlink() {
    if (unlinked.compareAndSet(false, true)) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        System.getLogger(SharedRings.class.getName())
            .log(System.Logger.Level.WARNING, "cannot remove ring file " + path + ": " + e);
      }
    }
  }

  /** Unlinks (hub side) and unmaps. Idempotent. */
  @Override
  public void close() {
    unlink();
    if (closed.compareAndSet(false, true)) {
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "SharedRings[" + path + ", R=" + ringBytes + (hub ? ", hub" : ", peer") + "]";
  }
}
