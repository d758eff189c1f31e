// Shared-memory rings (spec/WIRE.md, "Shared-memory rings", feature shm-rings/1): two
// single-producer rings in one file the hub creates and both sides map. The mapping comes from a
// tiny Node-API addon (native/shm.c, built by the Makefile); everything else is here, on typed
// arrays over the mapped ArrayBuffer.
//
// Memory ordering: every header word is read and written with Atomics, which are sequentially
// consistent (on x86-64 a store is an xchg, a full fence; on AArch64 stlr/ldar). That gives the
// spec's release store of tail/head, acquire load of tail, and the full fence between a store and
// the following load of `awake`. Record bytes are plain reads and writes ordered by those.
//
// Positions are 64-bit in the file and Numbers here (exact up to 2^53 bytes, petabytes). Reads of
// the other side's position use only its low 32-bit word: the two positions are never more than
// R apart, so their difference mod 2^32 is exact, and a 32-bit Atomics.load allocates no BigInt
// on the polling path. Our own position is always stored as a whole 64-bit word.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const FEATURE = 'shm-rings/1';

const HEADER_BYTES = 128;
// Word indexes into a Uint32Array / BigUint64Array over a ring's header (little-endian only:
// WIRE.md allows only little-endian machines).
const TAIL_LO = 0; // u32 index of tail's low word (byte 0)
const TAIL_64 = 0; // u64 index of tail (byte 0)
const HEAD_LO = 16; // u32 index of head's low word (byte 64)
const HEAD_64 = 8; // u64 index of head (byte 64)
const AWAKE = 18; // u32 index of awake (byte 72)
export const SKIP = 0xffffffff;
const MIN_RING_BYTES = 65536;
// Well above any sensible ring and keeps every offset a small integer.
const MAX_RING_BYTES = 2 ** 30;
const TWO32 = 2 ** 32;

/** A record of the ring that breaks WIRE.md's rules: a protocol error, as on the socket. */
export class RingError extends Error {}

let addon; // undefined: not tried yet; null: unavailable

/**
 * The mapping addon, loaded once; null when it is not built or does not load (then the caller
 * offers no rings). `log` hears why, once.
 * @param {(msg: string) => void} [log]
 * @returns {{map: (path: string) => ArrayBuffer, yield?: () => void} | null}
 */
export function loadAddon(log = () => {}) {
  if (addon !== undefined) return addon;
  const path = process.env.POLYCALL_SHM_ADDON || fileURLToPath(new URL('../build/shm.node', import.meta.url));
  try {
    addon = createRequire(import.meta.url)(path);
    if (typeof addon.map !== 'function') throw new Error('it has no map()');
  } catch (e) {
    addon = null;
    log(`shared-memory rings are off: cannot load ${path}: ${e.message.split('\n')[0]}`);
  }
  return addon;
}

/**
 * Whether this process offers shm-rings/1: the addon loads and POLYCALL_SHM is not "0". The little
 * endian check is WIRE.md's: both sides are on one little-endian machine.
 */
export function ringsAvailable(log, env = process.env) {
  if (env.POLYCALL_SHM === '0') return false;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return false;
  return loadAddon(log) !== null;
}

/** Byte size of a record holding `n` frame bytes: 4-byte length, padded to a multiple of 8. */
export function recordBytes(n) {
  return (4 + n + 7) & ~7;
}

/**
 * One ring over a region of a mapped file: a header of 128 bytes, then R data bytes. The same
 * object serves either role; a side uses only the producer or only the consumer methods of it.
 */
export class Ring {
  /**
   * @param {ArrayBuffer} buffer the mapped file
   * @param {number} offset of this ring's header in it
   * @param {number} ringBytes R
   */
  constructor(buffer, offset, ringBytes) {
    this.size = ringBytes;
    this.maxRecord = ringBytes / 4;
    this.words = new Uint32Array(buffer, offset, HEADER_BYTES / 4);
    this.longs = new BigUint64Array(buffer, offset, HEADER_BYTES / 8);
    this.data = new Uint8Array(buffer, offset + HEADER_BYTES, ringBytes);
    this.view = new DataView(buffer, offset + HEADER_BYTES, ringBytes);
    // Our own position, whichever role we take (the file starts at 0; reading it costs nothing).
    this.tail = Number(Atomics.load(this.longs, TAIL_64));
    this.head = Number(Atomics.load(this.longs, HEAD_64));
    this.awake = Atomics.load(this.words, AWAKE) !== 0;
  }

  // ---- producer ------------------------------------------------------------------------------

  /** Whether the consumer says it is polling (a frame may go on the ring only then). */
  consumerAwake() {
    return Atomics.load(this.words, AWAKE) !== 0;
  }

  /**
   * Publishes one frame body when the consumer is awake, the record is at most R/4 bytes and
   * there is room now; never waits. After true, call `consumerAsleep()` to know whether a Wake
   * must follow on the socket.
   * @param {Uint8Array} body a Frame without any length prefix
   * @returns {boolean} false: send it on the socket instead
   */
  offer(body) {
    const need = recordBytes(body.length);
    if (need > this.maxRecord || !this.consumerAwake()) return false;
    const used = ((this.tail >>> 0) - Atomics.load(this.words, HEAD_LO) + TWO32) % TWO32;
    if (used > this.size) return false; // a head we cannot make sense of: stay off the ring
    const pos = this.tail % this.size;
    const skip = pos + need > this.size ? this.size - pos : 0;
    if (skip + need > this.size - used) return false;
    if (skip) this.view.setUint32(pos, SKIP, true);
    const at = skip ? 0 : pos;
    this.view.setUint32(at, body.length, true);
    this.data.set(body, at + 4);
    this.tail += skip + need;
    Atomics.store(this.longs, TAIL_64, BigInt(this.tail)); // publishes the record; a full fence
    return true;
  }

