// The README's examples run: the worker module under the worker, the client script as a process.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Code } from '../src/index.js';
import { startFakeHub } from './fake-hub.js';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

test('examples/stats.mjs serves its functions under the worker', async () => {
  const secret = Buffer.alloc(32, 3);
  const hub = await startFakeHub({
    secrets: { ex: secret },
    handlers: { 'java.math.sum': (xs) => xs.reduce((a, b) => a + b, 0) },
  });
  try {
    const child = spawn(process.execPath, [here('../bin/polycall-worker.js'), '--module', here('../examples/stats.mjs')], {
      env: { ...process.env, POLYCALL_SOCKET: hub.path, POLYCALL_WORKER_ID: 'ex', POLYCALL_WORKER_SECRET: secret.toString('hex') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise((r) => child.on('exit', r));
    const peer = await hub.nextPeer();
    assert.equal((await peer.announce).functions.length, 3);
    assert.equal((await peer.call('stats.mean', [new Float64Array([1, 2, 3])])).value.value, 2);
    assert.deepEqual((await peer.call('stats.normalize', [new Float64Array([1, 3])])).value.value, new Float64Array([0.25, 0.75]));
    assert.equal((await peer.call('stats.percent', [1, 3])).value.value, 33);
    const err = (await peer.call('stats.percent', [1, 0])).status;
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.message, 'RangeError: whole must not be 0');
    peer.goAway();
    assert.equal(await exited, 0);
  } finally {
    await hub.close();
  }
});

test('examples/client.mjs calls through a hub', async () => {
  const hub = await startFakeHub({
    handlers: {
      'stats.mean': (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
      'math.cos': (x) => Math.cos(x),
      'polycall.functions': () => ['stats.mean(xs: ndarray<f64>) -> f64'],
    },
  });
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [here('../examples/client.mjs'), hub.path]);
    assert.equal(stdout, '2.5\n1\nstats.mean(xs: ndarray<f64>) -> f64\n');
  } finally {
    await hub.close();
  }
});

test('nodeconf.mjs declares every bridge conformance function', async () => {
  const { loadFunctions } = await import('../src/worker.js');
  const fns = await loadFunctions([here('./fixtures/nodeconf.mjs')]);
  assert.equal(fns.size, 24); // the conformance functions and echo_any (arrays of every dtype)
  assert.equal(fns.get('nodeconf.add_i64').implementation(2 ** 53, 1), 2n ** 53n + 1n);
  assert.throws(() => fns.get('nodeconf.checked_div').implementation(1, 0), RangeError);
});
