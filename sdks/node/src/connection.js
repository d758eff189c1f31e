// One connection to a hub, from the peer's side (worker or client): handshake, calls in both
// directions multiplexed by call id, ping, cancel, batch, drain. The event loop keeps reading
// while functions run, so nested calls, pings and cancels are answered during long calls.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_BYTES,
  FrameReader,
  Outgoing,
  decodeFrame,
  encodeFrame,
  ndarrayResultParts,
} from './codec.js';
import {
  CancelledError,
  Code,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  PolyCallError,
  UnauthenticatedError,
  UnavailableError,
  fromStatus,
  toStatus,
} from './errors.js';
import { FEATURE as SHM_FEATURE, RingError, openRings } from './shm.js';
import { setDefaultCaller } from './values.js';

export const SDK_VERSION = '0.1.0';
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_TIMER_NANOS = BigInt(MAX_TIMER_MS) * 1000000n;
export const PROTOCOL_VERSION = 1;

// The frames that may travel on a shared-memory ring (WIRE.md); the rest always use the socket.
const RING_KINDS = new Set(['call', 'result', 'batch', 'batchResult', 'ping', 'pong']);
// How long we keep polling our ring after the last frame in or out, in ms. A caller that
// sends its next call at once (a loop of calls, a batch of them) does so within a few tens of
// microseconds of our Result, and finding us awake saves it a socket write and us a wake-up
// (~10 us each). Longer only burns a core: a polling tick is a trip round the event loop.
// POLYCALL_SHM_POLL_US overrides it (tuning, and tests that need a worker to stay awake).
const POLL_AFTER_LAST_FRAME_MS = (Number(process.env.POLYCALL_SHM_POLL_US) || 50) / 1000;
let wakeBytes;

/**
 * What a running PolyCall function can see of its call (the last argument after the declared
 * ones, and `currentCall()` anywhere below it).
 * @typedef {object} CallContext
 * @property {AbortSignal} signal aborted when the caller cancels or the deadline passes
 * @property {Record<string, string>} metadata the call's metadata
 * @property {number | undefined} deadline Date.now()-based deadline, when the call has one
 * @property {string} function the name called
 * @property {Connection} connection the connection the call came on
 */

/** @type {AsyncLocalStorage<CallContext>} */
const currentContext = new AsyncLocalStorage();

/** The CallContext of the PolyCall function running now, or undefined outside one. */
/** Bytes a socket made with socketReads() reads at most at once. */
const READ_BUFFER_BYTES = 1 << 20;

/**
 * The `onread` option of `net.createConnection` for a socket that a Connection reads, and the
 * `reads` option of that Connection: the socket reads into one reused buffer of a MiB, and each
 * frame is copied out of it once, into its own buffer (FrameReader.pushCopy). Without it, every
 * read comes in a fresh 64 KiB buffer with its own 'data' event: ~150 for an 8 MB ndarray.
 * Bytes that arrive before the Connection attaches are kept for it.
 * @returns {{onread: object, attach: (onBytes: (view: Uint8Array) => void) => void}}
 */
export function socketReads() {
  let deliver = null;
  const early = [];
  return {
    onread: {
      buffer: Buffer.allocUnsafeSlow(READ_BUFFER_BYTES),
      callback(n, buf) {
        const view = buf.subarray(0, n);
        if (deliver) deliver(view);
        else early.push(Buffer.from(view));
      },
    },
    attach(onBytes) {
      deliver = onBytes;
      for (const b of early.splice(0)) onBytes(b);
    },
  };
}

export function currentCall() {
  return currentContext.getStore();
}

/**
 * Calls a function of the node from inside a worker function, through the connection the
 * current call came on. Resolves with the result.
 * @returns {Promise<unknown>}
 * @throws {FailedPreconditionError} (rejects) outside a PolyCall function
 */
export function call(name, ...args) {
  const ctx = currentContext.getStore();
  if (!ctx) {
    return Promise.reject(
      new FailedPreconditionError(`polycall.call('${name}') outside a PolyCall function: use a client from polycall.connect()`),
    );
  }
  return ctx.connection.call(name, args, { signal: ctx.signal });
}

setDefaultCaller((name, args) => call(name, ...args));

function u64(v) {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return BigInt(v.toString()); // protobufjs Long
}

