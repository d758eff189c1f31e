// Remote nodes: the transports behind `connect('grpc://...')` and `connect('http://...')`.
//
// Each transport has the part of Connection's contract that Client uses (call(name, args,
// options), close(), closed, 'close' events), so a remote node is reached through the same
// Client class, with the same options and the same PolyCallError subclasses as the socket.
//
//   grpc://host:port, grpcs://host[:port]   polycall.v1.PolyCall (spec/service.proto) through
//                                           @grpc/grpc-js; values are the socket's Value messages
//                                           (TypedArrays as one ndarray block); a failed call's
//                                           trailer `polycall-status-bin` holds the whole Status
//   http://host[:port], https://...[/prefix] the HTTP gateway (docs/http.md): POST
//                                           /v1/call/{function} with a JSON array, values as
//                                           src/json.js maps them; node:http(s) with keep-alive

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import * as grpc from '@grpc/grpc-js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_BYTES,
  Outgoing,
  decodeMessage,
  encodeMessage,
  messageType,
} from './codec.js';
import {
  CancelledError,
  Code,
  DeadlineExceededError,
  InvalidArgumentError,
  PolyCallError,
  UnavailableError,
  fromStatus,
} from './errors.js';
import { fromJson, toJson } from './json.js';
import { parseSignature } from './signature.js';
import { SDK_VERSION } from './connection.js';

export const STATUS_TRAILER = 'polycall-status-bin';
const FUNCTIONS_FUNCTION = 'polycall.functions';
/** Beyond the deadline the node enforces, how long this side waits for its answer (HTTP). */
const GRACE_MS = 2000;

const SCHEMES = {
  'grpc:': { kind: 'grpc', tls: false, port: undefined },
  'grpcs:': { kind: 'grpc', tls: true, port: 443 },
  'http:': { kind: 'http', tls: false, port: 80 },
  'https:': { kind: 'http', tls: true, port: 443 },
};

/**
 * What connect() was given: `{kind: 'unix', path}` for a socket path (or unix:///path), else
 * `{kind: 'grpc'|'http', tls, host, port, path, url}`.
 * @param {string} text
 * @throws {InvalidArgumentError} saying what a valid target looks like
 */
