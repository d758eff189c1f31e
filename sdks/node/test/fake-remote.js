// Fakes of a remote node for the remote clients' unit tests: a gRPC polycall.v1.PolyCall server
// (@grpc/grpc-js, messages through the SDK's own protobufjs codec) and an HTTP gateway
// (node:http), both on loopback and scripted by plain functions; plus throw-away certificates
// made with the openssl command. remote-node.test.js meets the real Java node instead.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Outgoing, decodeMessage, encodeMessage, messageType } from '../src/codec.js';
import { PolyCallError, toStatus } from '../src/errors.js';
import { fromJson, toJson } from '../src/json.js';
import { parseSignature } from '../src/signature.js';

export const NODE_ID = 'fake-remote';
export const FRAMES = [{ language: 'java', function: 'io.example.Lookup.find', file: 'Lookup.java', line: 42 }];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** name -> [signature, implementation] */
export const FUNCTIONS = {
  'math.add': ['math.add(a: i64, b: i64) -> i64', (a, b) => a + b],
  'stats.mean': ['stats.mean(xs: ndarray<f64>) -> f64', (xs) => xs.reduce((s, x) => s + x, 0) / xs.length],
  'stats.scale': ['stats.scale(xs: ndarray<f64>, k: f64) -> ndarray<f64>', (xs, k) => xs.map((x) => x * k)],
  'bytes.rev': ['bytes.rev(b: bytes) -> bytes', (b) => Buffer.from(b).reverse()],
  'f.nan': ['f.nan() -> f64', () => NaN],
  fail: [
    'fail(message: string) -> null',
    (m) => {
      throw PolyCallError.of(5, m, { frames: FRAMES });
    },
  ],
  slow: ['slow(ms: f64) -> string', async (ms) => (await sleep(ms), 'late')],
};
const FUNCTIONS_SIG = 'polycall.functions(pattern: string) -> list<string>';

function glob(pattern) {
  return new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^.]*')}$`);
}

async function run(name, args) {
  if (name === 'polycall.functions') {
    const re = glob(String(args[0] ?? '*'));
    const all = [...Object.entries(FUNCTIONS).map(([n, [sig]]) => [n, sig]), ['polycall.functions', FUNCTIONS_SIG]];
    return all.filter(([n]) => re.test(n)).map(([, s]) => s);
  }
  const f = FUNCTIONS[name];
  if (!f) throw PolyCallError.of(5, `no function named ${name}; did you mean math.add?`);
  return f[1](...args);
}

const T = (n) => messageType(n);
const method = (name, req, res) => ({
  path: `/polycall.v1.PolyCall/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: (m) => Buffer.from(encodeMessage(T(req), m)),
  requestDeserialize: (b) => decodeMessage(T(req), b),
  responseSerialize: (m) => Buffer.from(encodeMessage(T(res), m)),
  responseDeserialize: (b) => decodeMessage(T(res), b),
});

export async function startFakeGrpcNode(credentials = grpc.ServerCredentials.createInsecure()) {
  const seen = { metadata: [], deadlines: [] };
  const server = new grpc.Server();
  const note = (call) => {
    seen.metadata.push(call.metadata.getMap());
    seen.deadlines.push(call.getDeadline());
  };
  server.addService(
    {
      Call: method('Call', 'polycall.v1.Call', 'polycall.v1.Result'),
      ListFunctions: method('ListFunctions', 'polycall.v1.ListFunctionsRequest', 'polycall.v1.ListFunctionsResponse'),
    },
    {
      Call: async (call, cb) => {
        note(call);
        try {
          const args = call.request.args.map((a) => a.value);
          cb(null, { value: new Outgoing(await run(call.request.function, args)) });
        } catch (e) {
          const st = toStatus(e);
          const md = new grpc.Metadata();
          md.set('polycall-status-bin', Buffer.from(encodeMessage(T('polycall.v1.Status'), st)));
          cb({ code: st.code, details: st.message, metadata: md });
        }
      },
      ListFunctions: (call, cb) => {
        note(call);
        if (call.metadata.get('authorization')[0] === 'Bearer wrong') {
          return cb({ code: grpc.status.UNAUTHENTICATED, details: 'the token is not valid' });
        }
        cb(null, { nodeId: NODE_ID });
      },
    },
  );
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, seen, url: `grpc://127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

export async function startFakeGateway(tls) {
  const seen = { headers: [], bodies: [] };
  const handler = async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : [];
    seen.headers.push(req.headers);
    seen.bodies.push(body);
    const send = (status, doc, type = 'application/json') => {
      const data = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
      res.writeHead(status, { 'content-type': type, 'content-length': data.length });
      res.end(data);
    };
    const error = (status, code, message, httpStatus, frames) =>
      send(httpStatus, { error: { code, status, message, ...(frames?.length ? { frames } : {}) } });
    const name = decodeURIComponent(req.url.split('/').pop());
    if (name === 'proxy.down') return send(502, '<html>bad gateway</html>', 'text/html');
    if (req.headers.authorization === 'Bearer wrong') return error(16, 'UNAUTHENTICATED', 'the token is not valid', 401);
    const sig = FUNCTIONS[name]?.[0];
    const params = sig ? parseSignature(sig).params : [];
    const args = body.map((a, i) => fromJson(a, params[i]?.type));
    const timeout = req.headers['x-polycall-timeout'];
    if (name === 'slow' && timeout && parseFloat(timeout) < args[0]) {
      return error(4, 'DEADLINE_EXCEEDED', 'slow: deadline passed', 504);
    }
    try {
      send(200, { result: toJson(await run(name, args)) });
    } catch (e) {
      const st = toStatus(e);
      error(st.code, 'X', st.message, st.code === 5 ? 404 : 500, e.frames);
    }
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port,
    seen,
    url: (scheme = 'http', host = '127.0.0.1') => `${scheme}://${host}:${port}`,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

/** A CA, and a server and a client certificate it signs (names: localhost, 127.0.0.1). */
export function makeCerts() {
  const d = mkdtempSync(join(tmpdir(), 'pc-certs-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(join(d, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}.key`, '-out', `${who}.csr`);
    run('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', `${who}.pem`);
  }
  const f = (n) => join(d, n);
  return { dir: d, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), read: (n) => readFileSync(f(n)) };
}
