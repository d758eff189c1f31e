// Shared-memory rings (WIRE.md, feature shm-rings/1): the addon, the ring over a real mapped file,
// and a worker process that uses them against the fake hub in the hub's role.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { decodeFrame, encodeFrame } from '../src/codec.js';
import { Code } from '../src/index.js';
import { FEATURE, Ring, RingError, SKIP, loadAddon, openRings, recordBytes } from '../src/shm.js';
import { startFakeHub } from './fake-hub.js';

const BIN = fileURLToPath(new URL('../bin/polycall-worker.js', import.meta.url));
const BUILD = fileURLToPath(new URL('../native/build.cjs', import.meta.url));
const STATS = fileURLToPath(new URL('./fixtures/stats.mjs', import.meta.url));
const SECRET = Buffer.alloc(32, 0x5a);
const addon = loadAddon();
const noAddon = addon ? false : 'the addon is not built (make -C sdks/node addon needs a C compiler)';
const R = 65536;

const dirs = [];
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'polycall-shm-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh ring file mapped twice, as the hub and the peer each map it. */
function ringPair(ringBytes = R) {
  const path = join(tempDir(), 'rings');
  writeFileSync(path, Buffer.alloc(2 * (128 + ringBytes)), { mode: 0o600 });
  const spec = { path, ringBytes };
  return { hub: openRings(addon, spec, 'hub'), peer: openRings(addon, spec, 'peer'), path };
}

const bodyOf = (n, fill = 7) => Buffer.alloc(n, fill);
function drainAll(ring) {
  const got = [];
  ring.drain((b) => got.push(b));
  return got;
}

