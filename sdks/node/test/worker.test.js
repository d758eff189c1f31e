// The worker as a real process (bin/polycall-worker.js) against the scripted fake hub.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Code, FnRef } from '../src/index.js';
import { startFakeHub } from './fake-hub.js';

const BIN = fileURLToPath(new URL('../bin/polycall-worker.js', import.meta.url));
const STATS = fileURLToPath(new URL('./fixtures/stats.mjs', import.meta.url));
const SECRET = Buffer.alloc(32, 0x5a);

function startWorker(hub, { workerId = 'node-1', secret = SECRET, args = ['--module', STATS] } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, POLYCALL_SOCKET: hub.path, POLYCALL_WORKER_ID: workerId, POLYCALL_WORKER_SECRET: secret.toString('hex') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exited };
}

describe('a worker serving the stats module', () => {
  let hub;
  let worker;
  let peer;
  let release;
  const released = new Promise((r) => (release = r));

  before(async () => {
    hub = await startFakeHub({
      secrets: { 'node-1': SECRET },
      handlers: {
        'java.math.add': (a, b) => a + b,
        'test.inc': (x) => x + 1,
        'test.release': () => released,
      },
    });
    worker = startWorker(hub);
    peer = await hub.nextPeer();
  });

  after(async () => {
    if (worker.child.exitCode === null) worker.child.kill();
    await hub.close();
  });

  test('says hello as a javascript worker with a proof the hub accepts, then announces its functions', async () => {
    const hello = await peer.hello;
    assert.equal(hello.workerId, 'node-1');
    assert.equal(hello.language, 'javascript');
    assert.equal(hello.role, 1);
    const announce = await peer.announce;
    const mean = announce.functions.find((f) => f.signature.startsWith('stats.mean'));
    assert.equal(mean.signature, 'stats.mean(xs: ndarray<f64>) -> f64');
    assert.deepEqual(mean.tags, ['stats']);
    assert.equal(mean.doc, 'Arithmetic mean.');
  });

  test('answers a call with the function result', async () => {
    const r = await peer.call('stats.mean', [new Float64Array([1, 2, 3, 6])]);
    assert.equal(r.value.value, 3);
    const scaled = await peer.call('stats.scale', [new Float64Array([1, 2]), 3]);
    assert.deepEqual(scaled.value.value, new Float64Array([3, 6]));
  });

  test('a function sees its call metadata through currentCall(), and a declared map result is a map', async () => {
    const r = await peer.call('stats.meta', [], { metadata: { 'trace-id': 'abc' } });
    assert.deepEqual(r.value.value, new Map([['trace-id', 'abc']]));
  });

  test('many calls in flight come back to their own call ids', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => peer.call('stats.half', [i]));
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(r.value.value, i / 2));
  });

  test('a function throwing TypeError is INVALID_ARGUMENT with javascript frames', async () => {
    const r = await peer.call('stats.picky', ['x']);
    assert.equal(r.status.code, Code.INVALID_ARGUMENT);
    assert.equal(r.status.message, 'TypeError: expected a number, got "x"');
    const top = r.status.frames[0];
    assert.equal(top.language, 'javascript');
    assert.equal(top.function, 'checkInput');
    assert.match(top.file, /fixtures\/stats\.mjs$/);
    assert.ok(top.line > 0);
  });

  test('a result bigint beyond 64 bits is OUT_OF_RANGE', async () => {
    const r = await peer.call('stats.huge', []);
    assert.equal(r.status.code, Code.OUT_OF_RANGE);
    assert.match(r.status.message, /does not fit in 64 bits/);
  });

  test('an unknown function is NOT_FOUND and a wrong argument count INVALID_ARGUMENT', async () => {
    assert.equal((await peer.call('stats.nope', [])).status.code, Code.NOT_FOUND);
    assert.equal((await peer.call('stats.mean@2', [[1]])).status.code, Code.NOT_FOUND);
    assert.equal((await peer.call('stats.half', [])).status.code, Code.INVALID_ARGUMENT);
  });

  test('a function calls back into the hub through the same connection', async () => {
    const r = await peer.call('stats.addViaHub', [2, 3]);
    assert.equal(r.value.value, 50);
  });

  test('an FnRef argument is callable', async () => {
    const r = await peer.call('stats.applyTwice', [new FnRef('test.inc', 'fn(i64) -> i64'), 5]);
    assert.equal(r.value.value, 7);
  });

  test('pings are answered while a call runs, and Cancel stops the call (CANCELLED)', async () => {
    const slow = peer.call('stats.slow', []);
    const pong = await peer.ping(77);
    assert.equal(Number(pong.nonce), 77);
    peer.cancel(slow.callId);
    const r = await slow;
    assert.equal(r.status.code, Code.CANCELLED);
  });

  test('a call past its timeout_nanos is stopped with DEADLINE_EXCEEDED', async () => {
    const r = await peer.call('stats.slow', [], { timeoutNanos: 20_000_000 });
    assert.equal(r.status.code, Code.DEADLINE_EXCEEDED);
  });

  test('a batch answers in order, one failure failing only its own result', async () => {
    const br = await peer.batch(9, [
      ['stats.half', [3]],
      ['stats.picky', ['x']],
      ['stats.nope', []],
    ]);
    assert.equal(Number(br.batchId), 9);
    assert.equal(br.results[0].value.value, 1.5);
    assert.equal(br.results[1].status.code, Code.INVALID_ARGUMENT);
    assert.equal(br.results[2].status.code, Code.NOT_FOUND);
  });

  test('a result that does not encode fails only its own entry of a batch', async () => {
    const br = await peer.batch(10, [
      ['stats.half', [5]],
      ['stats.huge', []],
      ['stats.half', [7]],
    ]);
    assert.equal(br.results[0].value.value, 2.5);
    assert.equal(br.results[1].status.code, Code.OUT_OF_RANGE);
    assert.match(br.results[1].status.message, /does not fit in 64 bits/);
    assert.equal(br.results[2].value.value, 3.5);
  });

  test('GoAway drains: calls in flight finish, new ones are refused, then the worker exits 0', async () => {
    const pending = peer.call('stats.waitForHub', []);
    // The worker has sent its nested call to the hub once test.release has been asked for.
    for (let i = 0; i < 200 && !peer.received.some((f) => f.call?.function === 'test.release'); i++) {
      await new Promise((r) => setImmediate(r));
      await peer.ping(i); // a round trip, so the worker has read everything before it
    }
    peer.goAway();
    const refused = await peer.call('stats.half', [1]);
    assert.equal(refused.status.code, Code.UNAVAILABLE);
    release('released');
    assert.equal((await pending).value.value, 'released');
    const { code, stderr } = await worker.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /drain/);
  });
});