function u64Wire(big) {
  const b = BigInt.asUintN(64, BigInt(big));
  return { low: Number(b & 0xffffffffn) | 0, high: Number(b >> 32n) | 0, unsigned: true };
}

function statusWire({ code, message, frames }) {
  return { code, message, frames: frames.map((f) => ({ ...f, line: f.line | 0 })) };
}

/**
 * The cancellation of one call made to us. Its AbortSignal is made only when the function (or a
 * nested call) looks at `signal`: most functions never do, and an AbortController with its
 * signal was the largest single cost of serving a batch of no-op calls (a fifth of the CPU).
 */
class CallAbort {
  constructor() {
    this.aborted = false;
    this.reason = undefined;
    this.controller = null;
    this.onAbort = null; // the serving code's one listener
  }

  get signal() {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onAbort?.(reason);
  }
}

/** A CallContext (above); a class, so that its lazy `signal` getter costs nothing per call. */
class Context {
  #abort;

  constructor(abort, metadata, deadline, name, connection) {
    this.#abort = abort;
    this.metadata = metadata;
    this.deadline = deadline;
    this.function = name;
    this.connection = connection;
  }

  get signal() {
    return this.#abort.signal;
  }
}

const ZERO_ID = u64Wire(0n);

/**
 * A peer connection over a connected stream socket. Emits 'close' (with the error that closed
 * it, if any) and 'goaway' (with the hub's Status). Not for direct use: see `connect()` and
 * `runWorker()`. Methods never block; `call` returns a Promise.
 */
export class Connection extends EventEmitter {
  /**
   * @param {import('node:net').Socket} socket
   * @param {{functions?: Map<string, import('./function.js').FunctionDef>, log?: (msg: string) => void,
   *   shm?: {map: (path: string) => ArrayBuffer, yield?: () => void} | null}} [options] `shm`: the mapping addon, to
   *   offer shared-memory rings (src/shm.js); without it the connection uses the socket only
   */
  constructor(socket, options = {}) {
    super();
    this.socket = socket;
    this.functions = options.functions ?? new Map();
    this.log = options.log ?? (() => {});
    this.limits = { maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxDepth: DEFAULT_MAX_DEPTH, maxInFlight: 0 };
    this.reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    this.state = 'challenge';
    this.nextCallId = 1n;
    /** @type {Map<bigint, {resolve: Function, reject: Function, done: Function}>} */
    this.pending = new Map();
    /** @type {Map<bigint | symbol | string, {abort: (reason: unknown) => void}>} calls the hub made to us */
    this.serving = new Map();
    this.waitingForSlot = [];
    this.draining = false;
    this.closed = false;
    this.handshakeWaiter = null; // {resolve, reject, who} while the handshake runs
    this.closedPromise = new Promise((resolve) => this.once('close', resolve));
    this.shm = options.shm ?? null;
    /** @type {{inbound: import('./shm.js').Ring, outbound: import('./shm.js').Ring} | null} */
    this.rings = null;
    this.polling = false;
    this.lastFrameAt = 0;
    // Frames that could have used a ring, by where they went: the worker logs them when it ends.
    this.ringStats = { ringIn: 0, socketIn: 0, ringOut: 0, socketOut: 0, wakesOut: 0 };
    this.pollTick = () => this.poll();
    if (options.reads) {
      // The socket reads into one reused buffer (socketReads): the bytes are copied out of it.
      options.reads.attach((view) => this.onData(view, true));
    } else {
      socket.on('data', (chunk) => this.onData(chunk));
    }
    socket.on('error', (err) => this.shutdown(new UnavailableError(`socket error: ${err.message}`, { cause: err })));
    socket.on('end', () => {
      try {
        this.reader.end();
      } catch (e) {
        this.log(`protocol error: ${e.message}`);
      }
    });
    socket.on('close', () => this.shutdown(new UnavailableError('connection closed by the hub')));
  }

  /**
   * Runs the peer side of the handshake (WIRE.md "Handshake").
   * @param {{role: 'WORKER' | 'CLIENT', workerId?: string, secret?: Uint8Array}} who
   * @returns {Promise<object>} the Welcome
   * @throws {UnauthenticatedError} when the hub answers GoAway; FailedPreconditionError on no common version
   */
  handshake(who) {
    return new Promise((resolve, reject) => {
      this.handshakeWaiter = { resolve, reject, who };
    });
  }

