// The HTTP transport behind connect('http://...'): the node's gateway (docs/http.md), POST
// /v1/call/{function} with a JSON array, values as src/json.js maps them, through node:http(s)
// with keep-alive (Node's built-in fetch takes no per-client CA or client certificate without
// the undici package). Results are read as the function's declared type, asked once per
// function from polycall.functions. Same contract towards Client as src/grpc.js.

import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { CancelledError, Code, DeadlineExceededError, PolyCallError, UnavailableError, fromStatus } from './errors.js';
import { fromJson, toJson } from './json.js';
import { parseSignature } from './signature.js';
import { SDK_VERSION } from './connection.js';
import { FUNCTIONS_FUNCTION, checkTls, deadlineMessage, pem } from './target.js';

/** Beyond the deadline the node enforces, how long this side waits for its answer. */
const GRACE_MS = 2000;

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
