package io.polycall.security;

/**
 * How big a call's arguments may be, checked by the {@link LimitsInterceptor} before any bridge
 * runs. A value of 0 means "no limit" for that dimension.
 *
 * @param payloadBytes the arguments' size in the canonical encoding (see docs/audit.md); default 64
 *     MiB, the wire's frame limit
 * @param depth how deeply lists, maps and structs may nest; default 32, the wire's limit
 * @param collectionLength entries of one list, map or struct; default 1,000,000
 * @param stringBytes UTF-8 bytes of one string, or bytes of one bytes value; default 16 MiB
 * @param ndarrayElements elements of one ndarray; default 16,777,216 (128 MiB of f64 is then still
 *     capped by the payload limit)
 */
public record InputLimits(
    long payloadBytes, int depth, long collectionLength, long stringBytes, long ndarrayElements) {

  public static final InputLimits DEFAULTS =
      new InputLimits(64L << 20, 32, 1_000_000, 16L << 20, 1L << 24);

  /** No limits at all. */
  public static final InputLimits NONE = new InputLimits(0, 0, 0, 0, 0);

  public InputLimits {
    if (payloadBytes < 0
        || depth < 0
        || collectionLength < 0
        || stringBytes < 0
        || ndarrayElements < 0) {
      throw new IllegalArgumentException("limits must be 0 (none) or more");
    }
  }

  public InputLimits withPayloadBytes(long v) {
    return new InputLimits(v, depth, collectionLength, stringBytes, ndarrayElements);
  }

  public InputLimits withDepth(int v) {
    return new InputLimits(payloadBytes, v, collectionLength, stringBytes, ndarrayElements);
  }

  public InputLimits withCollectionLength(long v) {
    return new InputLimits(payloadBytes, depth, v, stringBytes, ndarrayElements);
  }

  public InputLimits withStringBytes(long v) {
    return new InputLimits(payloadBytes, depth, collectionLength, v, ndarrayElements);
  }

  public InputLimits withNdarrayElements(long v) {
    return new InputLimits(payloadBytes, depth, collectionLength, stringBytes, v);
  }
}
