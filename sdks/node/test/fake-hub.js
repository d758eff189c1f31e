// A small scripted hub for tests: a net.Server on a Unix socket in a temp dir that speaks the
// hub side of WIRE.md (Challenge, proof check, Welcome, Announce, Calls both ways, Ping, Cancel,
// Batch, GoAway). It uses the SDK's frame codec; the shared vectors pin that codec separately.
// With `rings`, it also offers shared-memory rings (WIRE.md) as the Java hub does, using the SDK's
// Ring class in the hub role: ring 0 it produces, ring 1 it consumes.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, Outgoing, decodeFrame, encodeFrame } from '../src/codec.js';
import { Code, toStatus } from '../src/errors.js';
import { FEATURE, loadAddon, openRings } from '../src/shm.js';

const RING_KINDS = new Set(['call', 'result', 'batch', 'batchResult', 'ping', 'pong']);

/** One accepted connection, seen from the hub. */
export class Peer {
  constructor(socket, hub) {
    this.socket = socket;
    this.hub = hub;
    this.reader = new FrameReader();
    this.nextCallId = 1;
    this.pending = new Map();
    this.pongs = new Map();
    this.batches = new Map();
    this.received = []; // every frame after the handshake, for assertions
    this.hello = new Promise((r) => (this.onHello = r));
    this.announce = new Promise((r) => (this.onAnnounce = r));
    this.closed = new Promise((r) => socket.on('close', r));
    this.state = 'hello';
    this.nonce = randomBytes(32);
    this.rings = null;
    this.ringFrames = []; // frames that came on ring 1, for assertions
    this.sentOnRing = []; // kinds of the frames this hub put on ring 0
    this.wakesReceived = 0;
    socket.on('data', (chunk) => {
      for (const body of this.reader.push(chunk)) {
        this.drainRing(); // WIRE.md "Order": the ring before any socket frame
        const frame = decodeFrame(body);
        if (frame.body === 'wake') this.wakesReceived++;
        else this.onFrame(frame);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(this.poller);
      this.unlinkRings();
    });
    this.send({ challenge: { nonce: this.nonce, versions: hub.versions } });
  }

  send(frame) {
    const bytes = encodeFrame(frame);
    const kind = Object.keys(frame)[0];
    if (this.rings && this.hub.ringsOut && RING_KINDS.has(kind) && this.rings.outbound.offer(bytes.subarray(4))) {
      this.sentOnRing.push(kind);
      if (this.rings.outbound.consumerAsleep()) this.sendRaw(encodeFrame({ wake: {} }));
      return;
    }
    this.sendRaw(bytes);
  }

  /**
   * Writes a raw record on ring 0 whether or not the peer polls it (tests of Wake and of bad
   * records): `length` is the record's length word, `body` what follows it.
   */
  forceRecord(length, body = new Uint8Array(0)) {
    const ring = this.rings.outbound;
    const pos = ring.tail % ring.size;
    ring.view.setUint32(pos, length, true);
    ring.data.set(body, pos + 4);
    ring.tail += (4 + body.length + 7) & ~7;
    Atomics.store(ring.longs, 0, BigInt(ring.tail));
  }

  /** Puts a whole frame on ring 0 even while the peer sleeps (then a Wake must follow). */
  forceFrame(frame) {
    const body = encodeFrame(frame).subarray(4);
    this.forceRecord(body.length, body);
  }

  drainRing() {
    if (!this.rings) return;
    this.rings.inbound.drain((body) => {
      const frame = decodeFrame(body);
      this.ringFrames.push(frame);
      this.onFrame(frame);
    });
  }

  /** Sets up the rings when the peer offered them (the hub side of WIRE.md "Negotiation"). */
  offerRings(hello) {
    const { rings } = this.hub;
    if (!rings || !(hello.features ?? []).includes(FEATURE)) return undefined;
    const ringBytes = rings.ringBytes ?? 65536;
    this.ringPath = join(this.hub.dir, `rings-${this.hub.peers.indexOf(this)}`);
    writeFileSync(this.ringPath, Buffer.alloc(2 * (128 + ringBytes)), { mode: 0o600 });
    this.rings = openRings(loadAddon(), { path: this.ringPath, ringBytes }, 'hub');
    if (this.hub.ringsAwake) {
      // Always awake, polling every millisecond: enough for tests, and the peer never owes a Wake.
      this.rings.inbound.setAwake(true);
      this.poller = setInterval(() => this.drainRing(), 1);
    }
    return { path: this.ringPath, ringBytes };
  }

  unlinkRings() {
    if (this.ringPath && existsSync(this.ringPath)) unlinkSync(this.ringPath);
  }

  /** Writes bytes as they are; with the hub's `oneByteWrites`, one byte per write. */
  sendRaw(bytes) {
    if (this.socket.destroyed) return;
    if (!this.hub.oneByteWrites) return void this.socket.write(bytes);
    for (const b of bytes) this.socket.write(Buffer.from([b]));
  }

  /** Waits for the Result of a call id sent by hand with sendRaw. */
  resultFor(callId) {
    return new Promise((r) => this.pending.set(callId, r));
  }

  onFrame(frame) {
    const kind = frame.body;
    const m = frame[kind];
    if (this.state === 'hello') {
      this.helloFrame = m;
      this.onHello(m);
      if (m.role === 1 && !this.proofOk(m)) {
        this.send({ goaway: { status: { code: Code.UNAUTHENTICATED, message: 'bad worker proof' } } });
        this.socket.end();
        this.state = 'refused';
        return;
      }
      this.state = 'open';
      const rings = this.offerRings(m);
      this.send({ welcome: { version: 1, limits: this.hub.limits, nodeId: 'fake-node', rings } });
      return;
    }
    // The peer's first frame after the Welcome: it has mapped the file, so it can go.
    if (this.received.length === 0) this.unlinkRings();
    this.received.push(frame);
    switch (kind) {
      case 'announce':
        return this.onAnnounce(m);
      case 'result': {
        const p = this.pending.get(Number(m.callId));
        this.pending.delete(Number(m.callId));
        return p?.(m);
      }
      case 'pong':
        return this.pongs.get(Number(m.nonce))?.(m);
      case 'ping':
        return this.send({ pong: { nonce: m.nonce } });
      case 'batchResult':
        return this.batches.get(Number(m.batchId))?.(m);
      case 'call':
        return void this.answer(m);
      default:
        return undefined;
    }
  }

  proofOk(hello) {
    const secret = this.hub.secrets[hello.workerId];
    if (!secret || !hello.proof) return false;
    const want = createHmac('sha256', secret).update(this.nonce).update(Buffer.from(hello.workerId, 'utf8')).digest();
    return hello.proof.length === want.length && timingSafeEqual(hello.proof, want);
  }

  // A call from the peer (a nested call from a worker, or a client's call).
  async answer(c) {
    const handler = this.hub.handlers[c.function];
    let result;
    if (!handler) {
      result = { callId: c.callId, status: { code: Code.NOT_FOUND, message: `no function ${c.function}` } };
    } else {
      try {
        const args = c.args.map((a) => {
          if (a.error) throw a.error;
          return a.value;
        });
        const value = await handler(...args, { peer: this, call: c });
        result = { callId: c.callId, value: new Outgoing(value) };
      } catch (e) {
        result = { callId: c.callId, status: toStatus(e) };
      }
    }
    this.send({ result });
  }

  /** Calls a function the peer hosts; resolves with the Result frame body. */
  call(name, args, { timeoutNanos, metadata } = {}) {
    const callId = this.nextCallId++;
    const done = new Promise((r) => this.pending.set(callId, r));
    this.send({ call: { callId, function: name, args: args.map((a) => new Outgoing(a)), timeoutNanos, metadata } });
    done.callId = callId;
    return done;
  }

  cancel(callId) {
    this.send({ cancel: { callId } });
  }

  ping(nonce) {
    const pong = new Promise((r) => this.pongs.set(nonce, r));
    this.send({ ping: { nonce } });
    return pong;
  }

  batch(batchId, calls) {
    const done = new Promise((r) => this.batches.set(batchId, r));
    this.send({
      batch: { batchId, calls: calls.map(([name, args]) => ({ function: name, args: args.map((a) => new Outgoing(a)) })) },
    });
    return done;
  }

  goAway(status) {
    this.send({ goaway: status ? { status } : {} });
  }
}

/**
 * Starts a fake hub. `handlers` answer calls that peers make ("java.math.add": (a, b) => a + b);
 * `secrets` maps worker ids to their secrets.
 */
export async function startFakeHub({
  handlers = {},
  secrets = {},
  limits = {},
  versions = [1],
  oneByteWrites = false,
  rings = null, // {ringBytes?}: offer shared-memory rings to peers that ask
  ringsAwake = true, // poll ring 1 (else the peer finds the hub asleep and uses the socket)
  ringsOut = true, // put the hub's own frames on ring 0 when the peer polls it
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'polycall-node-'));
  const path = join(dir, 'hub.sock');
  const peers = [];
  let waiters = [];
  const server = createServer((socket) => {
    const peer = new Peer(socket, hub);
    peers.push(peer);
    for (const w of waiters) w(peer);
    waiters = [];
  });
  const hub = {
    path,
    dir,
    rings,
    ringsAwake,
    ringsOut,
    handlers,
    secrets,
    limits,
    versions,
    oneByteWrites,
    peers,
    /** The next peer to connect (or the latest one already connected and not yet taken). */
    nextPeer() {
      const taken = hub.taken ?? 0;
      if (peers.length > taken) {
        hub.taken = taken + 1;
        return Promise.resolve(peers[taken]);
      }
      return new Promise((r) =>
        waiters.push((p) => {
          hub.taken = (hub.taken ?? 0) + 1;
          r(p);
        }),
      );
    },
    async close() {
      for (const p of peers) p.socket.destroy();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await new Promise((resolve) => server.listen(path, resolve));
  return hub;
}