describe('the mapping addon', { skip: noAddon }, () => {
  test('maps a file shared: a write through the map is in the file, Atomics work on it', () => {
    const path = join(tempDir(), 'f');
    writeFileSync(path, Buffer.alloc(4096));
    const buf = addon.map(path);
    assert.equal(buf.byteLength, 4096);
    Atomics.store(new Uint32Array(buf), 1, 0x01020304);
    const other = new Uint32Array(addon.map(path)); // a second mapping sees the same bytes
    assert.equal(Atomics.load(other, 1), 0x01020304);
  });

  test('yield() gives the core away and returns nothing', () => {
    assert.equal(addon.yield(), undefined);
  });

  test('refuses a missing file, a symlink, a directory and an empty file with the reason', () => {
    const d = tempDir();
    writeFileSync(join(d, 'real'), Buffer.alloc(64));
    symlinkSync(join(d, 'real'), join(d, 'link'));
    mkdirSync(join(d, 'dir'));
    writeFileSync(join(d, 'empty'), '');
    assert.throws(() => addon.map(join(d, 'nope')), /cannot open .*nope: No such file/);
    assert.throws(() => addon.map(join(d, 'link')), /cannot open .*link/);
    assert.throws(() => addon.map(join(d, 'dir')), /cannot open .*dir|not a regular/);
    assert.throws(() => addon.map(join(d, 'empty')), /not a regular, non-empty file/);
    assert.throws(() => addon.map(42), TypeError);
  });

  test('builds clean with -Wall -Wextra -Werror', { skip: process.env.CC === '' }, (t) => {
    const include = execFileSync(process.execPath, [BUILD, '--print-include']).toString();
    const cc = process.env.CC || 'cc';
    try {
      execFileSync('sh', ['-c', `command -v ${cc}`]);
    } catch {
      return t.skip(`no C compiler (${cc})`);
    }
    const out = join(tempDir(), 'shm.node');
    const src = fileURLToPath(new URL('../native/shm.c', import.meta.url));
    const log = execFileSync(cc, ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', '-std=c11', '-D_GNU_SOURCE', `-I${include}`, '-o', out, src], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(log.toString(), '');
  });
});

describe('the install script (npm install builds the addon)', () => {
  test('is the package\'s install script', async () => {
    const pkg = JSON.parse((await import('node:fs')).readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.scripts.install, 'node native/build.cjs');
    assert.ok(pkg.files.includes('native'));
  });

  test('builds an addon that maps a ring file', { skip: noAddon }, () => {
    const out = join(tempDir(), 'shm.node');
    execFileSync(process.execPath, [BUILD], { env: { ...process.env, POLYCALL_ADDON_OUT: out }, stdio: 'pipe' });
    assert.ok(existsSync(out), 'no addon written');
    const mod = { exports: {} };
    process.dlopen(mod, out);
    const file = join(tempDir(), 'ring');
    writeFileSync(file, Buffer.alloc(4096, 7));
    const mapped = new Uint8Array(mod.exports.map(file));
    assert.equal(mapped.length, 4096);
    assert.equal(mapped[4095], 7);
  });

  test('without a working compiler it says why, writes nothing and does not fail the install', () => {
    const out = join(tempDir(), 'shm.node');
    const r = execFileSync(process.execPath, [BUILD], {
      env: { ...process.env, POLYCALL_ADDON_OUT: out, CC: '/nonexistent/cc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(r.toString(), '');
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.tmp`), false);
  });
});

describe('a ring over a mapped file', { skip: noAddon }, () => {
  test('a frame offered by one side comes out of the other mapping byte for byte, and frees its room', () => {
    const { hub, peer } = ringPair();
    peer.inbound.setAwake(true);
    const frame = encodeFrame({ ping: { nonce: 42 } }).subarray(4);
    assert.equal(hub.outbound.offer(frame), true);
    assert.equal(hub.outbound.consumerAsleep(), false);
    const got = drainAll(peer.inbound);
    assert.equal(got.length, 1);
    assert.equal(Number(decodeFrame(got[0]).ping.nonce), 42);
    assert.equal(peer.inbound.head, recordBytes(frame.length));
    assert.deepEqual(drainAll(peer.inbound), []);
  });

  test('records that do not fit before the end leave a skip marker and continue at the start', () => {
    const { hub, peer } = ringPair();
    peer.inbound.setAwake(true);
    const big = R / 4 - 4; // one record of exactly R/4
    let sent = 0;
    // Positions grow past the end several times; each record comes out whole and in order.
    for (let i = 0; i < 20; i++) {
      const b = bodyOf(i % 2 ? big : 1000, i + 1);
      assert.equal(hub.outbound.offer(b), true, `record ${i}`);
      sent += 1;
      const got = drainAll(peer.inbound);
      assert.equal(got.length, 1);
      assert.equal(got[0].length, b.length);
      assert.equal(got[0][0], i + 1);
    }
    assert.ok(peer.inbound.head > 2 * R, 'positions went round the ring more than twice');
    // A skip marker was written where a record did not fit.
    const view = new DataView(peer.buffer, 128);
    let sawSkip = false;
    for (let p = 0; p < R; p += 8) if (view.getUint32(p, true) === SKIP) sawSkip = true;
    assert.ok(sawSkip);
    assert.equal(sent, 20);
  });

  test('a producer never waits: an asleep consumer, a full ring and an oversized frame all say false', () => {
    const { hub, peer } = ringPair();
    assert.equal(hub.outbound.offer(bodyOf(10)), false, 'consumer asleep (the file starts at 0)');
    peer.inbound.setAwake(true);
    assert.equal(hub.outbound.offer(bodyOf(R / 4 - 3)), false, 'record over R/4');
    let n = 0;
    while (hub.outbound.offer(bodyOf(R / 4 - 4)) && n < 10) n++;
    assert.equal(n, 4, 'four quarter-ring records fill it');
    assert.equal(hub.outbound.offer(bodyOf(1)), false, 'full');
    assert.equal(drainAll(peer.inbound).length, 4);
    assert.equal(hub.outbound.offer(bodyOf(1)), true, 'room again once consumed');
  });

  test('a consumer going to sleep with a record waiting stays awake; with none it sleeps', () => {
    const { hub, peer } = ringPair();
    peer.inbound.setAwake(true);
    hub.outbound.offer(bodyOf(8));
    assert.equal(peer.inbound.trySleep(), false);
    assert.equal(hub.outbound.consumerAwake(), true);
    drainAll(peer.inbound);
    assert.equal(peer.inbound.trySleep(), true);
    assert.equal(hub.outbound.consumerAsleep(), true, 'a producer now owes a Wake');
  });

  for (const [name, write, message] of [
    ['a record of length 0', (v) => v.setUint32(0, 0, true), /length 0/],
    ['a record over R/4', (v) => v.setUint32(0, R / 4 + 1, true), /over R\/4/],
    ['a record running past tail', (v) => v.setUint32(0, 100, true), /past the ring's tail/],
  ]) {
    test(`${name} is a RingError`, () => {
      const { hub, peer } = ringPair();
      write(hub.outbound.view);
      Atomics.store(hub.outbound.longs, 0, 16n);
      assert.throws(() => drainAll(peer.inbound), (e) => e instanceof RingError && message.test(e.message));
    });
  }

  test('a tail more than a ring ahead of head is a RingError', () => {
    const { hub, peer } = ringPair();
    Atomics.store(hub.outbound.longs, 0, BigInt(R + 8));
    assert.throws(() => drainAll(peer.inbound), RingError);
  });

  test('opening refuses a ring size that is not a power of two and a file of the wrong size', () => {
    const path = join(tempDir(), 'short');
    writeFileSync(path, Buffer.alloc(2 * (128 + R) - 8));
    assert.throws(() => openRings(addon, { path, ringBytes: R }), /has \d+ bytes, not 2 x/);
    assert.throws(() => openRings(addon, { path, ringBytes: 100000 }), /not a power of two/);
    assert.throws(() => openRings(addon, { path, ringBytes: 1024 }), /not a power of two/);
    assert.ok(new Ring(new ArrayBuffer(128 + R), 0, R));
  });
});

function startWorker(hub, env = {}) {
  const child = spawn(process.execPath, [BIN, '--module', STATS], {
    env: {
      ...process.env,
      POLYCALL_SOCKET: hub.path,
      POLYCALL_WORKER_ID: 'node-1',
      POLYCALL_WORKER_SECRET: SECRET.toString('hex'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, exited, stderr: () => stderr };
}

/** Pings over the socket until the worker polls its ring (bounded). */
async function untilWorkerPolls(peer) {
  for (let i = 0; i < 200 && !peer.rings.outbound.consumerAwake(); i++) {
    peer.sendRaw(encodeFrame({ ping: { nonce: 1000 + i } }));
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(peer.rings.outbound.consumerAwake(), 'the worker never polled its ring');
}

describe('a worker with rings, polling long enough to stay awake through each test', { skip: noAddon, timeout: 20000 }, () => {
  let hub;
  let worker;
  let peer;
  before(async () => {
    hub = await startFakeHub({
      secrets: { 'node-1': SECRET },
      rings: { ringBytes: R },
      handlers: { 'java.math.add': (a, b) => a + b },
    });
    // 2 s of polling after each frame: long enough that no test depends on timing.
    worker = startWorker(hub, { POLYCALL_SHM_POLL_US: '2000000' });
    peer = await hub.nextPeer();
    await peer.announce;
  });
  after(async () => {
    if (worker.child.exitCode === null) worker.child.kill();
    await hub.close();
  });

  test('offers shm-rings/1, maps the file the Welcome names, and the hub can unlink it after the first frame', async () => {
    assert.deepEqual((await peer.hello).features, [FEATURE]);
    assert.ok(peer.rings);
    assert.equal(existsSync(peer.ringPath), false, 'unlinked once the announce came');
    assert.equal(peer.received[0].body, 'announce', 'the announce came on the socket');
    assert.match(worker.stderr(), /shared-memory rings on/);
  });

  test('calls from the hub go on ring 0 and their results come back on ring 1', async () => {
    await untilWorkerPolls(peer);
    const before = peer.ringFrames.length;
    const results = await Promise.all([1, 2, 3].map((x) => peer.call('stats.half', [x])));
    assert.deepEqual(results.map((r) => r.value.value), [0.5, 1, 1.5]);
    assert.deepEqual(peer.sentOnRing.slice(-3), ['call', 'call', 'call']);
    assert.equal(peer.ringFrames.slice(before).filter((f) => f.body === 'result').length, 3);
  });

  test('a nested call from the worker goes on ring 1 and is answered on ring 0; async functions work', async () => {
    await untilWorkerPolls(peer);
    const r = await peer.call('stats.addViaHub', [2, 3]);
    assert.equal(r.value.value, 50);
    assert.ok(peer.ringFrames.some((f) => f.call?.function === 'java.math.add'));
    assert.ok(peer.sentOnRing.filter((k) => k === 'result').length >= 1);
  });

  test('a frame too large for the ring goes on the socket, and the answer still arrives', async () => {
    await untilWorkerPolls(peer);
    const onRing = peer.sentOnRing.length;
    const xs = new Float64Array(R / 8); // 64 KiB of data: far over R/4
    const r = await peer.call('stats.scale', [xs, 2]);
    assert.equal(r.value.value.length, xs.length);
    assert.equal(peer.sentOnRing.length, onRing, 'the call did not fit the ring');
    assert.ok(!peer.ringFrames.some((f) => f.result?.value?.value?.length === xs.length), 'nor did the result');
  });

  test('a Cancel on the socket after its Call on the ring is seen after the Call', async () => {
    await untilWorkerPolls(peer);
    const slow = peer.call('stats.slow', []);
    assert.equal(peer.sentOnRing.at(-1), 'call');
    peer.cancel(slow.callId); // on the socket, right away
    const r = await slow;
    assert.equal(r.status.code, Code.CANCELLED);
  });

  test('pings on the ring are answered', async () => {
    await untilWorkerPolls(peer);
    const pong = await peer.ping(4242);
    assert.equal(Number(pong.nonce), 4242);
    assert.equal(peer.sentOnRing.at(-1), 'ping');
  });

  test('on GoAway it drains, sends a Wake before closing, exits 0 and says how many frames used the ring', async () => {
    peer.goAway();
    const { code, stderr } = await worker.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /frames in: [1-9]\d* on the ring, \d+ on the socket; out: [1-9]\d* on the ring/);
    await peer.closed;
    assert.ok(peer.wakesReceived >= 1, 'a Wake came before the end of the stream');
  });
});

describe('a worker with rings that sleeps at once', { skip: noAddon, timeout: 20000 }, () => {
  test('a Wake on the socket makes it drain a ring it was not polling', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, rings: { ringBytes: R } });
    try {
      const worker = startWorker(hub, { POLYCALL_SHM_POLL_US: '1' });
      const peer = await hub.nextPeer();
      await peer.announce;
      for (let i = 0; i < 200 && peer.rings.outbound.consumerAwake(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(peer.rings.outbound.consumerAwake(), false, 'the worker went to sleep');
      const answer = peer.resultFor(77);
      peer.forceFrame({ call: { callId: 77, function: 'stats.half', args: [] } });
      peer.sendRaw(encodeFrame({ wake: {} }));
      const r = await answer;
      assert.equal(r.status.code, Code.INVALID_ARGUMENT); // stats.half takes 1 argument: it ran
      worker.child.kill();
    } finally {
      await hub.close();
    }
  });

  test('a Cancel on the socket is dispatched after the Call waiting on the ring of a sleeping worker', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, rings: { ringBytes: R } });
    try {
      const worker = startWorker(hub, { POLYCALL_SHM_POLL_US: '1' });
      const peer = await hub.nextPeer();
      await peer.announce;
      for (let i = 0; i < 200 && peer.rings.outbound.consumerAwake(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(peer.rings.outbound.consumerAwake(), false, 'the worker went to sleep');
      const answer = peer.resultFor(78);
      peer.forceFrame({ call: { callId: 78, function: 'stats.slow', args: [] } });
      peer.cancel(78); // no Wake: the Cancel itself must make the worker look at its ring first
      // Seen the other way round, the Cancel finds no call and stats.slow runs until the timeout.
      assert.equal((await answer).status.code, Code.CANCELLED);
      worker.child.kill();
    } finally {
      await hub.close();
    }
  });

  test('results go on the socket while the hub does not poll its ring', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, rings: { ringBytes: R }, ringsAwake: false });
    try {
      const worker = startWorker(hub);
      const peer = await hub.nextPeer();
      await peer.announce;
      const rs = await Promise.all([4, 6].map((x) => peer.call('stats.half', [x])));
      assert.deepEqual(rs.map((r) => r.value.value), [2, 3]);
      peer.drainRing();
      assert.deepEqual(peer.ringFrames, []);
      worker.child.kill();
    } finally {
      await hub.close();
    }
  });

  test('a malformed record is a protocol error: GoAway INVALID_ARGUMENT and the worker exits 1', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, rings: { ringBytes: R } });
    try {
      const worker = startWorker(hub);
      const peer = await hub.nextPeer();
      await peer.announce;
      peer.forceRecord(0);
      peer.sendRaw(encodeFrame({ wake: {} }));
      const { code, stderr } = await worker.exited;
      assert.equal(code, 1);
      assert.match(stderr, /protocol error: ring record of length 0/);
      await peer.closed;
      assert.equal(peer.received.find((f) => f.goaway)?.goaway.status.code, Code.INVALID_ARGUMENT);
    } finally {
      await hub.close();
    }
  });

  test('a frame that must not use a ring (a GoAway) is a protocol error there', async () => {
    const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, rings: { ringBytes: R } });
    try {
      const worker = startWorker(hub);
      const peer = await hub.nextPeer();
      await peer.announce;
      peer.forceFrame({ goaway: {} });
      peer.sendRaw(encodeFrame({ wake: {} }));
      const { code, stderr } = await worker.exited;
      assert.equal(code, 1);
      assert.match(stderr, /a goaway frame on the ring/);
    } finally {
      await hub.close();
    }
  });
});

describe('a worker without rings', () => {
  for (const [why, env] of [
    ['with POLYCALL_SHM=0', { POLYCALL_SHM: '0' }],
    ['when the addon does not load', { POLYCALL_SHM_ADDON: '/nonexistent/shm.node', POLYCALL_DEBUG: '1' }],
  ]) {
    test(`offers no feature ${why} and serves calls on the socket`, async () => {
      const hub = await startFakeHub({ secrets: { 'node-1': SECRET }, rings: { ringBytes: R } });
      try {
        const worker = startWorker(hub, env);
        const peer = await hub.nextPeer();
        assert.deepEqual((await peer.hello).features ?? [], []);
        await peer.announce;
        assert.equal(peer.rings, null);
        assert.equal((await peer.call('stats.half', [9])).value.value, 4.5);
        if (env.POLYCALL_SHM_ADDON) assert.match(worker.stderr(), /rings are off: cannot load \/nonexistent/);
        worker.child.kill();
      } finally {
        await hub.close();
      }
    });
  }
});
