package io.polycall.security.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One line of the audit log taken apart as far as the chain needs: its sequence number, the hash of
 * the record before it, its own stored hash and the hash its bytes actually have.
 *
 * <pre>
 *   {"seq":N,&lt;body&gt;,"prev":"&lt;64 hex&gt;","hash":"&lt;64 hex&gt;"}
 *
 *   hash = SHA-256( N as 8 bytes big-endian || prev as 32 bytes || SHA-256(UTF-8 bytes of body) )
 * </pre>
 *
 * The hash covers the body through its own SHA-256, the number and the hash of the record before,
 * so each record's hash covers the whole chain before it. The body's hash is taken by the calling
 * thread and the link by the writer thread: two SHA-256 blocks per record on the one thread that
 * must keep up with all callers. Stateless; {@link #parse} is thread-safe.
 */
public record AuditLine(long seq, String prev, String hash, String actualHash) {
  public static final String GENESIS = "0".repeat(64);
  static final String SEQ_PREFIX = "{\"seq\":";
  static final String PREV_KEY = ",\"prev\":\"";
  static final String HASH_KEY = ",\"hash\":\"";

  /** Whether the stored hash is the hash of the line's bytes. */
  public boolean intact() {
    return hash.equals(actualHash);
  }

  /**
   * The line taken apart, or null when it does not have the shape of a record (a truncated or
   * mangled line).
   */
  public static AuditLine parse(String line) {
    if (!line.startsWith(SEQ_PREFIX) || !line.endsWith("\"}")) {
      return null;
    }
    int h = line.lastIndexOf(HASH_KEY);
    if (h < 0 || line.length() != h + HASH_KEY.length() + 64 + 2) {
      return null;
    }
    int p = line.lastIndexOf(PREV_KEY, h);
    if (p < 0 || h != p + PREV_KEY.length() + 64 + 1) {
      return null;
    }
    int comma = line.indexOf(',', SEQ_PREFIX.length());
    if (comma < 0 || comma > p) {
      return null;
    }
    String digits = line.substring(SEQ_PREFIX.length(), comma);
    long seq;
    try {
      seq = Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return null;
    }
    if (seq < 1 || !Long.toString(seq).equals(digits)) {
      return null; // one spelling per number: 007 for 7 would be an edit the hash cannot see
    }
    String prev = line.substring(p + PREV_KEY.length(), p + PREV_KEY.length() + 64);
    String hash = line.substring(h + HASH_KEY.length(), h + HASH_KEY.length() + 64);
    if (!isHex(prev) || !isHex(hash)) {
      return null;
    }
    MessageDigest sha = sha256();
    byte[] bodySha = sha.digest(line.substring(comma + 1, p).getBytes(StandardCharsets.UTF_8));
    String actual = Json.hex(link(sha, seq, java.util.HexFormat.of().parseHex(prev), bodySha));
    return new AuditLine(seq, prev, hash, actual);
  }

  /** SHA-256(seq as 8 bytes big-endian || prev || bodySha): a record's hash. */
  public static byte[] link(MessageDigest sha, long seq, byte[] prev, byte[] bodySha) {
    sha.reset();
    for (int i = 7; i >= 0; i--) {
      sha.update((byte) (seq >>> (8 * i)));
    }
    sha.update(prev);
    sha.update(bodySha);
    return sha.digest();
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