  send(frame) {
    if (this.closed) throw new UnavailableError('connection is closed');
    const bytes = encodeFrame(frame, this.limits.maxFrameBytes);
    this.write(bytes, RING_KINDS.has(Object.keys(frame)[0]));
  }

  /**
   * Writes a Result whose value is a big ndarray as [head, the array's own memory] in one
   * gathered write (ndarrayResultParts), not joined into a copy first; false when it is not one
   * (or would fit on the ring), to be sent as any frame is.
   */
  sendBigResult(result) {
    const { low, high } = result.callId;
    const callId = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    const parts = ndarrayResultParts(callId, result.value, this.limits.maxFrameBytes);
    if (!parts) return false;
    const size = parts.reduce((a, p) => a + p.byteLength, 0);
    if (this.rings && size + 8 <= this.rings.outbound.maxRecord) return false;
    if (this.rings) this.ringStats.socketOut++;
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
    if (this.rings) this.expectTraffic();
    return true;
  }

  /**
   * Writes one encoded frame (length prefix included): on our ring when it may go there and
   * there is room and the hub polls it, else on the socket. A frame on the ring that finds the
   * hub asleep after publishing is followed by a Wake on the socket (WIRE.md "Publishing").
   */
  write(bytes, ringKind) {
    const rings = this.rings;
    if (!rings || !ringKind) return void this.socket.write(bytes);
    if (rings.outbound.offer(bytes.subarray(4))) {
      this.ringStats.ringOut++;
      if (rings.outbound.consumerAsleep()) {
        this.ringStats.wakesOut++;
        this.socket.write((wakeBytes ??= encodeFrame({ wake: {} })));
      }
    } else {
      this.ringStats.socketOut++;
      this.socket.write(bytes);
    }
    this.expectTraffic(); // an answer (or the next call) is likely to follow soon
  }

  // ---- shared-memory rings (WIRE.md) ---------------------------------------------------------

  useRings(spec) {
    try {
      this.rings = openRings(this.shm, spec);
      this.log(`shared-memory rings on (${spec.path}, ${spec.ringBytes} bytes each)`);
    } catch (e) {
      this.log(`shared-memory rings refused, using the socket only: ${e.message}`);
    }
  }

  /** Keeps polling our ring for a while from now (starting the polling when asleep). */
  expectTraffic() {
    if (!this.rings || this.closed) return;
    this.lastFrameAt = performance.now();
    if (this.polling) return;
    this.polling = true;
    this.rings.inbound.setAwake(true);
    setImmediate(this.pollTick);
  }

  /**
   * One polling step, run from a setImmediate chain so the event loop keeps turning between
   * steps (socket reads, timers and async functions all run). Goes to sleep after
   * POLL_AFTER_LAST_FRAME_MS without a frame; the next socket frame (a Wake, say) or frame we
   * send restarts it.
   */
  poll() {
    const rings = this.rings;
    if (this.closed || !rings) {
      this.polling = false;
      return;
    }
    if (this.drainRing() > 0) {
      this.lastFrameAt = performance.now();
    } else {
      if (performance.now() - this.lastFrameAt > POLL_AFTER_LAST_FRAME_MS && rings.inbound.trySleep()) {
        this.polling = false;
        return;
      }
      // Give the core away between empty polls (sched_yield): on a machine with more busy
      // threads than cores the hub's thread may be waiting for this very core. Measured with a
      // Node hub against this worker at load 8 on 2 cores: p50 74 us and most calls on the socket
      // without it, 13-17 us and 98% on the ring with it.
      this.shm.yield?.();
    }
    setImmediate(this.pollTick);
  }

  /**
   * Dispatches every frame waiting on our ring, as frames from the socket are. Runs before any
   * socket frame is dispatched, so a frame sent on the socket after one on the ring (a Cancel
   * after its Call) is seen after it.
   * @returns {number} frames consumed
   */
  drainRing() {
    if (!this.rings || this.closed) return 0;
    try {
      return this.rings.inbound.drain((body) => this.onRingBody(body), () => this.closed);
    } catch (e) {
      if (!(e instanceof RingError)) throw e;
      this.protocolError(e.message);
      return 0;
    }
  }