describe('a worker under a small frame limit', { timeout: 20000 }, () => {
  test('a batch whose results fit one by one but not together fails each with RESOURCE_EXHAUSTED, and the worker lives on', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, limits: { maxFrameBytes: 4096 } });
    try {
      const worker = startWorker(hub);
      const peer = await hub.nextPeer();
      await peer.announce;
      // 1600 bytes each: one result fits, three do not
      const br = await peer.batch(1, [
        ['stats.zeros', [200]],
        ['stats.zeros', [200]],
        ['stats.zeros', [200]],
      ]);
      assert.equal(br.results.length, 3);
      for (const r of br.results) {
        assert.equal(r.status.code, Code.RESOURCE_EXHAUSTED);
        assert.match(r.status.message, /over the limit of 4096/);
      }
      assert.equal((await peer.call('stats.half', [3])).value.value, 1.5);
      worker.child.kill();
    } finally {
      await hub.close();
    }
  });
});

describe('a worker fed bad input, one byte per write', () => {
  test('a bad argument fails only its call; garbage is a protocol error that ends the worker', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, oneByteWrites: true });
    try {
      const worker = startWorker(hub);
      const peer = await hub.nextPeer();
      await peer.announce;
      // Frame{call{call_id: 99, function: "stats.half", args: [int 300 with width I8]}}
      const answer = peer.resultFor(99);
      peer.sendRaw(Buffer.from('000000172215' + '0863' + '120a' + Buffer.from('stats.half').toString('hex') + '1a0518d8047002', 'hex'));
      const bad = await answer;
      assert.equal(bad.status.code, Code.INVALID_ARGUMENT);
      assert.match(bad.status.message, /args\[0\]: 300 is outside i8/);
      assert.equal((await peer.call('stats.half', [5])).value.value, 2.5);
      peer.sendRaw(Buffer.from('00000004ffffffff', 'hex'));
      await peer.closed;
      const goaway = peer.received.find((f) => f.goaway);
      assert.equal(goaway.goaway.status.code, Code.INVALID_ARGUMENT);
      const { code, stderr } = await worker.exited;
      assert.equal(code, 1);
      assert.match(stderr, /protocol error/);
    } finally {
      await hub.close();
    }
  });
});

describe('a worker that cannot prove who it is', () => {
  test('exits non-zero with a clear message when the secret is wrong', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET } });
    try {
      const { exited } = startWorker(hub, { secret: Buffer.alloc(32, 1) });
      const { code, stderr } = await exited;
      assert.equal(code, 1);
      assert.match(stderr, /UNAUTHENTICATED: hub refused the handshake: bad worker proof/);
    } finally {
      await hub.close();
    }
  });

  test('exits non-zero when the hub speaks no common protocol version', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, versions: [7] });
    try {
      const { code, stderr } = await startWorker(hub).exited;
      assert.equal(code, 1);
      assert.match(stderr, /no common protocol version/);
    } finally {
      await hub.close();
    }
  });

  test('exits 2 with usage when no module is given, and --help exits 0', async () => {
    const hub = await startFakeHub();
    try {
      assert.equal((await startWorker(hub, { args: [] }).exited).code, 2);
      assert.equal((await startWorker(hub, { args: ['--help'] }).exited).code, 0);
    } finally {
      await hub.close();
    }
  });
});
