// What connect() was given: a socket path or a remote node's URL, and the TLS material for it.
// Loads nothing heavy: the transports (src/grpc.js, src/http.js) are imported only when used.
//
//   /path/client.sock, unix:///path          the node's Unix socket
//   grpc://host:port, grpcs://host[:port]    gRPC (spec/service.proto), src/grpc.js
//   http://host[:port], https://...[/prefix] the HTTP gateway (docs/http.md), src/http.js

import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from './errors.js';

export const FUNCTIONS_FUNCTION = 'polycall.functions';

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
export function pem(source, what) {
  if (source === undefined || source === null) return undefined;
  if (typeof source !== 'string') return Buffer.from(source);
  if (source.startsWith('-----BEGIN')) return Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: cannot read ${source}: ${e.message}`);
  }
}

export function checkTls(target, { ca, cert, key }) {
  if (!target.tls && (ca || cert || key)) {
    throw new InvalidArgumentError(`ca, cert and key need TLS: write ${target.url.replace('://', 's://')}`);
  }
  if (!cert !== !key) throw new InvalidArgumentError('mutual TLS needs both cert and key');
}

export function deadlineMessage(name, timeoutMs) {
  return `call to ${name} exceeded its ${timeoutMs} ms deadline`;
}
