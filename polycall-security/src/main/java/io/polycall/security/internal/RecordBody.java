package io.polycall.security.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

/**
 * Formats the body of an audit record (everything between {@code "seq":N,} and {@code ,"prev":}) as
 * UTF-8 JSON, on the calling thread, into this thread's buffer: nothing is allocated per record,
 * and the caller then copies it into the writer's batch (which hashes it). Not thread-safe: {@link
 * #acquire()} one, use it on one thread, {@link #release()} it.
 */
public final class RecordBody {
  private static final Reusable<RecordBody> REUSABLE = new Reusable<>(RecordBody::new);
  private static final DateTimeFormatter SECOND =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /** The body formatted by the last {@link #call}, bytes {@code [0, length)}. */
  byte[] wb = new byte[1024];

  private int wp;
  private final java.security.MessageDigest sha = AuditLine.sha256();
  private final byte[] bodySha = new byte[32];
  private long cachedSecond = Long.MIN_VALUE;
  private final byte[] cachedTime = new byte[19];

  private RecordBody() {}

  /** One for this thread to use until {@link #release} (see {@link Reusable}: virtual threads). */
  static RecordBody acquire() {
    return REUSABLE.acquire();
  }

  void release() {
    REUSABLE.release(this);
  }

  /** Formats the body of a call record into {@link #wb}; returns its length. */
  int call(AuditEntry f) {
    int need =
        512
            + 6
                * (f.trace.length()
                    + f.subject.length()
                    + f.method.length()
                    + f.function.length()
                    + f.bridge.length()
                    + f.decision.length()
                    + f.reason.length()
                    + f.status.length()
                    + f.message.length());
    if (wb.length < need) {
      wb = new byte[need];
    }
    wp = 0;
    raw(TIME_KEY);
    time(f.epochSecond, f.nano);
    raw(EVENT_TRACE);
    string(f.trace);
    raw(SUBJECT);
    string(SLOT_SUBJECT, f.subject);
    raw(METHOD);
    string(SLOT_METHOD, f.method);
    raw(FUNCTION);
    string(SLOT_FUNCTION, f.function);
    raw(BRIDGE);
    string(SLOT_BRIDGE, f.bridge);
    raw(DECISION);
    string(SLOT_DECISION, f.decision);
    raw(REASON);
    string(SLOT_REASON, f.reason);
    raw(STATUS);
    string(SLOT_STATUS, f.status);
    raw(CODE);
    number(f.code);
    raw(MESSAGE);
    string(SLOT_MESSAGE, f.message);
    raw(DURATION);
    number(f.durationNanos);
    raw(PAYLOAD);
    number(f.payloadBytes);
    raw(ARGS_SHA);
    if (f.argsSha256 != null) {
      hex(f.argsSha256);
    }
    wb[wp++] = '"';
    return wp;
  }

  /** SHA-256 of the first {@code length} bytes of {@link #wb} (this thread's array, reused). */
  byte[] sha256(int length) {
    sha.update(wb, 0, length);
    try {
      sha.digest(bodySha, 0, 32);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException("SHA-256 is 32 bytes", e);
    }
    return bodySha;
  }

  // The fixed parts of a record, as bytes once.
  private static final byte[] TIME_KEY = bytes("\"time\":\"");
  private static final byte[] EVENT_TRACE = bytes("\",\"event\":\"call\",\"trace\":");
  private static final byte[] SUBJECT = bytes(",\"subject\":");
  private static final byte[] METHOD = bytes(",\"method\":");
  private static final byte[] FUNCTION = bytes(",\"function\":");
  private static final byte[] BRIDGE = bytes(",\"bridge\":");
  private static final byte[] DECISION = bytes(",\"decision\":");
  private static final byte[] REASON = bytes(",\"reason\":");
  private static final byte[] STATUS = bytes(",\"status\":");
  private static final byte[] CODE = bytes(",\"code\":");
  private static final byte[] MESSAGE = bytes(",\"message\":");
  private static final byte[] DURATION = bytes(",\"duration_ns\":");
  private static final byte[] PAYLOAD = bytes(",\"payload_bytes\":");
  private static final byte[] ARGS_SHA = bytes(",\"args_sha256\":\"");

