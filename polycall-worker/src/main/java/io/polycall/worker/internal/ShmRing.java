package io.polycall.worker.internal;

import io.polycall.wire.ProtocolException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One single-producer, single-consumer ring of frames in shared memory (WIRE.md, "Shared-memory
 * rings"): a 128-byte header and {@code R} data bytes.
 *
 * <pre>
 *  header (128 bytes; little-endian, naturally aligned)
 *  0        8                        64       72       76                128
 *  +--------+------------------------+--------+--------+-----------------+
 *  | tail   | (padding)              | head   | awake  | (padding)       |
 *  | u64    |                        | u64    | u32    |                 |
 *  +--------+------------------------+--------+--------+-----------------+
 *    written by the producer only      written by the consumer only (another cache line)
 *
 *  a record in the data area, at (position mod R); positions only grow
 *  0        4                     4 + length        padded to a multiple of 8
 *  +--------+---------------------+-----------+
 *  | length | Frame (protobuf)    | (padding) |
 *  | u32 LE |                     |           |
 *  +--------+---------------------+-----------+
 *  length 0xFFFFFFFF: skip marker, the record continues at the start of the data area
 * </pre>
 *
 * <p>Publishing: write the record, store {@code tail} (release), full fence, load {@code awake}: 0
 * means the consumer may be asleep and needs a {@code Wake} on the socket. Going to sleep: store
 * {@code awake = 0}, full fence, load {@code tail}: a record there must still be consumed. The two
 * fences make sure that at least one side sees the other's store (Dekker's handshake), so a record
 * is never left unseen while its consumer blocks on the socket.
 *
 * <p>Hot paths never throw for back-pressure: {@link #offer} returns {@link #REFUSED} and the
 * caller uses the socket. A malformed record ({@link #poll}) is a {@link ProtocolException}: the
 * peer wrote it, and the connection ends as for bad bytes on the socket.
 *
 * <p>Not thread-safe: one producer thread at a time ({@link #offer}) and one consumer thread at a
 * time (everything else), each serialized by the caller's lock. Never blocks.
 */
public final class ShmRing {
  /** Bytes of the header before the data area. */
  public static final int HEADER_BYTES = 128;

  /** {@link #offer}: not on the ring (consumer not awake, no room, too big): use the socket. */
  public static final int REFUSED = 0;

  /** {@link #offer}: published, and the consumer is awake. */
  public static final int PUBLISHED = 1;

  /** {@link #offer}: published, but the consumer may be asleep: send {@code Wake} on the socket. */
  public static final int PUBLISHED_ASLEEP = 2;

  private static final long TAIL = 0;
  private static final long HEAD = 64;
  private static final long AWAKE = 72;
  private static final int LENGTH_BYTES = 4;
  private static final int SKIP = 0xFFFFFFFF;

  private static final VarHandle U64 =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
  private static final VarHandle U32 =
      ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
  private static final ValueLayout.OfInt LENGTH =
      ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final MemorySegment header;
  private final MemorySegment data;
  private final int ringBytes;
  private final long mask;
  private final int maxRecordBytes;
  private final String name;

  // Each side's own copy of the position it alone writes (the shared one is only ever stored).
  private long tail; // producer
  private long head; // consumer

  /**
   * The ring at {@code segment} (header then data), with {@code tail} and {@code head} as found
   * there (0 in a new file).
   *
   * @param ringBytes R: a power of two
   * @param name for error messages ("ring 1")
   */
  ShmRing(MemorySegment segment, int ringBytes, String name) {
    if (Integer.bitCount(ringBytes) != 1 || ringBytes < 64) {
      throw new IllegalArgumentException("ring_bytes must be a power of two: " + ringBytes);
    }
    if (segment.byteSize() != HEADER_BYTES + (long) ringBytes) {
      throw new IllegalArgumentException("a ring of " + ringBytes + " needs its header too");
    }
    this.header = segment.asSlice(0, HEADER_BYTES);
    this.data = segment.asSlice(HEADER_BYTES, ringBytes);
    this.ringBytes = ringBytes;
    this.mask = ringBytes - 1L;
    this.maxRecordBytes = ringBytes / 4;
    this.name = name;
    this.tail = (long) U64.getAcquire(header, TAIL);
    this.head = (long) U64.getAcquire(header, HEAD);
  }

  /** R, the data bytes. */
  public int ringBytes() {
    return ringBytes;
  }

  /** The largest record (length, frame, padding) that goes on this ring: R / 4. */
  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  // ---- producer -------------------------------------------------------------------------------

  /**
   * Publishes the frame {@code bytes[offset, offset + length)} (a protobuf {@code Frame}, no length
   * prefix) when the consumer is awake, its record fits in R / 4, and there is room now.
   *
   * @return {@link #PUBLISHED}, {@link #PUBLISHED_ASLEEP} (send a Wake), or {@link #REFUSED} (send
   *     the frame on the socket instead)
   */
  public int offer(byte[] bytes, int offset, int length) {
    if (length <= 0 || length > maxRecordBytes - LENGTH_BYTES) {
      return REFUSED;
    }
    int record = align8(LENGTH_BYTES + length);
    if (record > maxRecordBytes || (int) U32.getAcquire(header, AWAKE) == 0) {
      return REFUSED;
    }
    long h = (long) U64.getAcquire(header, HEAD);
    long used = tail - h;
    if (used < 0 || used > ringBytes) {
      return REFUSED; // a head the consumer cannot have written: keep out of its way
    }
    int at = (int) (tail & mask);
    int toEnd = ringBytes - at;
    long needed = record <= toEnd ? record : (long) toEnd + record;
    if (needed > ringBytes - used) {
      return REFUSED;
    }
    long pos = tail;
    if (record > toEnd) {
      // Records never wrap: mark the rest of the data area skipped (positions are 8-aligned, so
      // at least the 4 bytes of a length remain) and start over at 0.
      data.set(LENGTH, at, SKIP);
      pos += toEnd;
      at = 0;
    }
    data.set(LENGTH, at, length);
    MemorySegment.copy(bytes, offset, data, ValueLayout.JAVA_BYTE, at + LENGTH_BYTES, length);
    tail = pos + record;
    U64.setRelease(header, TAIL, tail);
    VarHandle.fullFence();
    return (int) U32.getVolatile(header, AWAKE) == 0 ? PUBLISHED_ASLEEP : PUBLISHED;
  }

  /** Whether the consumer of this ring says it is polling (the producer's view). */
  public boolean consumerAwake() {
    return (int) U32.getAcquire(header, AWAKE) != 0;
  }

  // ---- consumer -------------------------------------------------------------------------------

  /** Says "polling now": the producer may put frames on the ring. */
  public void wake() {
    U32.setRelease(header, AWAKE, 1);
  }

  /**
   * Says "not polling any more" and looks once more: true when a record arrived meanwhile, which
   * the caller must consume (after {@link #wake()}) before it blocks on the socket.
   */
  public boolean sleep() {
    U32.setVolatile(header, AWAKE, 0);
    VarHandle.fullFence();
    return (long) U64.getAcquire(header, TAIL) != head;
  }

  /** Whether a record waits (a load-acquire of {@code tail}). */
  public boolean hasRecords() {
    return (long) U64.getAcquire(header, TAIL) != head;
  }

  /** The producer's {@code tail} now: every record published so far ends at or before it. */
  public long tail() {
    return (long) U64.getAcquire(header, TAIL);
  }

  /** The consumer's {@code head}: the position after the last record consumed. */
  public long head() {
    return head;
  }

  /**
   * Consumes the next record: its frame in the socket's form, a 4-byte big-endian length and the
   * protobuf bytes (what {@link io.polycall.wire.FrameReader#feed} takes), or null when the ring is
   * empty. The record's space is given back before this returns.
   *
   * @throws ProtocolException the producer broke the ring's rules: a length of 0 or above R / 4, a
   *     record beyond {@code tail} or across the end of the data area, a {@code tail} behind {@code
   *     head} or more than R ahead of it
   */
  public byte[] poll() throws ProtocolException {
    while (true) {
      long t = (long) U64.getAcquire(header, TAIL);
      if (t == head) {
        return null;
      }
      long ahead = t - head;
      if (ahead < 0 || ahead > ringBytes || (t & 7) != 0) {
        throw broken("tail " + t + " with head at " + head);
      }
      int at = (int) (head & mask);
      int toEnd = ringBytes - at;
      int length = data.get(LENGTH, at);
      if (length == SKIP) {
        if (toEnd > ahead) {
          throw broken("a skip marker at " + head + " goes beyond tail " + t);
        }
        head += toEnd;
        U64.setRelease(header, HEAD, head);
        continue;
      }
      if (length == 0) {
        throw broken("a record of length 0 at " + head);
      }
      if (length < 0 || length > maxRecordBytes) {
        throw broken(
            "a record of length "
                + Integer.toUnsignedString(length)
                + " at "
                + head
                + ", above R / 4 = "
                + maxRecordBytes);
      }
      int record = align8(LENGTH_BYTES + length);
      if (record > ahead) {
        throw broken("a record of " + record + " bytes at " + head + " goes beyond tail " + t);
      }
      if (record > toEnd) {
        throw broken("a record of " + record + " bytes at " + head + " wraps around the end");
      }
      byte[] out = new byte[LENGTH_BYTES + length];
      out[0] = (byte) (length >>> 24);
      out[1] = (byte) (length >>> 16);
      out[2] = (byte) (length >>> 8);
      out[3] = (byte) length;
      MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at + LENGTH_BYTES, out, LENGTH_BYTES, length);
      head += record;
      U64.setRelease(header, HEAD, head);
      return out;
    }
  }

  private ProtocolException broken(String what) {
    return ProtocolException.invalid(name + " of the shared-memory rings is broken: " + what);
  }

  static int align8(int n) {
    return (n + 7) & ~7;
  }

  @Override
  public String toString() {
    return "ShmRing[" + name + ", R=" + ringBytes + ", head=" + head + ", tail=" + tail + "]";
  }
}
