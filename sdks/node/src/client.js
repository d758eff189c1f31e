// A client connection: calls any function of a node through the hub's client socket.

import { EventEmitter } from 'node:events';
import { createConnection } from 'node:net';
import { Connection } from './connection.js';
import { UnavailableError } from './errors.js';

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
 * Connects to a node's client socket and runs the handshake (role CLIENT).
 * @param {string} socketPath
 * @param {{signal?: AbortSignal, log?: (msg: string) => void} & CallOptions} [options] call defaults besides signal
 * @returns {Promise<Client>}
 * @throws {UnavailableError} when the socket cannot be reached; UnauthenticatedError if refused
 */
export async function connect(socketPath, options = {}) {
  const { signal, log, ...defaults } = options;
  signal?.throwIfAborted();
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
