// The worker side: load modules, connect to the hub's socket, prove who we are, announce the
// exported functions and serve calls until the hub sends GoAway (or the socket closes).

import { createConnection } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, socketReads } from './connection.js';
import { FailedPreconditionError, InvalidArgumentError } from './errors.js';
import { functionsOf } from './function.js';
import { loadAddon, ringsAvailable } from './shm.js';

/**
 * @typedef {object} WorkerOptions
 * @property {string[]} modules paths (relative to the working directory) or URLs of ES modules
 * @property {string} socketPath POLYCALL_SOCKET
 * @property {string} workerId POLYCALL_WORKER_ID
 * @property {string} secretHex POLYCALL_WORKER_SECRET (hex)
 * @property {(msg: string) => void} [log] defaults to stderr
 * @property {boolean} [shm] offer shared-memory rings (WIRE.md) when the addon loads; default
 *   true unless POLYCALL_SHM=0
 */

/**
 * Reads the worker settings from the environment (WIRE.md "Handshake").
 * @param {string[]} modules
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {WorkerOptions}
 * @throws {FailedPreconditionError} naming the missing variable
 */
export function workerOptionsFromEnv(modules, env = process.env) {
  const need = (k) => {
    const v = env[k];
    if (!v) throw new FailedPreconditionError(`${k} is not set (the PolyCall supervisor sets it when it starts a worker)`);
    return v;
  };
  return {
    modules,
    socketPath: need('POLYCALL_SOCKET'),
    workerId: need('POLYCALL_WORKER_ID'),
    secretHex: need('POLYCALL_WORKER_SECRET'),
  };
}

/** Imports the modules and collects their PolyCall functions, failing on duplicate names. */
export async function loadFunctions(modules) {
  const functions = new Map();
  for (const m of modules) {
    const url = /^[a-z]+:/i.test(m) && !/^[a-z]:[\\/]/i.test(m) ? m : pathToFileURL(resolvePath(m)).href;
    const ns = await import(url);
    for (const def of functionsOf(ns)) {
      const prior = functions.get(def.name);
      if (prior && prior !== def) throw new InvalidArgumentError(`function ${def.name} is defined twice (${m})`);
      functions.set(def.name, def);
    }
  }
  return functions;
}

/**
 * Runs a worker until the hub drains it. Resolves when the connection has closed after a
 * GoAway (exit 0); rejects on a handshake failure or a connection lost without GoAway.
 * @param {WorkerOptions} options
 * @returns {Promise<void>}
 */
export async function runWorker(options) {
  const log = options.log ?? ((msg) => process.stderr.write(`polycall-worker[${options.workerId}]: ${msg}\n`));
  if (!/^([0-9a-fA-F]{2})+$/.test(options.secretHex)) {
    throw new FailedPreconditionError('POLYCALL_WORKER_SECRET must be hex');
  }
  const functions = await loadFunctions(options.modules);
  if (functions.size === 0) {
    throw new FailedPreconditionError(`no PolyCall functions exported by ${options.modules.join(', ')}`);
  }
  const reads = socketReads();
  const socket = createConnection({ path: options.socketPath, onread: reads.onread });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (e) => reject(new FailedPreconditionError(`cannot connect to ${options.socketPath}: ${e.message}`)));
  });
  // Why the rings are off (no addon, say) is only worth a line with POLYCALL_DEBUG set.
  const debug = process.env.POLYCALL_DEBUG ? log : () => {};
  const shm = (options.shm ?? true) && ringsAvailable(debug) ? loadAddon() : null;
  const conn = new Connection(socket, { functions, log, shm, reads });
  let sawGoAway = false;
  conn.on('goaway', () => {
    sawGoAway = true;
  });
  const closed = new Promise((resolve) => conn.once('close', resolve));
  await conn.handshake({ role: 'WORKER', workerId: options.workerId, secret: Buffer.from(options.secretHex, 'hex') });
  conn.send({
    announce: {
      functions: [...functions.values()].map((d) => ({
        signature: d.signature,
        version: d.version === 1 ? 0 : d.version,
        tags: [...d.tags],
        doc: d.doc,
      })),
    },
  });
  log(`connected to node ${conn.nodeId || '(unnamed)'}; serving ${[...functions.keys()].join(', ')}`);
  const stop = () => {
    log('signal received: draining');
    conn.drain();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const err = await closed;
    if (err && !sawGoAway && !conn.draining) throw err;
    log('drained; exiting');
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
