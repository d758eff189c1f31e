package io.polycall.worker.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.wire.ProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShmRingTest {
  private static final int R = SharedRings.MIN_RING_BYTES;

  @TempDir Path dir;
  private SharedRings hub;
  private SharedRings peer;
  private ShmRing producer; // ring 0, the hub's side
  private ShmRing consumer; // ring 0, the peer's side

  @BeforeEach
  void setUp() throws IOException {
    hub = SharedRings.create(dir, R);
    peer = SharedRings.open(hub.path(), R);
    producer = hub.outgoing();
    consumer = peer.incoming();
  }

  @AfterEach
  void tearDown() {
    hub.close();
    peer.close();
  }

  private static byte[] frame(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed + i);
    }
    return b;
  }

  /** The body of a polled record (after its 4-byte big-endian length), checking that length. */
  private static byte[] body(byte[] polled) {
    int length = ByteBuffer.wrap(polled).getInt();
    assertEquals(polled.length - 4, length, "the big-endian prefix is the frame's length");
    return Arrays.copyOfRange(polled, 4, polled.length);
  }

  @Test
  void theFileIsTwoRingsOfHeaderAndDataWithOwnerOnlyMode() throws IOException {
    assertEquals(2 * (128 + R), Files.size(hub.path()));
    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(hub.path())));
    assertTrue(hub.path().startsWith(dir));
  }

  @Test
  void ringFilesGoInAnOwnerOnlyDirectoryInDevShmOrTheFallback() throws IOException {
    Path d = SharedRings.directory(dir);
    if (!d.equals(dir)) {
      assertEquals(Path.of("/dev/shm", "polycall-" + System.getProperty("user.name")), d);
    }
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)));
  }

  @Test
  void unlinkingRemovesTheFileButBothMappingsKeepWorking() throws ProtocolException {
    hub.unlink();
    assertFalse(Files.exists(hub.path()));
    consumer.wake();
    assertEquals(ShmRing.PUBLISHED, producer.offer(frame(10, 1), 0, 10));
    assertArrayEquals(frame(10, 1), body(consumer.poll()));
  }

  @Test
  void aFrameOfferedToAnAwakeConsumerIsPolledBackWhole() throws ProtocolException {
    consumer.wake();
    byte[] f = frame(13, 7);
    assertEquals(ShmRing.PUBLISHED, producer.offer(f, 0, f.length));
    assertTrue(consumer.hasRecords());
    assertArrayEquals(f, body(consumer.poll()));
    assertNull(consumer.poll());
    assertEquals(24, consumer.head(), "4 + 13 bytes padded to 8");
  }

  @Test
  void aRecordThatDoesNotFitBeforeTheEndGoesToTheStartAfterASkipMarker() throws ProtocolException {
    consumer.wake();
    int big = R / 4 - 4; // records of exactly R / 4 bytes
    for (int i = 0; i < 3; i++) {
      assertEquals(ShmRing.PUBLISHED, producer.offer(frame(big, i), 0, big));
      assertArrayEquals(frame(big, i), body(consumer.poll()));
    }
    byte[] small = frame(100, 9);
    assertEquals(ShmRing.PUBLISHED, producer.offer(small, 0, small.length)); // at 3R/4
    assertArrayEquals(small, body(consumer.poll()));
    // 3R/4 + 104 is taken; a record of R/4 no longer fits before the end.
    assertEquals(ShmRing.PUBLISHED, producer.offer(frame(big, 5), 0, big));
    assertEquals(R + R / 4, producer.tail(), "the skipped bytes count as used");
    assertArrayEquals(frame(big, 5), body(consumer.poll()));
    assertEquals(R + R / 4, consumer.head());
    assertNull(consumer.poll());
  }

  @Test
  void anAsleepConsumerGetsNothingOnTheRing() {
    assertEquals(ShmRing.REFUSED, producer.offer(frame(8, 0), 0, 8), "never woken");
    consumer.wake();
    assertFalse(consumer.sleep(), "nothing arrived meanwhile");
    assertEquals(ShmRing.REFUSED, producer.offer(frame(8, 0), 0, 8), "asleep again");
    assertFalse(consumer.hasRecords());
  }

  @Test
  void aRecordAboveAQuarterOfTheRingGoesOnTheSocket() {
    consumer.wake();
    int tooBig = R / 4 - 4 + 1;
    assertEquals(ShmRing.REFUSED, producer.offer(frame(tooBig, 0), 0, tooBig));
    assertEquals(ShmRing.REFUSED, producer.offer(new byte[0], 0, 0), "an empty frame");
    assertEquals(0, producer.tail());
  }

  @Test
  void aFullRingRefusesUntilTheConsumerMakesRoom() throws ProtocolException {
    consumer.wake();
    int big = R / 4 - 4;
    for (int i = 0; i < 4; i++) {
      assertEquals(ShmRing.PUBLISHED, producer.offer(frame(big, i), 0, big));
    }
    assertEquals(ShmRing.REFUSED, producer.offer(frame(8, 0), 0, 8), "no room");
    assertArrayEquals(frame(big, 0), body(consumer.poll()));
    assertEquals(ShmRing.PUBLISHED, producer.offer(frame(8, 0), 0, 8));
  }

  @Test
  void sleepingConsumerSeesARecordPublishedJustBefore() {
    consumer.wake();
    assertEquals(ShmRing.PUBLISHED, producer.offer(frame(8, 0), 0, 8));
    assertTrue(consumer.sleep(), "a record waits: consume it before blocking");
  }

  // ---- malformed records: the peer wrote bytes of its own into the shared file ---------------

  /** Writes little-endian longs/ints into ring 0 of the file, as a misbehaving hub could. */
  private void poke(long offset, long value, int size) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    if (size == 8) {
      b.putLong(value);
    } else {
      b.putInt((int) value);
    }
    b.flip();
    try (FileChannel ch = FileChannel.open(hub.path(), StandardOpenOption.WRITE)) {
      ch.write(b, offset);
    }
  }

  private static final long TAIL = 0;
  private static final long DATA = 128;

  @Test
  void aRecordOfLengthZeroIsAProtocolError() throws IOException {
    poke(DATA, 0, 4);
    poke(TAIL, 8, 8);
    ProtocolException e = assertThrows(ProtocolException.class, consumer::poll);
    assertTrue(e.getMessage().contains("length 0"), e.getMessage());
  }

  @Test
  void aRecordLongerThanAQuarterOfTheRingIsAProtocolError() throws IOException {
    poke(DATA, R / 4 + 1, 4);
    poke(TAIL, R / 2, 8);
    ProtocolException e = assertThrows(ProtocolException.class, consumer::poll);
    assertTrue(e.getMessage().contains("above R / 4"), e.getMessage());
  }

  @Test
  void aRecordBeyondTailIsAProtocolError() throws IOException {
    poke(DATA, 100, 4);
    poke(TAIL, 64, 8);
    ProtocolException e = assertThrows(ProtocolException.class, consumer::poll);
    assertTrue(e.getMessage().contains("beyond tail"), e.getMessage());
  }

  @Test
  void aSkipMarkerBeyondTailIsAProtocolError() throws IOException {
    poke(DATA, 0xFFFFFFFFL, 4);
    poke(TAIL, 64, 8);
    ProtocolException e = assertThrows(ProtocolException.class, consumer::poll);
    assertTrue(e.getMessage().contains("skip marker"), e.getMessage());
  }

  @Test
  void aTailMoreThanTheRingAheadIsAProtocolError() throws IOException {
    poke(TAIL, 2L * R, 8);
    assertThrows(ProtocolException.class, consumer::poll);
  }

  // ---- two threads ----------------------------------------------------------------------------

  /**
   * A producer that falls back to a "socket" (a queue) whenever the ring refuses, and sends a Wake
   * there when it finds the consumer asleep after publishing; a consumer that polls a little, then
   * sleeps on the queue. Every frame arrives exactly once, frames on the ring in order, and the
   * consumer never waits on the queue while a record sits on the ring (it would time out: a lost
   * wake-up).
   */
  @Test
  void aProducerAndASleepingConsumerLoseNothing() throws Exception {
    int n = 60_000;
    Object wake = new Object();
    LinkedBlockingQueue<Object> socket = new LinkedBlockingQueue<>();
    AtomicLong wakes = new AtomicLong();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread p =
        Thread.ofPlatform()
            .start(
                () -> {
                  byte[] b = new byte[64];
                  ByteBuffer bb = ByteBuffer.wrap(b);
                  for (int i = 0; i < n && failed.get() == null; i++) {
                    int len = 8 + (i % 7) * 8; // varied sizes, so the skip marker happens
                    bb.putInt(0, i);
                    int r = producer.offer(b, 0, len);
                    if (r == ShmRing.REFUSED) {
                      socket.add(i);
                    } else if (r == ShmRing.PUBLISHED_ASLEEP) {
                      wakes.incrementAndGet();
                      socket.add(wake);
                    }
                    if (i % 1000 == 0) {
                      Thread.yield();
                    }
                  }
                });
    boolean[] seen = new boolean[n];
    int count = 0;
    int lastOnRing = -1;
    int viaRing = 0;
    long rounds = 0;
    while (count < n) {
      if (++rounds > 50L * n) {
        throw new AssertionError("no progress after " + rounds + " rounds");
      }
      consumer.wake();
      for (int spin = 0; spin < 200; spin++) {
        byte[] rec;
        while ((rec = consumer.poll()) != null) {
          int i = ByteBuffer.wrap(rec, 4, 4).getInt();
          assertTrue(i > lastOnRing, "ring frames in order: " + i + " after " + lastOnRing);
          lastOnRing = i;
          assertFalse(seen[i], "frame " + i + " twice");
          seen[i] = true;
          count++;
          viaRing++;
        }
        Thread.onSpinWait();
      }
      if (consumer.sleep()) {
        continue; // arrived while going to sleep: consume before blocking
      }
      Object o = socket.poll(10, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError(
            "waited 10 s on the socket with "
                + count
                + " of "
                + n
                + " frames: a lost wake-up; "
                + consumer);
      }
      if (o instanceof Integer i) {
        assertFalse(seen[i], "frame " + i + " twice");
        seen[i] = true;
        count++;
      }
    }
    p.join(10_000);
    assertEquals(n, count);
    assertTrue(viaRing > 0, "some frames used the ring");
    assertNull(consumer.poll(), "nothing left over");
  }
}