  /** After offer(): true when the consumer may be asleep (send Wake on the socket). */
  consumerAsleep() {
    return Atomics.load(this.words, AWAKE) === 0;
  }

  // ---- consumer ------------------------------------------------------------------------------

  /** Marks us polling (or not). Stores only on a change: each store is a fence. */
  setAwake(on) {
    if (this.awake === on) return;
    this.awake = on;
    Atomics.store(this.words, AWAKE, on ? 1 : 0);
  }

  /** Whether a record is waiting (load-acquire of tail). */
  hasRecords() {
    return Atomics.load(this.words, TAIL_LO) !== this.head >>> 0;
  }

  /**
   * Going to sleep (WIRE.md "Consuming"): awake = 0, a full fence, one more look at tail. When a
   * record arrived meanwhile we stay awake and the caller consumes it.
   * @returns {boolean} true when asleep now; false when records are waiting (awake again)
   */
  trySleep() {
    this.setAwake(false); // the store is the fence
    if (!this.hasRecords()) return true;
    this.setAwake(true);
    return false;
  }

  /**
   * Consumes the records published so far (not those published while this runs, so it ends),
   * handing each frame body, a private copy, to `onBody`; head is stored after each copy.
   * @param {(body: Buffer) => void} onBody
   * @param {() => boolean} [stop] checked between records (the connection closed)
   * @returns {number} records consumed
   * @throws {RingError} on a record that breaks the rules (a protocol error)
   */
  drain(onBody, stop = () => false) {
    const tailLo = Atomics.load(this.words, TAIL_LO);
    let avail = (tailLo - (this.head >>> 0) + TWO32) % TWO32;
    if (avail > this.size) throw new RingError(`ring tail is ${avail} bytes ahead of head, more than the ring's ${this.size}`);
    let count = 0;
    while (avail > 0 && !stop()) {
      const pos = this.head % this.size;
      const length = this.view.getUint32(pos, true);
      if (length === SKIP) {
        const skip = this.size - pos;
        if (skip > avail) throw new RingError(`skip marker at ${pos} runs past the ring's tail`);
        this.head += skip;
        avail -= skip;
        if (avail === 0) Atomics.store(this.longs, HEAD_64, BigInt(this.head)); // a lone skip: free it
        continue;
      }
      if (length === 0) throw new RingError('ring record of length 0');
      if (length > this.maxRecord) throw new RingError(`ring record of ${length} bytes is over R/4 = ${this.maxRecord}`);
      const size = recordBytes(length);
      if (size > avail) throw new RingError(`ring record of ${length} bytes runs past the ring's tail`);
      if (pos + size > this.size) throw new RingError(`ring record of ${length} bytes wraps around the ring's end`);
      // A copy: the producer may reuse the bytes once head moves. Large bodies get their own
      // (8-aligned) buffer so ndarray values can be views, as the socket reader does.
      const body = length < 4096 ? Buffer.allocUnsafe(length) : Buffer.allocUnsafeSlow(length);
      body.set(this.data.subarray(pos + 4, pos + 4 + length));
      this.head += size;
      avail -= size;
      Atomics.store(this.longs, HEAD_64, BigInt(this.head));
      count++;
      onBody(body);
    }
    return count;
  }
}

/**
 * The two rings of a Welcome's SharedRings, mapped with the addon. Ring 0 carries hub -> peer,
 * ring 1 peer -> hub; `role` says which side we are.
 * @param {{map: (path: string) => ArrayBuffer}} mapper the addon
 * @param {{path: string, ringBytes: number}} rings
 * @param {'peer' | 'hub'} [role]
 * @returns {{inbound: Ring, outbound: Ring, buffer: ArrayBuffer}}
 * @throws {Error} saying why the rings cannot be used (the caller stays on the socket)
 */
export function openRings(mapper, { path, ringBytes }, role = 'peer') {
  const r = Number(ringBytes);
  if (!path) throw new Error('the Welcome names no ring file');
  if (!(r >= MIN_RING_BYTES && r <= MAX_RING_BYTES && (r & (r - 1)) === 0)) {
    throw new Error(`ring_bytes ${ringBytes} is not a power of two between ${MIN_RING_BYTES} and ${MAX_RING_BYTES}`);
  }
  const buffer = mapper.map(path);
  const want = 2 * (HEADER_BYTES + r);
  if (buffer.byteLength !== want) {
    throw new Error(`ring file ${path} has ${buffer.byteLength} bytes, not 2 x (128 + ${r}) = ${want}`);
  }
  const ring0 = new Ring(buffer, 0, r);
  const ring1 = new Ring(buffer, HEADER_BYTES + r, r);
  return role === 'hub' ? { inbound: ring1, outbound: ring0, buffer } : { inbound: ring0, outbound: ring1, buffer };
}
