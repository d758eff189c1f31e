// The remote clients (gRPC and HTTP) against the fakes of fake-remote.js: targets, values,
// errors with frames, deadlines, tokens, TLS. remote-node.test.js runs them against the real node.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as polycall from '../src/index.js';
import { fromJson, toJson } from '../src/json.js';
import { errorOfGrpc } from '../src/grpc.js';
import { parseTarget } from '../src/target.js';
import { parseType } from '../src/signature.js';
import { FRAMES, NODE_ID, makeCerts, startFakeGateway, startFakeGrpcNode } from './fake-remote.js';

describe('targets', () => {
  test('a target is a socket path or a node URL', () => {
    const pick = (t) => [t.kind, t.tls, t.host, t.port, t.path];
    assert.deepEqual(pick(parseTarget('/run/pc/client.sock')), ['unix', undefined, undefined, undefined, '/run/pc/client.sock']);
    assert.deepEqual(pick(parseTarget('unix:///run/pc.sock')), ['unix', undefined, undefined, undefined, '/run/pc.sock']);
    assert.deepEqual(pick(parseTarget('grpc://localhost:50051')), ['grpc', false, 'localhost', 50051, '']);
    assert.deepEqual(pick(parseTarget('grpcs://node.example')), ['grpc', true, 'node.example', 443, '']);
    assert.deepEqual(pick(parseTarget('grpc://[::1]:9')), ['grpc', false, '::1', 9, '']);
    assert.equal(parseTarget('grpc://[::1]:9').authority, '[::1]:9');
    assert.deepEqual(pick(parseTarget('http://127.0.0.1:8080')), ['http', false, '127.0.0.1', 8080, '']);
    assert.deepEqual(pick(parseTarget('https://api.example/polycall/')), ['http', true, 'api.example', 443, '/polycall']);
    assert.deepEqual(pick(parseTarget('http://h')), ['http', false, 'h', 80, '']);
  });

  test('a malformed target is INVALID_ARGUMENT saying why', async () => {
    for (const [text, says] of [
      ['grpc://localhost', /no port/],
      ['ftp://h:1', /unknown scheme/],
      ['http://h:99999', /not a URL/],
      ['grpc://h:1/path', /no path/],
      ['http://u:p@h:1', /token/],
      ['http://h:1/?x=1', /query/],
      ['unix://', /no socket/],
      ['', /socket path or a URL/],
    ]) {
      await assert.rejects(polycall.connect(text), (e) => e instanceof polycall.InvalidArgumentError && says.test(e.message), text);
    }
    await assert.rejects(polycall.connect('grpc://127.0.0.1:1', { ca: 'x' }), /need TLS: write grpcs:\/\//);
    await assert.rejects(polycall.connect('/tmp/x.sock', { token: 't' }), /remote nodes/);
  });
});

describe('JSON values', () => {
  test('a TypedArray travels as one base64 block and comes back as the same TypedArray', () => {
    const block = toJson(new Int32Array([1, 2, 3]));
    assert.deepEqual([block.dtype, block.shape], ['i32', [3]]);
    assert.deepEqual(fromJson(block, parseType('ndarray<i32>')), new Int32Array([1, 2, 3]));
    assert.deepEqual(fromJson(block), new Int32Array([1, 2, 3]));
    const m = fromJson(toJson(polycall.ndarray(new Float64Array(6), [2, 3])));
    assert.ok(m instanceof polycall.NdArray);
    assert.deepEqual(m.shape, [2, 3]);
  });

  test('JSON values follow the declared type', () => {
    assert.deepEqual(toJson(Buffer.from([0, 255])), { base64: 'AP8=' });
    assert.deepEqual(fromJson('AP8=', parseType('bytes')), Buffer.from([0, 255]));
    assert.deepEqual(toJson([NaN, Infinity, -Infinity]), ['NaN', 'Infinity', '-Infinity']);
    assert.ok(Number.isNaN(fromJson('NaN', parseType('f64'))));
    assert.equal(toJson(2n ** 63n), '9223372036854775808');
    assert.equal(fromJson('18446744073709551615', parseType('u64')), 2n ** 64n - 1n);
    const s = fromJson({ x: 1 }, parseType('struct P{x: i64}'));
    assert.deepEqual([s.x, s[polycall.STRUCT_NAME]], [1, 'P']);
    assert.deepEqual(fromJson({ '[1,2]': 'a' }, parseType('map<list<i64>, string>')), new Map([[[1, 2], 'a']]));
    assert.deepEqual(toJson(new Map([[1, 'a']])), { 1: 'a' });
    const h = fromJson({ handle: 'file', id: 7, generation: 1 });
    assert.ok(h instanceof polycall.Handle && h.id === 7n);
    assert.equal(fromJson({ fn: 'math.add' }).name, 'math.add');
    assert.equal(toJson(new polycall.FnRef('math.add')), 'math.add');
    assert.equal(toJson(polycall.u8(200)), 200);
    assert.throws(() => toJson(() => 1), polycall.InvalidArgumentError);
  });
});

describe('a gRPC client', () => {
  let node;
  before(async () => {
    node = await startFakeGrpcNode();
  });
  after(() => node.close());

  test('calls with the socket client API', async () => {
    const client = await polycall.connect(node.url);
    try {
      assert.ok(client instanceof polycall.Client);
      assert.equal(client.nodeId, NODE_ID);
      assert.equal(await client.call('math.add', 1, 2), 3);
      assert.equal(await client.call('stats.mean', new Float64Array([1, 2, 3, 4])), 2.5);
      assert.deepEqual(await client.call('stats.scale', new Float64Array([1, 2]), 3), new Float64Array([3, 6]));
      assert.deepEqual(await client.call('bytes.rev', Buffer.from([1, 2])), Buffer.from([2, 1]));
      assert.deepEqual(
        (await client.functions('stats.*')).map((f) => f.name),
        ['stats.mean', 'stats.scale'],
      );
      const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => client.call('math.add', i, 1)));
      assert.deepEqual(sums, Array.from({ length: 10 }, (_, i) => i + 1));
    } finally {
      await client.close();
      await client.close();
    }
    await assert.rejects(client.call('math.add', 1, 2), polycall.UnavailableError);
  });

  test('a status trailer becomes the error of its code with the remote frames', async () => {
    const client = await polycall.connect(node.url);
    try {
      await assert.rejects(client.call('fail', 'no such row'), (e) => {
        assert.ok(e instanceof polycall.NotFoundError);
        assert.equal(e.message, 'no such row');
        assert.deepEqual(e.frames.at(-1), FRAMES[0]);
        return true;
      });
      await assert.rejects(client.call('math.ad', 1, 2), /did you mean math\.add/);
    } finally {
      await client.close();
    }
  });

  test('suggestions are read from the message whatever the transport', () => {
    assert.deepEqual(new polycall.NotFoundError('no function named math.ad; did you mean math.add, math.abs?').suggestions, ['math.add', 'math.abs']);
    assert.deepEqual(new polycall.NotFoundError('no such row').suggestions, []);
  });

  test('a gRPC status without a usable trailer still maps to its code', () => {
    const md = new grpc.Metadata();
    md.set('polycall-status-bin', Buffer.from([0xff, 0xff, 0x01]));
    const e = errorOfGrpc({ code: 7, details: 'not for you', metadata: md }, parseTarget('grpc://h:1'), 'f');
    assert.ok(e instanceof polycall.PermissionDeniedError);
    assert.equal(e.message, 'not for you');
  });

  test('a call past its deadline is DEADLINE_EXCEEDED, the deadline travels, the channel keeps serving', async () => {
    const client = await polycall.connect(node.url, { timeout: 150 });
    try {
      await assert.rejects(client.call('slow', 2000), polycall.DeadlineExceededError);
      assert.ok(node.seen.deadlines.some((d) => Number.isFinite(+d)), String(node.seen.deadlines));
      assert.equal(await client.withOptions({ timeoutMs: 5000 }).call('math.add', 2, 2), 4);
      const controller = new AbortController();
      const p = client.invoke('slow', [2000], { signal: controller.signal, timeoutMs: 0 });
      controller.abort();
      await assert.rejects(p, polycall.CancelledError);
    } finally {
      await client.close();
    }
  });

  test('the token travels as a bearer authorization; a refused one fails connect', async () => {
    const client = await polycall.connect(node.url, { token: 's3cret' });
    await client.call('math.add', 1, 1);
    await client.close();
    assert.equal(node.seen.metadata.at(-1).authorization, 'Bearer s3cret');
    await assert.rejects(polycall.connect(node.url, { token: 'wrong' }), polycall.UnauthenticatedError);
  });

  test('a node that is not there is UNAVAILABLE naming it', async () => {
    await assert.rejects(polycall.connect('grpc://127.0.0.1:1', { connectTimeoutMs: 5000 }), (e) => {
      assert.ok(e instanceof polycall.UnavailableError);
      assert.match(e.message, /cannot reach grpc:\/\/127\.0\.0\.1:1/);
      return true;
    });
  });
});

