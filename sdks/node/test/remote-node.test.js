// The remote clients against the REAL Java node: `bin/polycall serve --grpc --http` with the
// built-in example config (Java, C and the example workers), started once for this file and
// stopped at its end; every case over gRPC and over HTTP. The node is
// polycall-server/target/polycall.jar, which `make test` builds before the SDK suites (in a
// worktree: ./mvnw -B -q -o -ntp -pl polycall-server -am package -DskipTests).

import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as polycall from '../src/index.js';
import { makeCerts } from './fake-remote.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const JAR = join(ROOT, 'polycall-server', 'target', 'polycall.jar');
const START_LIMIT_MS = 120_000;
const url = (scheme, address) => (address.includes('://') ? address : `${scheme}://${address}`);

/** Starts `bin/polycall ARGS --ready-file` in `dir`; resolves with its process and addresses. */
async function serve(dir, args) {
  if (!existsSync(JAR)) {
    throw new Error(
      `${JAR} is missing: the remote-node tests need the Java node. Build it with \`make build\` (make test builds it before the SDK suites), or in a worktree: ./mvnw -B -q -o -ntp -pl polycall-server -am package -DskipTests`,
    );
  }
  const ready = join(dir, 'ready.json');
  const log = join(dir, 'node.log');
  const proc = spawn(join(ROOT, 'bin', 'polycall'), [...args, '--ready-file', ready], {
    cwd: dir,
    stdio: ['ignore', 'ignore', openSync(log, 'w')],
  });
  const exited = new Promise((r) => proc.once('exit', r));
  const start = Date.now();
  while (!existsSync(ready)) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
    if (code !== 'waiting' || Date.now() - start > START_LIMIT_MS) {
      proc.kill('SIGKILL');
      throw new Error(`bin/polycall serve did not get ready (exit ${code}):\n${readFileSync(log, 'utf8').slice(-3000)}`);
    }
  }
  return { proc, info: JSON.parse(readFileSync(ready, 'utf8')) };
}

/** SIGTERM (the node drains its workers), SIGKILL after 30 s. */
async function stop(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

let proc;
let dir;
const node = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pc-node-')); // no polycall.yaml here: the built-in example config
  const started = await serve(dir, ['serve', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0']);
  proc = started.proc;
  node.grpc = url('grpc', started.info.grpc);
  node.http = url('http', started.info.http);
});

after(async () => {
  await stop(proc);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const transport of ['grpc', 'http']) {
  describe(`the real node over ${transport}`, () => {
    let client;
    before(async () => {
      client = await polycall.connect(node[transport]);
    });
    after(() => client?.close());

    test('Java functions answer, TypedArrays travel as ndarrays', async () => {
      assert.equal(await client.call('math.add', 1, 2), 3);
      assert.equal(await client.call('stats.mean', new Float64Array([1, 2, 3, 4])), 2.5);
      assert.deepEqual(await client.call('stats.scale', new Float64Array([1, 2, 3]), 2), new Float64Array([2, 4, 6]));
      const s = await client.call('stats.summary', new Float64Array([1, 3]));
      assert.deepEqual([s.count, s.min, s.max, s.mean], [2, 1, 3, 2]);
      assert.equal(await client.call('math.cos', 0), 1);
      const fns = await client.functions('math.*');
      assert.ok(fns.some((f) => f.signature === 'math.add(a: i64, b: i64) -> i64'));
      if (transport === 'grpc') assert.ok(client.nodeId);
      const sq = await Promise.all(Array.from({ length: 16 }, (_, i) => client.call('math.square', i)));
      assert.deepEqual(sq, Array.from({ length: 16 }, (_, i) => i * i));
    });

    test('an unknown function is NOT_FOUND with suggestions, and the node keeps serving', async () => {
      await assert.rejects(client.call('math.ad', 1, 2), (e) => {
        assert.ok(e instanceof polycall.NotFoundError, String(e));
        assert.ok(e.suggestions.includes('math.add'), e.message);
        return true;
      });
      assert.equal(await client.call('math.add', 2, 2), 4);
    });

    test('a wrong type is INVALID_ARGUMENT, and the node keeps serving', async () => {
      await assert.rejects(client.call('math.add', 1, 'two'), polycall.InvalidArgumentError);
      assert.equal(await client.call('math.add', 2, 3), 5);
    });

    test("a Python worker's exception arrives with its Python frames", async (t) => {
      if (!(await client.functions('npstats.*')).some((f) => f.name === 'npstats.mean')) {
        return t.skip('the example Python worker is not running (make sdk-envs)');
      }
      await assert.rejects(client.call('npstats.mean', new Float64Array(0)), (e) => {
        assert.ok(e instanceof polycall.InvalidArgumentError, String(e));
        assert.ok(e.frames.some((f) => f.language === 'python'));
        return true;
      });
    });

    test("the README's remote example runs against the node", async () => {
      const example = fileURLToPath(new URL('../examples/remote.mjs', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, [example, node[transport]]);
      assert.deepEqual(stdout.trim().split('\n'), ['3', '2.5', "NOT_FOUND [ 'math.add' ]", '[ 0, 1, 4, 9, 16 ]']);
    });

    test('an expired deadline is DEADLINE_EXCEEDED, and the node keeps serving', async () => {
      const xs = new Float64Array(1_000_000);
      await assert.rejects(client.invoke('stats.mean', [xs], { timeoutMs: 0.001 }), polycall.DeadlineExceededError);
      assert.equal(await client.invoke('math.add', [1, 1], { timeoutMs: 30_000 }), 2);
    });
  });
}

describe('the real node over grpcs with mutual TLS', { skip: !haveOpenssl() && 'needs the openssl command' }, () => {
  let tls;
  let certs;
  before(async () => {
    certs = makeCerts();
    writeFileSync(
      join(certs.dir, 'polycall.yaml'),
      'jvm: [io.polycall.server.examples.MathFunctions]\ngrpc:\n  listen: 127.0.0.1:0\n  tls: {cert: server.pem, key: server.key, client_ca: ca.pem}\n',
    );
    tls = await serve(certs.dir, ['--config', join(certs.dir, 'polycall.yaml'), 'serve']);
  });
  after(async () => {
    await stop(tls?.proc);
    rmSync(certs.dir, { recursive: true, force: true });
  });

  test('a client with its certificate calls; one without, or without the CA, is refused', async () => {
    const target = url('grpcs', tls.info.grpc);
    const client = await polycall.connect(target, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    try {
      assert.equal(await client.call('math.add', 20, 22), 42);
    } finally {
      await client.close();
    }
    await assert.rejects(polycall.connect(target, { ca: certs.ca, connectTimeoutMs: 10_000 }), polycall.UnavailableError);
    await assert.rejects(polycall.connect(target, { connectTimeoutMs: 10_000 }), polycall.UnavailableError);
  });
});

function haveOpenssl() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
