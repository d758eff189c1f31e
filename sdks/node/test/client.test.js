// The client against the scripted fake hub (the real hub's client socket arrives later).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as polycall from '../src/index.js';
import { startFakeHub } from './fake-hub.js';

describe('a client connected to the fake hub', () => {
  let hub;
  let client;
  const gates = new Map();
  const gate = (name) => {
    if (!gates.has(name)) {
      let open;
      const p = new Promise((r) => (open = r));
      gates.set(name, Object.assign(p, { open }));
    }
    return gates.get(name);
  };

  before(async () => {
    hub = await startFakeHub({
      limits: { maxInFlight: 4 },
      handlers: {
        'java.math.add': (a, b) => a + b,
        'math.cos': (x) => Math.cos(x),
        'test.echo': (v) => v,
        'test.wait': (name) => gate(name),
        'test.fail': () => {
          throw new polycall.PermissionDeniedError('not for you', {
            frames: [{ language: 'java', function: 'app.Guard.check', file: 'Guard.java', line: 3 }],
          });
        },
        'test.cancelled': (name, { peer }) => {
          gate(`${name}:asked`).open();
          return new Promise(() => {}); // never answers; the client cancels
        },
        'test.fnref': () => new polycall.FnRef('java.math.add', 'fn(i64, i64) -> i64'),
        'polycall.functions': (glob) =>
          ['math.cos(x: f64) -> f64', 'java.math.add(a: i64, b: i64) -> i64'].filter((s) =>
            new RegExp(`^${glob.replace(/\./g, '\\.').replace(/\*/g, '.*')}\\(`).test(s.replace(/\(.*/, '(')),
          ),
      },
    });
    client = await polycall.connect(hub.path);
  });

  after(async () => {
    await client.close();
    await hub.close();
  });

  test('says hello as a CLIENT with no proof', async () => {
    const peer = hub.peers[0];
    const hello = await peer.hello;
    assert.equal(hello.role, 2);
    assert.equal(hello.language, 'javascript');
    assert.equal(hello.proof.length, 0);
  });

  test('calls a function and gets its result', async () => {
    assert.equal(await client.call('java.math.add', 1, 2), 3);
    assert.equal(await client.call('math.cos', 0), 1);
    const xs = new Float64Array([1.5, 2.5]);
    assert.deepEqual(await client.call('test.echo', xs), xs);
    assert.deepEqual(await client.call('test.echo', { a: [1, 'b'] }), { a: [1, 'b'] });
  });

  test('an 8 MB Float64Array goes to the hub and back in one piece', async () => {
    const xs = new Float64Array(1 << 20).map((_, i) => i / 3);
    const back = await client.call('test.echo', xs);
    assert.ok(back instanceof Float64Array);
    assert.deepEqual(back, xs);
  });

  test('many calls in flight on one connection resolve independently, out of order', async () => {
    const first = client.call('test.wait', 'first');
    const second = client.call('test.wait', 'second');
    gate('second').open('two');
    assert.equal(await second, 'two');
    gate('first').open('one');
    assert.equal(await first, 'one');
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => client.call('java.math.add', i, i)));
    assert.deepEqual(many, Array.from({ length: 30 }, (_, i) => 2 * i));
  });

  test('a failed call rejects with the matching error class and the remote frames', async () => {
    await assert.rejects(client.call('test.fail'), (e) => {
      assert.ok(e instanceof polycall.PermissionDeniedError);
      assert.equal(e.message, 'not for you');
      assert.ok(e.frames.some((f) => f.language === 'java' && f.function === 'app.Guard.check'));
      return true;
    });
    await assert.rejects(client.call('no.such'), polycall.NotFoundError);
  });

  test('a bigint beyond 64 bits is OUT_OF_RANGE and nothing is sent', async () => {
    const before = hub.peers[0].received.length;
    await assert.rejects(client.call('test.echo', 2n ** 64n), polycall.OutOfRangeError);
    assert.equal(hub.peers[0].received.length, before);
  });

  test('aborting the signal cancels the call and tells the hub', async () => {
    const controller = new AbortController();
    const p = client.withOptions({ signal: controller.signal }).call('test.cancelled', 'a');
    await gate('a:asked');
    controller.abort();
    await assert.rejects(p, polycall.CancelledError);
    const peer = hub.peers[0];
    for (let i = 0; i < 100 && !peer.received.some((f) => f.cancel); i++) await client.call('java.math.add', 0, 0);
    assert.ok(peer.received.some((f) => f.cancel));
  });

  test('a call past timeoutMs is DEADLINE_EXCEEDED and carries timeout_nanos', async () => {
    await assert.rejects(client.invoke('test.cancelled', ['b'], { timeoutMs: 10 }), polycall.DeadlineExceededError);
    // On a loaded machine the 10 ms may run out before the hub has read the call: wait for it
    // with calls behind it on the same connection (bounded), as the cancel test does.
    const asked = () => hub.peers[0].received.find((f) => f.call?.args?.[0]?.value === 'b');
    for (let i = 0; i < 100 && !asked(); i++) await client.call('java.math.add', 0, 0);
    const { call } = asked();
    assert.equal(call.timeoutNanos.toString(), '10000000');
  });

  test('a returned FnRef is callable through the client', async () => {
    const ref = await client.call('test.fnref');
    assert.ok(ref instanceof polycall.FnRef);
    assert.equal(await ref.call(20, 22), 42);
  });

  test('functions(glob) lists what the hub reports', async () => {
    const fns = await client.functions('math.*');
    assert.deepEqual(fns.map((f) => f.name), ['math.cos']);
    assert.equal(fns[0].signature, 'math.cos(x: f64) -> f64');
  });

  test('closing fails calls in flight with UNAVAILABLE, and close is idempotent', async () => {
    const other = await polycall.connect(hub.path);
    const p = other.call('test.wait', 'never');
    await other.close();
    await other.close();
    await assert.rejects(p, polycall.UnavailableError);
    await assert.rejects(other.call('java.math.add', 1, 1), polycall.UnavailableError);
    assert.ok(other.closed);
  });
});

test('connect to a socket nobody listens on is UNAVAILABLE', async () => {
  await assert.rejects(polycall.connect('/nonexistent/polycall.sock'), polycall.UnavailableError);
});