describe('an HTTP client', () => {
  let gw;
  before(async () => {
    gw = await startFakeGateway();
  });
  after(() => gw.close());

  test('calls with the socket client API', async () => {
    const client = await polycall.connect(gw.url());
    try {
      assert.equal(await client.call('math.add', 1, 2), 3);
      assert.equal(await client.call('stats.mean', new Float64Array([1, 2, 3, 4])), 2.5);
      assert.deepEqual(gw.seen.bodies.at(-1)[0].dtype, 'f64');
      assert.deepEqual(await client.call('stats.scale', new Float64Array([1, 2]), 3), new Float64Array([3, 6]));
      assert.deepEqual(await client.call('bytes.rev', Buffer.from([1, 2])), Buffer.from([2, 1]));
      assert.ok(Number.isNaN(await client.call('f.nan')));
      assert.deepEqual((await client.functions('math.*')).map((f) => f.signature), ['math.add(a: i64, b: i64) -> i64']);
      const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => client.call('math.add', i, 1)));
      assert.deepEqual(sums, Array.from({ length: 10 }, (_, i) => i + 1));
    } finally {
      await client.close();
    }
  });

  test('an error body becomes the error of its code with frames; a proxy page maps by HTTP status', async () => {
    const client = await polycall.connect(gw.url());
    try {
      await assert.rejects(client.call('fail', 'no such row'), (e) => {
        assert.ok(e instanceof polycall.NotFoundError);
        assert.deepEqual(e.frames, FRAMES);
        return true;
      });
      await assert.rejects(client.call('math.ad', 1, 2), /did you mean math\.add/);
      await assert.rejects(client.call('proxy.down'), (e) => e instanceof polycall.UnavailableError && /HTTP 502/.test(e.message));
      assert.equal(await client.call('math.add', 2, 3), 5);
    } finally {
      await client.close();
    }
  });

  test('the timeout and the token travel as headers', async () => {
    const client = await polycall.connect(gw.url(), { token: 's3cret' });
    try {
      await assert.rejects(client.invoke('slow', [5000], { timeoutMs: 250 }), /deadline passed/);
      const sent = gw.seen.headers.at(-1)['x-polycall-timeout'];
      assert.match(sent, /^\d+(\.\d+)?ms$/);
      assert.ok(parseFloat(sent) > 0 && parseFloat(sent) <= 250, sent); // what is left after the signature lookup
      assert.equal(gw.seen.headers.at(-1).authorization, 'Bearer s3cret');
    } finally {
      await client.close();
    }
    await assert.rejects(polycall.connect(gw.url(), { token: 'wrong' }), polycall.UnauthenticatedError);
  });

  test('a gateway that is not there is UNAVAILABLE naming it', async () => {
    await assert.rejects(polycall.connect('http://127.0.0.1:1'), /cannot reach http:\/\/127\.0\.0\.1:1/);
  });
});

let haveOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'pipe' });
} catch {
  haveOpenssl = false;
}

describe('TLS', { skip: !haveOpenssl && 'needs the openssl command' }, () => {
  let certs;
  before(() => {
    certs = makeCerts();
  });

  test('grpcs verifies the node against ca and presents a client certificate', async () => {
    const creds = grpc.ServerCredentials.createSsl(certs.read('ca.pem'), [{ private_key: certs.read('server.key'), cert_chain: certs.read('server.pem') }], true);
    const node = await startFakeGrpcNode(creds);
    const url = `grpcs://localhost:${node.port}`;
    try {
      const client = await polycall.connect(url, { ca: certs.ca, cert: certs.read('client.pem'), key: certs.clientKey });
      assert.equal(await client.call('math.add', 20, 22), 42);
      await client.close();
      await assert.rejects(polycall.connect(url, { ca: certs.ca, connectTimeoutMs: 5000 }), polycall.UnavailableError);
      await assert.rejects(polycall.connect(url, { connectTimeoutMs: 5000 }), polycall.UnavailableError);
    } finally {
      node.close();
    }
  });

  test('https verifies the gateway against ca and presents a client certificate', async () => {
    const gw = await startFakeGateway({ key: certs.read('server.key'), cert: certs.read('server.pem'), ca: certs.read('ca.pem'), requestCert: true, rejectUnauthorized: true });
    try {
      const url = gw.url('https', 'localhost');
      const client = await polycall.connect(url, { ca: certs.read('ca.pem').toString(), cert: certs.clientCert, key: certs.clientKey });
      assert.equal(await client.call('math.add', 1, 2), 3);
      await client.close();
      await assert.rejects(polycall.connect(url), polycall.UnavailableError);
      await assert.rejects(polycall.connect(url, { ca: certs.ca, cert: certs.clientCert }), /both cert and key/);
    } finally {
      await gw.close();
    }
  });
});