  onRingBody(body) {
    if (body.length > this.limits.maxFrameBytes) {
      throw new RingError(`ring frame of ${body.length} bytes is over the limit of ${this.limits.maxFrameBytes}`);
    }
    let frame;
    try {
      frame = decodeFrame(body, { maxDepth: this.limits.maxDepth, via: this });
    } catch (e) {
      throw new RingError(`ring record: ${e.message}`);
    }
    if (!RING_KINDS.has(frame.body)) throw new RingError(`a ${frame.body} frame on the ring (only calls, results, batches and pings go there)`);
    this.ringStats.ringIn++;
    this.dispatch(frame);
  }

  dispatch(frame) {
    try {
      this.onFrame(frame);
    } catch (e) {
      this.log(`error handling a ${frame.body} frame: ${e.stack}`);
    }
  }

  /** Ends the socket after our last frames; a Wake first makes the hub drain our ring before. */
  endSocket() {
    if (this.rings && !this.socket.destroyed) this.socket.write((wakeBytes ??= encodeFrame({ wake: {} })));
    this.socket.end();
  }

  // ---- frames ----------------------------------------------------------------------------------

  onData(chunk, reused = false) {
    let bodies;
    try {
      bodies = reused ? this.reader.pushCopy(chunk) : this.reader.push(chunk);
    } catch (e) {
      return this.protocolError(e.message);
    }
    for (const body of bodies) {
      if (this.closed) return;
      this.drainRing();
      if (this.closed) return;
      let frame;
      try {
        frame = decodeFrame(body, { maxDepth: this.limits.maxDepth, via: this });
      } catch (e) {
        return this.protocolError(e.message);
      }
      if (this.rings && RING_KINDS.has(frame.body)) this.ringStats.socketIn++;
      this.dispatch(frame);
    }
    if (bodies.length) this.expectTraffic(); // the hub is active: its next frames may use our ring
  }

  onFrame(frame) {
    const kind = frame.body;
    const m = frame[kind];
    if (this.state === 'challenge') {
      if (kind === 'goaway') return this.handshakeFailed(m);
      if (kind !== 'challenge') return this.protocolError(`expected Challenge, got ${kind}`);
      return this.onChallenge(m);
    }
    if (this.state === 'welcome') {
      if (kind === 'goaway') return this.handshakeFailed(m);
      if (kind !== 'welcome') return this.protocolError(`expected Welcome, got ${kind}`);
      const l = m.limits ?? {};
      this.limits = {
        maxFrameBytes: l.maxFrameBytes || DEFAULT_MAX_FRAME_BYTES,
        maxDepth: l.maxDepth || DEFAULT_MAX_DEPTH,
        maxInFlight: l.maxInFlight || 0,
      };
      this.reader.maxFrameBytes = this.limits.maxFrameBytes;
      this.nodeId = m.nodeId ?? '';
      if (m.rings?.path && this.shm) this.useRings(m.rings);
      this.state = 'open';
      const waiter = this.handshakeWaiter;
      this.handshakeWaiter = null;
      return waiter?.resolve(m);
    }
    switch (kind) {
      case 'call': {
        const finish = (result) => {
          // The Result goes out before the call stops counting toward a drain.
          this.sendResult(result);
          this.serving.delete(u64(m.callId));
          this.maybeFinishDrain();
        };
        const result = this.serveCall(m);
        return void (result instanceof Promise ? result.then(finish) : finish(result));
      }
      case 'batch':
        return void this.serveBatch(m);
      case 'result':
        return this.onResult(m);
      case 'cancel':
        return this.serving.get(u64(m.callId))?.abort(new CancelledError('cancelled by the caller'));
      case 'ping':
        return this.send({ pong: { nonce: m.nonce } });
      case 'pong':
      case 'wake': // its work is done: the ring was drained before this frame was dispatched
        return undefined;
      case 'goaway':
        return this.onGoAway(m);
      default:
        this.log(`ignoring an unexpected ${kind} frame`);
    }
  }

  onChallenge(ch) {
    if (!this.handshakeWaiter) return this.protocolError('Challenge before handshake() was called');
    const { who } = this.handshakeWaiter;
    const versions = ch.versions ?? [];
    if (!versions.includes(PROTOCOL_VERSION)) {
      const err = new FailedPreconditionError(`no common protocol version (hub speaks ${versions.join(', ') || 'none'}, we speak ${PROTOCOL_VERSION})`);
      this.handshakeWaiter.reject(err);
      return this.shutdown(err);
    }
    const hello = {
      version: PROTOCOL_VERSION,
      role: who.role === 'WORKER' ? 1 : 2,
      language: 'javascript',
      sdkVersion: SDK_VERSION,
      pid: process.pid,
    };
    if (this.shm) hello.features = [SHM_FEATURE];
    if (who.role === 'WORKER') {
      hello.workerId = who.workerId;
      hello.proof = createHmac('sha256', who.secret).update(ch.nonce).update(Buffer.from(who.workerId, 'utf8')).digest();
    }
    this.state = 'welcome';
    this.send({ hello });
  }