  // Fields that repeat from call to call (the same subject, function, decision, status...): the
  // last string seen in each and its JSON, reused while the next record has the very same String
  // object (compared by identity: a String never changes, so its JSON cannot either).
  private static final int SLOT_SUBJECT = 0;
  private static final int SLOT_METHOD = 1;
  private static final int SLOT_FUNCTION = 2;
  private static final int SLOT_BRIDGE = 3;
  private static final int SLOT_DECISION = 4;
  private static final int SLOT_REASON = 5;
  private static final int SLOT_STATUS = 6;
  private static final int SLOT_MESSAGE = 7;
  private final String[] lastString = new String[8];
  private final byte[][] lastJson = new byte[8][];

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private void raw(byte[] b) {
    System.arraycopy(b, 0, wb, wp, b.length);
    wp += b.length;
  }

  /** As {@link #string(String)}, reusing the JSON of the slot's last string when it is the same. */
  private void string(int slot, String s) {
    if (s == lastString[slot]) {
      raw(lastJson[slot]);
      return;
    }
    int from = wp;
    string(s);
    lastJson[slot] = Arrays.copyOfRange(wb, from, wp);
    lastString[slot] = s;
  }

  private void ascii(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      wb[wp++] = (byte) s.charAt(i);
    }
  }

  private void hex(byte[] b) {
    for (byte x : b) {
      wb[wp++] = HEX[(x >> 4) & 15];
      wb[wp++] = HEX[x & 15];
    }
  }

  private void number(long v) {
    if (v < 0) {
      ascii(Long.toString(v)); // never in practice; Long.MIN_VALUE has no positive twin
      return;
    }
    int digits = 1;
    for (long t = v; t >= 10; t /= 10) {
      digits++;
    }
    for (int i = digits - 1; i >= 0; i--) {
      wb[wp + i] = (byte) ('0' + v % 10);
      v /= 10;
    }
    wp += digits;
  }

  /** {@code 2026-11-22T01:02:03.123456Z} (the part up to the second formatted once a second). */
  private void time(long epochSecond, int nano) {
    if (epochSecond != cachedSecond) {
      byte[] t =
          SECOND.format(Instant.ofEpochSecond(epochSecond)).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(t, 0, cachedTime, 0, 19);
      cachedSecond = epochSecond;
    }
    System.arraycopy(cachedTime, 0, wb, wp, 19);
    wp += 19;
    wb[wp++] = '.';
    int micros = nano / 1000;
    for (int i = 5; i >= 0; i--) {
      wb[wp + i] = (byte) ('0' + micros % 10);
      micros /= 10;
    }
    wp += 6;
    wb[wp++] = 'Z';
  }

  /** As {@link Json#string}, as UTF-8. */
  private void string(String s) {
    wb[wp++] = '"';
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        wb[wp++] = (byte) c;
      } else if (c == '"' || c == '\\') {
        wb[wp++] = '\\';
        wb[wp++] = (byte) c;
      } else if (c == '\n') {
        wb[wp++] = '\\';
        wb[wp++] = 'n';
      } else if (c == '\r') {
        wb[wp++] = '\\';
        wb[wp++] = 'r';
      } else if (c == '\t') {
        wb[wp++] = '\\';
        wb[wp++] = 't';
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        wb[wp++] = (byte) (0xf0 | (cp >> 18));
        wb[wp++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        wb[wp++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        wb[wp++] = (byte) (0x80 | (cp & 0x3f));
      } else if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)) {
        wb[wp++] = '\\';
        wb[wp++] = 'u';
        wb[wp++] = HEX[(c >> 12) & 15];
        wb[wp++] = HEX[(c >> 8) & 15];
        wb[wp++] = HEX[(c >> 4) & 15];
        wb[wp++] = HEX[c & 15];
      } else if (c < 0x80) {
        wb[wp++] = (byte) c; // DEL
      } else if (c < 0x800) {
        wb[wp++] = (byte) (0xc0 | (c >> 6));
        wb[wp++] = (byte) (0x80 | (c & 0x3f));
      } else {
        wb[wp++] = (byte) (0xe0 | (c >> 12));
        wb[wp++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        wb[wp++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    wb[wp++] = '"';
  }
}
