package io.polycall.security.internal;

import io.polycall.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * SHA-256 and byte size of a call's arguments in PolyCall's canonical encoding, for the audit log.
 *
 * <p>The canonical encoding is defined here (and in docs/audit.md) rather than borrowed from the
 * protobuf wire codec, because protobuf does not promise one byte sequence per value (map order,
 * field order and packed encodings may vary): equal arguments must hash equal whoever sent them.
 * Every value is one tag byte then its content; integers are big-endian:
 *
 * <pre>
 *   null        'N'
 *   bool        'T' | 'F'
 *   int         'i' dtype:u8 value:i64          (dtype = Type.Scalar ordinal)
 *   float       'f' dtype:u8 bits:i64           (IEEE 754 of the double, NaN canonical)
 *   string      's' len:u32 utf8[len]
 *   bytes       'b' len:u32 bytes[len]
 *   list        'l' n:u32 value*n
 *   map         'm' n:u32 (key value)*n         (entries sorted by the encoded key bytes)
 *   struct      'S' name:string n:u32 (field:string value)*n   (fields sorted by name)
 *   ndarray     'a' dtype:u8 rank:u32 dim:i64*rank data[...]  (raw memory, C order)
 *   handle      'h' kind:string id:i64 generation:u32
 *   fn          'c' name:string signature:string  (the signature as printed, '' if unknown)
 *   arguments   'A' n:u32 value*n
 * </pre>
 *
 * <p>The byte count of this encoding is the audit record's {@code payload_bytes}: within a few
 * bytes per element of the protobuf wire size (protobuf uses varints where this uses fixed widths),
 * and the same for every transport. Not thread-safe: {@link #acquire()} one, use it on one thread,
 * {@link #release()} it.
 */
public final class ArgsDigest {
  private static final Reusable<ArgsDigest> REUSABLE = new Reusable<>(ArgsDigest::new);

  private final MessageDigest sha;
  private final byte[] buf = new byte[8192];
  private int pos;
  private long size;

  private ArgsDigest() {
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * An instance for this thread to use until {@link #release}: its own on a platform thread, a
   * shared one on a virtual thread (a gRPC call's thread lives for one call; a digest and its
   * buffer made per call would cost more than the hashing).
   */
  public static ArgsDigest acquire() {
    return REUSABLE.acquire();
  }

  /** Gives this instance back (see {@link #acquire}); not to be used after. */
  public void release() {
    REUSABLE.release(this);
  }

  /** The digest of {@code args}; {@link #lastSize()} is then their encoded size. */
  public byte[] digest(List<Value> args) {
    pos = 0;
    size = 0;
    sha.reset();
    put('A');
    putInt(args.size());
    for (int i = 0; i < args.size(); i++) {
      value(args.get(i));
    }
    flush();
    return sha.digest();
  }

  /** The encoded size of the arguments of the last {@link #digest}. */
  public long lastSize() {
    return size;
  }

  /** The canonical encoding of one value (for tests and for sorting map keys). */
  public static byte[] encode(Value v) {
    ArgsDigest d = new ArgsDigest();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    d.sink = out;
    d.value(v);
    d.flush();
    return out.toByteArray();
  }

  private java.io.ByteArrayOutputStream sink;

  private void value(Value v) {
    switch (v) {
      case Value.Null n -> put('N');
      case Value.Bool b -> put(b.value() ? 'T' : 'F');
      case Value.Int i -> {
        put('i');
        put(i.type().ordinal());
        putLong(i.value());
      }
      case Value.Float f -> {
        put('f');
        put(f.type().ordinal());
        putLong(Double.doubleToLongBits(f.value()));
      }
      case Value.Str s -> string(s.value());
      case Value.Bytes b -> {
        // The record's accessor returns the array itself (toJava copies); read it, don't keep it.
        byte[] bytes = b.value();
        put('b');
        putInt(bytes.length);
        putBytes(bytes, 0, bytes.length);
      }
      case Value.Seq s -> {
        put('l');
        putInt(s.items().size());
        for (Value item : s.items()) {
          value(item);
        }
      }
      case Value.Dict d -> {
        put('m');
        putInt(d.entries().size());
        List<byte[][]> entries = new ArrayList<>(d.entries().size());
        for (Map.Entry<Value, Value> e : d.entries().entrySet()) {
          entries.add(new byte[][] {encode(e.getKey()), encode(e.getValue())});
        }
        entries.sort((x, y) -> Arrays.compareUnsigned(x[0], y[0]));
        for (byte[][] e : entries) {
          putBytes(e[0], 0, e[0].length);
          putBytes(e[1], 0, e[1].length);
        }
      }
      case Value.Struct s -> {
        put('S');
        string(s.name());
        putInt(s.fields().size());
        List<String> names = new ArrayList<>(s.fields().keySet());
        names.sort(null);
        for (String name : names) {
          string(name);
          value(s.fields().get(name));
        }
      }
      case Value.NdArray a -> {
        put('a');
        put(a.dtype().ordinal());
        long[] shape = a.shape();
        putInt(shape.length);
        for (long d : shape) {
          putLong(d);
        }
        segment(a.data());
      }
      case Value.Handle h -> {
        put('h');
        string(h.kind());
        putLong(h.id());
        putInt(h.generation());
      }
      case Value.Fn f -> {
        put('c');
        string(f.name());
        string(f.signature() == null ? "" : f.signature().toString());
      }
    }
  }

  private void string(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    put('s');
    putInt(b.length);
    putBytes(b, 0, b.length);
  }

  private void segment(MemorySegment seg) {
    long n = seg.byteSize();
    long off = 0;
    while (off < n) {
      if (pos == buf.length) {
        flush();
      }
      int chunk = (int) Math.min(n - off, buf.length - pos);
      MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, buf, pos, chunk);
      pos += chunk;
      size += chunk;
      off += chunk;
    }
  }

  private void put(int b) {
    if (pos == buf.length) {
      flush();
    }
    buf[pos++] = (byte) b;
    size++;
  }

  private void putInt(int v) {
    put(v >>> 24);
    put(v >>> 16);
    put(v >>> 8);
    put(v);
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }

  private void putBytes(byte[] b, int off, int len) {
    if (len > buf.length - pos) {
      flush();
      if (len > buf.length) {
        write(b, off, len);
        size += len;
        return;
      }
    }
    System.arraycopy(b, off, buf, pos, len);
    pos += len;
    size += len;
  }

  private void flush() {
    if (pos > 0) {
      write(buf, 0, pos);
      pos = 0;
    }
  }

  private void write(byte[] b, int off, int len) {
    if (sink != null) {
      sink.write(b, off, len);
    } else {
      sha.update(b, off, len);
    }
  }
}
