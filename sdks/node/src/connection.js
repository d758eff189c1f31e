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
import { setDefaultCaller } from './values.js';

export const SDK_VERSION = '0.1.0';
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_TIMER_NANOS = BigInt(MAX_TIMER_MS) * 1000000n;
export const PROTOCOL_VERSION = 1;

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
 * A peer connection over a connected stream socket. Emits 'close' (with the error that closed
 * it, if any) and 'goaway' (with the hub's Status). Not for direct use: see `connect()` and
 * `runWorker()`. Methods never block; `call` returns a Promise.
 */
export class Connection extends EventEmitter {
  /**
   * @param {import('node:net').Socket} socket
   * @param {{functions?: Map<string, import('./function.js').FunctionDef>, log?: (msg: string) => void}} [options]
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
    /** @type {Map<bigint, AbortController>} calls the hub made to us */
    this.serving = new Map();
    this.waitingForSlot = [];
    this.draining = false;
    this.closed = false;
    this.handshakeWaiter = null; // {resolve, reject, who} while the handshake runs
    this.closedPromise = new Promise((resolve) => this.once('close', resolve));
    socket.on('data', (chunk) => this.onData(chunk));
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
    this.socket.write(encodeFrame(frame, this.limits.maxFrameBytes));
  }

  onData(chunk) {
    let bodies;
    try {
      bodies = this.reader.push(chunk);
    } catch (e) {
      return this.protocolError(e.message);
    }
    for (const body of bodies) {
      if (this.closed) return;
      let frame;
      try {
        frame = decodeFrame(body, { maxDepth: this.limits.maxDepth, via: this });
      } catch (e) {
        return this.protocolError(e.message);
      }
      try {
        this.onFrame(frame);
      } catch (e) {
        this.log(`error handling a ${frame.body} frame: ${e.stack}`);
      }
    }
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
      this.state = 'open';
      const waiter = this.handshakeWaiter;
      this.handshakeWaiter = null;
      return waiter?.resolve(m);
    }
    switch (kind) {
      case 'call':
        return void this.serveCall(m).then((result) => {
          // The Result goes out before the call stops counting toward a drain.
          this.sendResult(result);
          this.serving.delete(u64(m.callId));
          this.maybeFinishDrain();
        });
      case 'batch':
        return void this.serveBatch(m);
      case 'result':
        return this.onResult(m);
      case 'cancel':
        return this.serving.get(u64(m.callId))?.abort(new CancelledError('cancelled by the caller'));
      case 'ping':
        return this.send({ pong: { nonce: m.nonce } });
      case 'pong':
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
      this.socket.write(bytes);
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

  /** Runs one Call; resolves with the wire Result (never rejects). */
  async serveCall(c, inBatch = false) {
    const callId = u64(c.callId);
    const base = { callId: u64Wire(callId) };
    const fail = (code, message, frames = []) => ({ ...base, status: statusWire({ code, message, frames }) });
    if (this.draining && !inBatch) return fail(Code.UNAVAILABLE, 'worker is draining');
    const [name, versionText] = String(c.function).split('@');
    const def = this.functions.get(name);
    if (!def || (versionText !== undefined && Number(versionText) !== def.version)) {
      return fail(Code.NOT_FOUND, `function ${c.function} is not hosted here`);
    }
    const args = [];
    for (const [i, a] of (c.args ?? []).entries()) {
      if (a.error) return fail(Code.INVALID_ARGUMENT, `args[${i}]: ${a.error.message}`);
      args.push(a.value);
    }
    const params = def.parsed.params;
    if (args.length !== params.length) {
      return fail(Code.INVALID_ARGUMENT, `${def.name} takes ${params.length} argument(s), got ${args.length}`);
    }
    const controller = new AbortController();
    // Batch entries have no call id of their own; they are still aborted on close and drained.
    const key = inBatch ? Symbol('batch entry') : callId;
    this.serving.set(key, controller);
    const timeoutNanos = u64(c.timeoutNanos);
    // Beyond what setTimeout can wait (~24.8 days) a deadline is as good as none.
    const timeoutMs = timeoutNanos && timeoutNanos < MAX_TIMER_NANOS ? Number(timeoutNanos / 1000000n) || 1 : 0;
    let timer;
    if (timeoutMs) {
      timer = setTimeout(
        () => controller.abort(new DeadlineExceededError(`${def.name} ran past its deadline of ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
    const ctx = {
      signal: controller.signal,
      metadata: { ...(c.metadata ?? {}) },
      deadline: timeoutMs ? Date.now() + timeoutMs : undefined,
      function: def.name,
      connection: this,
    };
    try {
      const returned = currentContext.run(ctx, () => def.implementation(...args, ctx));
      let outcome;
      if (returned !== null && (typeof returned === 'object' || typeof returned === 'function') && typeof returned.then === 'function') {
        const run = Promise.resolve(returned);
        const stopped = new Promise((resolve) => {
          if (controller.signal.aborted) resolve(controller.signal.reason);
          controller.signal.addEventListener('abort', () => resolve(controller.signal.reason), { once: true });
        });
        // Whichever comes first: the result, or the abort (Cancel, deadline). A late result is dropped.
        outcome = await Promise.race([run.then((v) => ({ v })), stopped.then((reason) => ({ reason }))]);
        run.catch(() => {}); // an aborted implementation may still reject later
      } else {
        // A synchronous implementation has returned before any Cancel or deadline could be
        // seen (they arrive on this thread): no promises to race.
        outcome = controller.signal.aborted ? { reason: controller.signal.reason } : { v: returned };
      }
      if ('reason' in outcome) throw outcome.reason;
      return { ...base, value: new Outgoing(outcome.v, def.parsed.result, 'result') };
    } catch (err) {
      const st = toStatus(err);
      // An anonymous implementation shows as the property it is called through: name it instead.
      const frames = st.frames.map((f) => (f.function === 'implementation' ? { ...f, function: def.name } : f));
      if (!(err instanceof PolyCallError)) {
        this.log(`${def.name} failed: ${st.message}${frames.map((f) => `\n    at ${f.function} (${f.file}:${f.line})`).join('')}`);
      }
      return fail(st.code, st.message, frames);
    } finally {
      clearTimeout(timer);
      // A lone call leaves `serving` once its Result is out (see onFrame), a batch entry here:
      // its batch is still in `serving` until the BatchResult is out.
      if (inBatch) this.serving.delete(key);
    }
  }

  sendResult(result) {
    if (this.closed) return;
    try {
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
    this.send({ batchResult: { batchId, results: checked } });
  }

  async serveBatch(b) {
    this.serving.set(`batch:${u64(b.batchId)}`, new AbortController());
    try {
      const results = await Promise.all((b.calls ?? []).map((c) => this.serveCall({ ...c, callId: 0 }, true)));
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
      this.socket.end();
      this.shutdown(undefined);
    }
  }

  /** Closes now: calls in flight fail with UNAVAILABLE. Idempotent. */
  close() {
    if (!this.closed) {
      this.socket.end();
      this.shutdown(new UnavailableError('connection closed'));
    }
    return this.closedPromise.then(() => {});
  }

  shutdown(err) {
    if (this.closed) return;
    this.closed = true;
    this.state = 'closed';
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