  handshakeFailed(goaway) {
    const st = goaway.status ?? {};
    const err = st.code === Code.UNAUTHENTICATED || !st.code
      ? new UnauthenticatedError(`hub refused the handshake: ${st.message || 'no reason given'}`)
      : fromStatus(st);
    this.handshakeWaiter?.reject(err);
    this.shutdown(err);
  }

  protocolError(reason) {
    this.log(`protocol error: ${reason}`);
    try {
      this.send({ goaway: { status: { code: Code.INVALID_ARGUMENT, message: reason } } });
    } catch {
      // already closed
    }
    const err = new UnavailableError(`protocol error: ${reason}`);
    this.handshakeWaiter?.reject(err);
    this.shutdown(err);
  }

  // ---- calls we make -------------------------------------------------------------------------

  /**
   * Calls `name` through the hub. Resolves with the result; rejects with a PolyCallError.
   * @param {string} name
   * @param {unknown[]} args
   * @param {{timeoutMs?: number, signal?: AbortSignal, metadata?: Record<string, string>}} [options]
   */
  async call(name, args, options = {}) {
    const { signal, timeoutMs, metadata } = options;
    if (this.state !== 'open') throw new UnavailableError(`connection is ${this.closed ? 'closed' : 'not open'}`);
    if (this.draining) throw new UnavailableError('connection is draining (GoAway)');
    signal?.throwIfAborted?.call(signal);
    if (this.limits.maxInFlight && this.pending.size >= this.limits.maxInFlight) {
      await new Promise((resolve) => this.waitingForSlot.push(resolve));
      if (this.closed) throw new UnavailableError('connection closed');
    }
    const callId = this.nextCallId++;
    const frame = {
      call: {
        callId: u64Wire(callId),
        function: name,
        args: args.map((a, i) => new Outgoing(a, undefined, `args[${i}]`)),
        timeoutNanos: timeoutMs ? u64Wire(BigInt(Math.ceil(timeoutMs * 1e6))) : undefined,
        metadata: metadata ?? {},
      },
    };
    const bytes = encodeFrame(frame, this.limits.maxFrameBytes); // throws OUT_OF_RANGE etc. before sending
    return new Promise((resolve, reject) => {
      let timer;
      const onAbort = () => {
        this.cancelOutgoing(callId);
        reject(new CancelledError(`call to ${name} cancelled`, { cause: signal.reason }));
      };
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(callId);
        this.waitingForSlot.shift()?.();
        this.maybeFinishDrain();
      };
      this.pending.set(callId, { resolve, reject, done, name });
      if (timeoutMs && timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          this.cancelOutgoing(callId);
          reject(new DeadlineExceededError(`call to ${name} exceeded its ${timeoutMs} ms deadline`));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.write(bytes, true);
    });
  }

  cancelOutgoing(callId) {
    const p = this.pending.get(callId);
    if (!p) return;
    p.done();
    if (!this.closed) this.send({ cancel: { callId: u64Wire(callId) } });
  }

  onResult(m) {
    const p = this.pending.get(u64(m.callId));
    if (!p) return; // cancelled or timed out: the answer is ignored
    p.done();
    if (m.status) return p.reject(fromStatus(m.status));
    if (!m.value) return p.reject(new InvalidArgumentError(`result of ${p.name} has neither value nor status`));
    if (m.value.error) return p.reject(m.value.error);
    p.resolve(m.value.value);
  }

  // ---- calls made to us ----------------------------------------------------------------------

