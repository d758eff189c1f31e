#!/usr/bin/env node
// polycall-worker: hosts the PolyCall functions exported by ES modules in a worker process that
// the PolyCall supervisor starts. Exit codes: 0 drained, 1 handshake/connection failure, 2 usage.

import { parseArgs } from 'node:util';
import { runWorker, workerOptionsFromEnv } from '../src/index.js';

const USAGE = `usage: polycall-worker --module PATH [--module PATH ...]

Hosts the PolyCall functions exported by each module (made with polycall.fn or
polycall.function) and serves calls from the hub until it drains the worker.

Environment (set by the PolyCall supervisor):
  POLYCALL_SOCKET          Unix socket of the hub
  POLYCALL_WORKER_ID       this worker's id
  POLYCALL_WORKER_SECRET   per-worker secret, hex (proves the worker in the handshake)
  POLYCALL_SHM=0           use the socket only (no shared-memory rings)

Options:
  -m, --module PATH   an ES module to load (repeatable)
  -h, --help          show this help

Exit status: 0 after a graceful drain, 1 on a handshake or connection failure, 2 on bad usage.
Logs go to stderr.`;

let values;
try {
  ({ values } = parseArgs({
    options: { module: { type: 'string', short: 'm', multiple: true }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (e) {
  process.stderr.write(`polycall-worker: ${e.message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!values.module?.length) {
  process.stderr.write(`polycall-worker: at least one --module is required\n${USAGE}\n`);
  process.exit(2);
}

try {
  const options = workerOptionsFromEnv(values.module);
  await runWorker(options);
  process.exit(0);
} catch (e) {
  const what = e?.codeName ? `${e.codeName}: ${e.message}` : (e?.stack ?? String(e));
  process.stderr.write(`polycall-worker: ${what}\n`);
  process.exit(1);
}