export function parseTarget(text) {
  if (typeof text !== 'string' || !text) {
    throw new InvalidArgumentError(`connect() needs a socket path or a URL (grpc://host:port, http://host:port), got ${String(text)}`);
  }
  if (!text.includes('://')) return { kind: 'unix', path: text, url: text };
  const scheme = `${text.slice(0, text.indexOf('://')).toLowerCase()}:`;
  if (scheme === 'unix:') {
    const path = text.slice('unix://'.length);
    if (!path) throw new InvalidArgumentError(`'${text}' names no socket: write unix:///path/to/client.sock`);
    return { kind: 'unix', path, url: text };
  }
  const s = SCHEMES[scheme];
  if (!s) throw new InvalidArgumentError(`'${text}': unknown scheme '${scheme.slice(0, -1)}'; use grpc://, grpcs://, http://, https:// or a socket path`);
  let u;
  try {
    // WHATWG URL knows no default port for grpc:, so it keeps the one written.
    u = new URL(text);
  } catch {
    throw new InvalidArgumentError(`'${text}' is not a URL; write ${scheme}//host:port`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new InvalidArgumentError(`'${text}' names no host: write ${scheme}//host:port`);
  let port = u.port ? Number(u.port) : s.port;
  if (port === undefined) throw new InvalidArgumentError(`'${text}' has no port; gRPC has no default: write ${scheme}//${u.hostname}:PORT`);
  if (port === 0) throw new InvalidArgumentError(`'${text}': port 0 cannot be connected to`);
  if (u.username || u.password) throw new InvalidArgumentError(`'${text}': credentials in the URL are not sent; use the token option`);
  if (u.search || u.hash) throw new InvalidArgumentError(`'${text}': a node URL takes no query or fragment`);
  const path = u.pathname.replace(/\/+$/, '');
  if (s.kind === 'grpc' && path) throw new InvalidArgumentError(`'${text}': a gRPC URL has no path; write ${scheme}//${u.hostname}:${port}`);
  return { kind: s.kind, tls: s.tls, host, port, path, url: text, authority: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}

/** PEM from a Buffer, PEM text, or the path of a file holding it. */
function pem(source, what) {
  if (source === undefined || source === null) return undefined;
  if (typeof source !== 'string') return Buffer.from(source);
  if (source.startsWith('-----BEGIN')) return Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: cannot read ${source}: ${e.message}`);
  }
}

function checkTls(target, { ca, cert, key }) {
  if (!target.tls && (ca || cert || key)) {
    throw new InvalidArgumentError(`ca, cert and key need TLS: write ${target.url.replace('://', 's://')}`);
  }
  if (!cert !== !key) throw new InvalidArgumentError('mutual TLS needs both cert and key');
}

function deadlineMessage(name, timeoutMs) {
  return `call to ${name} exceeded its ${timeoutMs} ms deadline`;
}

// ---- gRPC -------------------------------------------------------------------------------------

const CallType = messageType('polycall.v1.Call');
const ResultType = messageType('polycall.v1.Result');
const StatusType = messageType('polycall.v1.Status');
const ListRequestType = messageType('polycall.v1.ListFunctionsRequest');
const ListResponseType = messageType('polycall.v1.ListFunctionsResponse');

/**
 * The PolyCallError of a failed gRPC call: the trailer's Status when the node sent one, else
 * the gRPC status code and details.
 */
export function errorOfGrpc(err, target, name, timeoutMs) {
  const trailer = err.metadata?.get?.(STATUS_TRAILER)?.[0];
  if (trailer instanceof Uint8Array) {
    try {
      return fromStatus(decodeMessage(StatusType, trailer));
    } catch {
      // a broken trailer: the gRPC status itself still says what happened
    }
  }
  const code = typeof err.code === 'number' ? err.code : Code.UNKNOWN;
  const details = err.details ?? err.message ?? '';
  if (code === Code.DEADLINE_EXCEEDED && timeoutMs) return new DeadlineExceededError(deadlineMessage(name, timeoutMs));
  if (code === Code.UNAVAILABLE) return new UnavailableError(`cannot reach ${target.url}: ${details}`);
  return PolyCallError.of(code, details);
}

export class GrpcTransport extends EventEmitter {
  /**
   * @param {ReturnType<typeof parseTarget>} target
   * @param {{token?: string, ca?: string|Uint8Array, cert?: string|Uint8Array, key?: string|Uint8Array, maxDepth?: number}} options
   */
  constructor(target, options = {}) {
    super();
    checkTls(target, options);
    this.target = target;
    this.token = options.token;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.nodeId = '';
    const creds = target.tls
      ? grpc.credentials.createSsl(pem(options.ca, 'ca') ?? null, pem(options.key, 'key') ?? null, pem(options.cert, 'cert') ?? null)
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(target.authority, creds, {
      // The socket's frame limit each way (gRPC's default receive limit is 4 MB).
      'grpc.max_receive_message_length': DEFAULT_MAX_FRAME_BYTES,
      'grpc.max_send_message_length': DEFAULT_MAX_FRAME_BYTES,
      'grpc.primary_user_agent': `polycall-node/${SDK_VERSION}`,
    });
    this.closed = false;
  }

  metadata(extra) {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    for (const [k, v] of Object.entries(extra ?? {})) md.set(k, String(v));
    return md;
  }

  unary(method, type, message, decodeType, name, options) {
    const { timeoutMs, signal, metadata } = options;
    if (this.closed) return Promise.reject(new UnavailableError('the client is closed'));
    signal?.throwIfAborted?.call(signal);
    const bytes = encodeMessage(type, message); // a bad value fails here, before sending
    return new Promise((resolve, reject) => {
      const callOptions = timeoutMs ? { deadline: Date.now() + timeoutMs } : {};
      let aborted = false;
      const call = this.client.makeUnaryRequest(
        `/polycall.v1.PolyCall/${method}`,
        (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (buf) => decodeMessage(decodeType, buf, { maxDepth: this.maxDepth, via: this }),
        bytes,
        this.metadata(metadata),
        callOptions,
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (aborted) return;
          if (err) reject(errorOfGrpc(err, this.target, name, timeoutMs));
          else resolve(value);
        },
      );
      const onAbort = () => {
        aborted = true;
        call.cancel();
        reject(new CancelledError(`call to ${name} cancelled`, { cause: signal.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Checks that the node answers (and accepts the token); learns its id. */
  async start(timeoutMs) {
    try {
      const resp = await this.unary('ListFunctions', ListRequestType, { pattern: FUNCTIONS_FUNCTION }, ListResponseType, 'ListFunctions', { timeoutMs });
      this.nodeId = resp.nodeId ?? '';
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async call(name, args, options = {}) {
    const message = { function: name, args: args.map((a, i) => new Outgoing(a, undefined, `args[${i}]`)) };
    const result = await this.unary('Call', CallType, message, ResultType, name, options);
    if (result.status) throw fromStatus(result.status);
    if (!result.value) throw new InvalidArgumentError(`result of ${name} has neither value nor status`);
    if (result.value.error) throw result.value.error;
    return result.value.value;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    this.emit('close');
  }
}

// ---- HTTP -------------------------------------------------------------------------------------

// How HTTP statuses read when a response has no PolyCall error body (a proxy answered):
// gRPC's own HTTP-to-gRPC mapping.
const HTTP_CODES = { 400: Code.INTERNAL, 401: Code.UNAUTHENTICATED, 403: Code.PERMISSION_DENIED, 404: Code.UNIMPLEMENTED, 429: Code.UNAVAILABLE, 502: Code.UNAVAILABLE, 503: Code.UNAVAILABLE, 504: Code.UNAVAILABLE };

function errorOfHttp(status, doc, raw) {
  const e = doc && typeof doc === 'object' ? doc.error : undefined;
  if (e && typeof e === 'object' && Number.isInteger(e.status)) {
    return fromStatus({ code: e.status, message: String(e.message ?? ''), frames: Array.isArray(e.frames) ? e.frames : [] });
  }
  const text = raw.subarray(0, 200).toString('utf8').trim();
  return PolyCallError.of(HTTP_CODES[status] ?? Code.UNKNOWN, `HTTP ${status}${text ? `: ${text}` : ''}`);
}

export class HttpTransport extends EventEmitter {
  constructor(target, options = {}) {
    super();
    checkTls(target, options);
    this.target = target;
    this.nodeId = '';
    this.module = target.tls ? https : http;
    this.agent = new this.module.Agent({
      keepAlive: true,
      ...(target.tls ? { ca: pem(options.ca, 'ca'), cert: pem(options.cert, 'cert'), key: pem(options.key, 'key') } : {}),
    });
    this.headers = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': `polycall-node/${SDK_VERSION}` };
    if (options.token) this.headers.authorization = `Bearer ${options.token}`;
    this.signatures = new Map();
    this.closed = false;
  }

  async start(timeoutMs) {
    try {
      await this.signatureOf(FUNCTIONS_FUNCTION, { timeoutMs }, true);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async call(name, args, options = {}) {
    const body = args.map((a) => toJson(a)); // a bad value fails here, before any request
    const start = performance.now();
    const sig = await this.signatureOf(name, options);
    // The first call of a function also paid for its signature: the rest of the deadline is left.
    const left = options.timeoutMs ? { ...options, timeoutMs: Math.max(0.001, options.timeoutMs - (performance.now() - start)) } : options;
    const result = await this.callRaw(name, body, left);
    return fromJson(result, sig?.result, this);
  }

  /** The declared signature of `name`, asked once from the node's polycall.functions. */
  async signatureOf(name, options, strict = false) {
    const base = name.split('@')[0];
    if (this.signatures.has(base)) return this.signatures.get(base);
    let sig;
    try {
      for (const text of (await this.callRaw(FUNCTIONS_FUNCTION, [base], options)) ?? []) {
        const s = parseSignature(String(text));
        if (s.name === base) sig = s;
      }
    } catch (e) {
      // Untyped results are a fallback; a node that is down or refuses us fails the call here.
      const fatal = [Code.UNAVAILABLE, Code.UNAUTHENTICATED, Code.PERMISSION_DENIED, Code.DEADLINE_EXCEEDED, Code.CANCELLED];
      if (strict || !(e instanceof PolyCallError) || fatal.includes(e.code)) throw e;
      return undefined;
    }
    if (sig) this.signatures.set(base, sig); // unknown names may be registered later
    return sig;
  }

  async callRaw(name, body, options = {}) {
    try {
      return await this.request(name, body, options);
    } catch (e) {
      // A kept-alive socket the server closed while idle: Node's documented advice is one retry.
      if (e.retryable) return this.request(name, body, options);
      throw e;
    }
  }

  request(name, body, options = {}) {
    const { timeoutMs, signal, metadata } = options;
    if (this.closed) return Promise.reject(new UnavailableError('the client is closed'));
    signal?.throwIfAborted?.call(signal);
    const data = Buffer.from(JSON.stringify(body));
    const headers = { ...(metadata ?? {}), ...this.headers, 'content-length': data.length };
    if (timeoutMs) {
      const ms = Math.min(timeoutMs, 1e12); // the header takes plain decimals, not 1e+21
      headers['x-polycall-timeout'] = `${Number.isInteger(ms) ? ms : ms.toFixed(3)}ms`;
    }
    const path = `${this.target.path}/v1/call/${encodeURIComponent(name).replace(/%40/g, '@')}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn, v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn(v);
      };
      const req = this.module.request(
        { host: this.target.host, port: this.target.port, method: 'POST', path, headers, agent: this.agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', (e) => settle(reject, new UnavailableError(`${this.target.url}: connection lost: ${e.message}`)));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            let doc;
            try {
              doc = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
            } catch {
              doc = undefined;
            }
            if (res.statusCode === 200) {
              if (doc && typeof doc === 'object' && 'result' in doc) settle(resolve, doc.result);
              else settle(reject, PolyCallError.of(Code.INTERNAL, `${this.target.url} answered 200 without a JSON result`));
            } else {
              settle(reject, errorOfHttp(res.statusCode, doc, raw));
            }
          });
        },
      );
      const timer = timeoutMs
        ? setTimeout(() => {
            req.destroy();
            settle(reject, new DeadlineExceededError(deadlineMessage(name, timeoutMs)));
          }, timeoutMs + GRACE_MS)
        : undefined;
      const onAbort = () => {
        req.destroy();
        settle(reject, new CancelledError(`call to ${name} cancelled`, { cause: signal.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => {
        const err = new UnavailableError(`cannot reach ${this.target.url}: ${e.message}`, { cause: e });
        if (req.reusedSocket && e.code === 'ECONNRESET') err.retryable = true;
        settle(reject, err);
      });
      req.end(data);
    });
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    this.emit('close');
  }
}
