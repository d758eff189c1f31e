// A client connection: calls any function of a node through the hub's client socket.

import { EventEmitter } from 'node:events';
import { createConnection } from 'node:net';
import { Connection } from './connection.js';
import { InvalidArgumentError, UnavailableError } from './errors.js';
import { parseTarget } from './target.js';

/**
 * @typedef {object} CallOptions
 * @property {number} [timeoutMs] deadline relative to now; DEADLINE_EXCEEDED after it
 * @property {AbortSignal} [signal] aborting it cancels the call (CANCELLED)
 * @property {Record<string, string>} [metadata]
 */

/**
 * A connected client. Many calls may be in flight at once; results come back in any order.
 * Emits 'close' (err?) when the connection ends and 'goaway' (status) when the hub drains it.
 */
export class Client extends EventEmitter {
  /** @param {Connection} conn @param {CallOptions} [defaults] */
  constructor(conn, defaults = {}) {
    super();
    this.connection = conn;
    this.defaults = defaults;
    conn.on('close', (err) => this.emit('close', err));
    conn.on('goaway', (st) => this.emit('goaway', st));
  }

  /**
   * Calls `name` with `args`; resolves with its result.
   * @param {string} name "math.cos" or "math.cos@2"
   * @returns {Promise<any>}
   */
  call(name, ...args) {
    return this.connection.call(name, args, this.defaults);
  }

  /**
   * Same as call() with an explicit argument array and options.
   * @param {string} name
   * @param {unknown[]} args
   * @param {CallOptions} [options]
   */
  invoke(name, args = [], options = {}) {
    return this.connection.call(name, args, { ...this.defaults, ...options });
  }

  /**
   * A view of this client whose calls use `options` (shares the connection):
   * `await client.withOptions({ timeoutMs: 500 }).call('math.cos', 0)`.
   * @param {CallOptions} options
   * @returns {Client}
   */
  withOptions(options) {
    const view = Object.create(this);
    view.defaults = { ...this.defaults, ...options };
    return view;
  }

  /**
   * The functions of the node whose names match `glob` ("math.*"), from the hub's
   * `polycall.functions` built-in.
   * @param {string} [glob]
   * @returns {Promise<Array<{name: string, signature: string, version: number, tags: string[], doc: string}>>}
   */
  async functions(glob = '*') {
    const list = await this.call('polycall.functions', glob);
    return (list ?? []).map((f) => {
      const sig = typeof f === 'string' ? f : String(f.signature ?? '');
      return {
        name: typeof f === 'object' && f.name ? String(f.name) : sig.slice(0, sig.indexOf('(')),
        signature: sig,
        version: Number(f.version ?? 1) || 1,
        tags: Array.isArray(f.tags) ? f.tags.map(String) : [],
        doc: String(f.doc ?? ''),
      };
    });
  }

  /** The node's id (from its Welcome, or its gRPC ListFunctions answer; '' over HTTP). */
  get nodeId() {
    return this.connection.nodeId ?? '';
  }

  /** Whether the connection has closed. */
  get closed() {
    return this.connection.closed;
  }

  /**
   * Closes the connection; calls in flight fail with UNAVAILABLE. Idempotent.
   * @returns {Promise<void>}
   */
  close() {
    return this.connection.close();
  }
}

/**
 * Connects to a node: its client socket (a path or unix:///path), or a remote node at
 * grpc://host:port, grpcs://host[:port] (TLS), http://host[:port] or https://... (the gateway).
 * Resolves once the node has answered (the socket's handshake, or a first request).
 *
 * Options besides the call defaults (timeoutMs, signal for calls is per call, metadata):
 * - token: sent as `authorization: Bearer <token>` on every remote call
 * - ca: the CA a TLS node's certificate must chain to (PEM text, Buffer or file path)
 * - cert, key: this client's certificate and key, for mutual TLS
 * - timeout: alias of timeoutMs, the default deadline of each call in ms
 * - connectTimeoutMs: bound on connecting (default 30000)
 * - signal: aborts connecting
 * @param {string} target
 * @returns {Promise<Client>}
 * @throws {InvalidArgumentError} a malformed target; {UnavailableError} when the node cannot be
 *   reached; UnauthenticatedError or PermissionDeniedError when it refuses
 */
export async function connect(target, options = {}) {
  const { signal, log, token, ca, cert, key, timeout, connectTimeoutMs = 30000, ...defaults } = options;
  if (timeout !== undefined && defaults.timeoutMs === undefined) defaults.timeoutMs = timeout;
  signal?.throwIfAborted();
  const t = parseTarget(target);
  if (t.kind !== 'unix') {
    // Imported on first use: a worker or a socket client never loads @grpc/grpc-js.
    const transport =
      t.kind === 'grpc'
        ? new (await import('./grpc.js')).GrpcTransport(t, { token, ca, cert, key })
        : new (await import('./http.js')).HttpTransport(t, { token, ca, cert, key });
    const onAbort = () => transport.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await transport.start(connectTimeoutMs);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return new Client(transport, defaults);
  }
  if (token !== undefined || ca !== undefined || cert !== undefined || key !== undefined) {
    throw new InvalidArgumentError('token, ca, cert and key are for remote nodes (grpc://, http://)');
  }
  const socketPath = t.path;
  const socket = createConnection(socketPath);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (e) => reject(new UnavailableError(`cannot connect to ${socketPath}: ${e.message}`, { cause: e })));
  });
  const conn = new Connection(socket, { log });
  const onAbort = () => conn.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await conn.handshake({ role: 'CLIENT' });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return new Client(conn, defaults);
}