  /**
   * Runs one Call. Returns the wire Result, or for a function that returns a promise a Promise
   * of it (never rejected): a synchronous function's Result is ready at once, with no promise
   * and no microtask turn per call (most of a batch of quick calls).
   */
  serveCall(c, inBatch = false) {
    // Batch entries answer with call id 0 (WIRE.md "Batch"), whatever they carry.
    const callId = inBatch ? 0n : u64(c.callId);
    const base = { callId: inBatch ? ZERO_ID : u64Wire(callId) };
    const fail = (code, message, frames = []) => ({ ...base, status: statusWire({ code, message, frames }) });
    if (this.draining && !inBatch) return fail(Code.UNAVAILABLE, 'worker is draining');
    const fullName = String(c.function);
    const at = fullName.indexOf('@');
    const def = this.functions.get(at < 0 ? fullName : fullName.slice(0, at));
    if (!def || (at >= 0 && Number(fullName.slice(at + 1)) !== def.version)) {
      return fail(Code.NOT_FOUND, `function ${c.function} is not hosted here`);
    }
    const wireArgs = c.args ?? [];
    const args = new Array(wireArgs.length);
    for (let i = 0; i < wireArgs.length; i++) {
      const a = wireArgs[i];
      if (a.error) return fail(Code.INVALID_ARGUMENT, `args[${i}]: ${a.error.message}`);
      args[i] = a.value;
    }
    const params = def.parsed.params;
    if (args.length !== params.length) {
      return fail(Code.INVALID_ARGUMENT, `${def.name} takes ${params.length} argument(s), got ${args.length}`);
    }
    const abort = new CallAbort();
    // Batch entries have no call id of their own; they are still aborted on close and drained.
    const key = inBatch ? Symbol('batch entry') : callId;
    this.serving.set(key, abort);
    const timeoutNanos = u64(c.timeoutNanos);
    // Beyond what setTimeout can wait (~24.8 days) a deadline is as good as none.
    const timeoutMs = timeoutNanos && timeoutNanos < MAX_TIMER_NANOS ? Number(timeoutNanos / 1000000n) || 1 : 0;
    let timer;
    if (timeoutMs) {
      timer = setTimeout(
        () => abort.abort(new DeadlineExceededError(`${def.name} ran past its deadline of ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
    const ctx = new Context(abort, { ...(c.metadata ?? {}) }, timeoutMs ? Date.now() + timeoutMs : undefined, def.name, this);
    const done = () => {
      clearTimeout(timer);
      // A lone call leaves `serving` once its Result is out (see onFrame), a batch entry here:
      // its batch is still in `serving` until the BatchResult is out.
      if (inBatch) this.serving.delete(key);
    };
    let returned;
    try {
      returned = currentContext.run(ctx, () => def.implementation(...args, ctx));
    } catch (err) {
      done();
      return this.failedCall(err, def, fail);
    }
    if (returned === null || (typeof returned !== 'object' && typeof returned !== 'function') || typeof returned.then !== 'function') {
      done();
      // A synchronous implementation has returned before any Cancel or deadline could be
      // seen (they arrive on this thread): no promises to race.
      if (abort.aborted) return this.failedCall(abort.reason, def, fail);
      return { ...base, value: new Outgoing(returned, def.parsed.result, 'result') };
    }
    return this.settleCall(returned, abort, def, base, fail).finally(done);
  }

  /** The Result of an async function: its value, or the abort (Cancel, deadline) if first. */
  async settleCall(returned, abort, def, base, fail) {
    try {
      const run = Promise.resolve(returned);
      const stopped = new Promise((resolve) => {
        if (abort.aborted) resolve(abort.reason);
        else abort.onAbort = resolve;
      });
      // Whichever comes first: the result, or the abort. A late result is dropped.
      const outcome = await Promise.race([run.then((v) => ({ v })), stopped.then((reason) => ({ reason }))]);
      run.catch(() => {}); // an aborted implementation may still reject later
      if ('reason' in outcome) throw outcome.reason;
      return { ...base, value: new Outgoing(outcome.v, def.parsed.result, 'result') };
    } catch (err) {
      return this.failedCall(err, def, fail);
    }
  }

  /** The failed Result for what a function threw (logged unless it is a PolyCallError). */
  failedCall(err, def, fail) {
    const st = toStatus(err);
    // An anonymous implementation shows as the property it is called through: name it instead.
    const frames = st.frames.map((f) => (f.function === 'implementation' ? { ...f, function: def.name } : f));
    if (!(err instanceof PolyCallError)) {
      this.log(`${def.name} failed: ${st.message}${frames.map((f) => `\n    at ${f.function} (${f.file}:${f.line})`).join('')}`);
    }
    return fail(st.code, st.message, frames);
  }

  sendResult(result) {
    if (this.closed) return;
    try {
      if (result.value instanceof Outgoing && this.sendBigResult(result)) return;
      this.send({ result });
    } catch (e) {
      // Over the frame limit, say: the call fails, the connection lives on.
      const st = toStatus(e);
      this.send({ result: { callId: result.callId, status: statusWire(st) } });
    }
  }

  /**
   * Sends a BatchResult. One result that does not encode (a value out of its range, say) must
   * fail only its own entry: when the whole frame does not encode, each entry is checked alone
   * and the bad ones become their failure. (Checking every entry up front encoded each result
   * twice: most of a batched no-op's cost.)
   */
  sendBatchResult(batchId, results) {
    try {
      this.send({ batchResult: { batchId, results } });
      return;
    } catch (e) {
      if (this.closed) throw e;
    }
    const checked = results.map((r) => {
      if (!r.value) return r;
      try {
        encodeFrame({ result: r }, Infinity);
        return r;
      } catch (err) {
        return { callId: r.callId, status: statusWire(toStatus(err)) };
      }
    });
    try {
      this.send({ batchResult: { batchId, results: checked } });
    } catch (e) {
      if (this.closed) throw e;
      // Each result fits alone, not all together: none can go, so each fails with the reason
      // (RESOURCE_EXHAUSTED), as the Python worker answers.
      const status = statusWire(toStatus(e));
      this.send({ batchResult: { batchId, results: checked.map(() => ({ callId: ZERO_ID, status })) } });
    }
  }

  async serveBatch(b) {
    this.serving.set(`batch:${u64(b.batchId)}`, new AbortController());
    try {
      const entries = (b.calls ?? []).map((c) => this.serveCall(c, true));
      const results = entries.some((r) => r instanceof Promise) ? await Promise.all(entries) : entries;
      if (!this.closed) this.sendBatchResult(b.batchId, results);
    } finally {
      this.serving.delete(`batch:${u64(b.batchId)}`);
      this.maybeFinishDrain();
    }
  }

  // ---- shutdown ------------------------------------------------------------------------------

  onGoAway(m) {
    const st = m.status ?? { code: 0, message: '' };
    this.log(`hub sent GoAway${st.code ? ` (${st.code}: ${st.message})` : ''}: draining`);
    this.emit('goaway', st);
    this.draining = true;
    if (st.code) {
      for (const c of this.serving.values()) c.abort(fromStatus(st));
    }
    this.maybeFinishDrain();
  }

  /**
   * Stops taking calls, lets those in flight (both directions) finish, then closes.
   * @returns {Promise<void>} resolves once closed
   */
  drain() {
    if (!this.draining && this.state === 'open') {
      this.send({ goaway: { status: {} } }); // tell the hub to send no new calls
    }
    this.draining = true;
    this.maybeFinishDrain();
    return this.closedPromise.then(() => {});
  }

  maybeFinishDrain() {
    if (this.draining && !this.closed && this.serving.size === 0 && this.pending.size === 0) {
      this.endSocket();
      this.shutdown(undefined);
    }
  }

  /** Closes now: calls in flight fail with UNAVAILABLE. Idempotent. */
  close() {
    if (!this.closed) {
      this.endSocket();
      this.shutdown(new UnavailableError('connection closed'));
    }
    return this.closedPromise.then(() => {});
  }

  shutdown(err) {
    if (this.closed) return;
    this.closed = true;
    this.state = 'closed';
    if (this.rings) {
      this.rings.inbound.setAwake(false);
      const st = this.ringStats;
      this.log(`frames in: ${st.ringIn} on the ring, ${st.socketIn} on the socket; out: ${st.ringOut} on the ring (${st.wakesOut} Wake), ${st.socketOut} on the socket`);
    }
    this.rings = null; // the mapping goes when the buffer is collected
    const failure = err ?? new UnavailableError('connection closed');
    this.handshakeWaiter?.reject(failure);
    for (const p of [...this.pending.values()]) {
      p.done();
      p.reject(failure);
    }
    for (const c of this.serving.values()) c.abort(failure);
    for (const w of this.waitingForSlot.splice(0)) w();
    // Let what was written (a last Result, a GoAway) reach the other side, then close.
    if (!this.socket.destroyed) {
      if (typeof this.socket.destroySoon === 'function') this.socket.destroySoon();
      else this.socket.end();
    }
    this.emit('close', err);
  }
}
