package io.polycall.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.Ping;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameReaderTest {

  private static Frame ping(long nonce) {
    return Frame.newBuilder().setPing(Ping.newBuilder().setNonce(nonce)).build();
  }

  private static byte[] stream(List<Frame> frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    frames.forEach(f -> out.writeBytes(FrameCodec.encode(f)));
    return out.toByteArray();
  }

  private static List<Frame> pings(int n) {
    List<Frame> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(ping(i * 1_000_003L));
    }
    return l;
  }

  @Test
  void framesFedOneByteAtATimeComeOutWhole() throws IOException {
    List<Frame> sent = pings(20);
    byte[] bytes = stream(sent);
    FrameReader r = FrameReader.of();
    List<Frame> got = new ArrayList<>();
    for (byte b : bytes) {
      r.feed(ByteBuffer.wrap(new byte[] {b}), got::add);
    }
    r.finish();
    assertEquals(sent, got);
  }

  @Test
  void manyFramesInOneReadAllComeOut() throws IOException {
    List<Frame> sent = pings(500);
    List<Frame> got = new ArrayList<>();
    FrameReader r = FrameReader.of();
    r.feed(ByteBuffer.wrap(stream(sent)), got::add);
    r.finish();
    assertEquals(sent, got);
  }

  @Test
  void framesSplitAtEveryPossibleBoundaryComeOutWhole() throws IOException {
    List<Frame> sent = pings(3);
    byte[] bytes = stream(sent);
    for (int cut = 0; cut <= bytes.length; cut++) {
      FrameReader r = FrameReader.of();
      List<Frame> got = new ArrayList<>();
      r.feed(ByteBuffer.wrap(bytes, 0, cut), got::add);
      r.feed(ByteBuffer.wrap(bytes, cut, bytes.length - cut), got::add);
      r.finish();
      assertEquals(sent, got, "cut at " + cut);
    }
  }

  @Test
  void aChannelThatGivesOneByteAtATimeIsReadToTheEnd() throws IOException {
    List<Frame> sent = pings(10);
    ByteBuffer src = ByteBuffer.wrap(stream(sent));
    ReadableByteChannel trickle =
        new ReadableByteChannel() {
          @Override
          public int read(ByteBuffer dst) {
            if (!src.hasRemaining()) {
              return -1;
            }
            dst.put(src.get());
            return 1;
          }

          @Override
          public boolean isOpen() {
            return true;
          }

          @Override
          public void close() {}
        };
    FrameReader r = FrameReader.of();
    List<Frame> got = new ArrayList<>();
    for (Frame f; (f = r.read(trickle)) != null; ) {
      got.add(f);
    }
    assertEquals(sent, got);
    assertEquals(10, r.framesRead());
  }

  @Test
  void anOversizedLengthIsRefusedBeforeAnyOfTheBodyIsRead() {
    FrameReader r = FrameReader.of(WireLimits.DEFAULT.withMaxFrameBytes(16));
    // Only the prefix is fed: the refusal cannot depend on the body.
    ProtocolException e =
        assertThrows(
            ProtocolException.class,
            () -> r.feed(ByteBuffer.wrap(new byte[] {0, 0, 0, 17}), f -> {}));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.getMessage().contains("17"), e.getMessage());
    assertTrue(e.getMessage().contains("16"), e.getMessage());
  }

  @Test
  void aReaderThatRefusedOnceRefusesEverythingAfter() {
    FrameReader r = FrameReader.of();
    assertThrows(ProtocolException.class, () -> r.feed(ByteBuffer.allocate(4), f -> {}));
    byte[] good = FrameCodec.encode(ping(1));
    assertThrows(ProtocolException.class, () -> r.feed(ByteBuffer.wrap(good), f -> {}));
  }

  @Test
  void aCleanEndOfStreamBetweenFramesReadsAsNull() throws IOException {
    FrameReader r = FrameReader.of();
    ReadableByteChannel ch =
        Channels.newChannel(new java.io.ByteArrayInputStream(FrameCodec.encode(ping(5))));
    assertEquals(ping(5), r.read(ch));
    assertNull(r.read(ch));
  }

  @Test
  void aWriterRefusesAFrameAboveThePeersLimitAndWritesNothing() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FrameWriter w =
        FrameWriter.of(Channels.newChannel(out), WireLimits.DEFAULT.withMaxFrameBytes(4));
    StatusException e = assertThrows(StatusException.class, () -> w.write(ping(Long.MAX_VALUE)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.status().code());
    assertEquals(0, out.size());
    w.write(ping(1));
    assertEquals(List.of(ping(1)), FrameCodec.decode(out.toByteArray(), WireLimits.DEFAULT));
  }
}
