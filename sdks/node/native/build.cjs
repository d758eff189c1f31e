// Builds the optional shared-memory addon (native/shm.c -> build/shm.node) when the package is
// installed (`npm install polycall` runs this as the package's install script), so that a worker
// installed from npm offers the rings as one built with the SDK's Makefile does. It never fails the
// install: with no C compiler or no node_api.h it says why and the worker uses the socket alone.
//
// Environment: CC (compiler, default cc), POLYCALL_ADDON_OUT (output file, default
// build/shm.node next to this package), POLYCALL_SKIP_ADDON=1 (do not build).
// `node native/build.cjs --print-include` prints the directory of node_api.h (nothing when there is
// none) for the SDK's Makefile, which builds the same addon but fails when the compiler does.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, renameSync, rmSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = dirname(__dirname);
const out = process.env.POLYCALL_ADDON_OUT || join(root, 'build', 'shm.node');
const say = (msg) => process.stderr.write(`polycall: ${msg}\n`);

function nodeInclude() {
  const candidates = [
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    join(process.config.variables.node_prefix || '/usr', 'include', 'node'),
    '/usr/include/node',
  ];
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

function main() {
  if (process.argv.includes('--print-include')) {
    process.stdout.write(nodeInclude() || '');
    return 0;
  }
  if (process.env.POLYCALL_SKIP_ADDON === '1') return 0;
  if (process.platform !== 'linux') {
    say('the shared-memory addon is built on Linux only; workers will use the socket alone');
    return 0;
  }
  const include = nodeInclude();
  if (!include) {
    say('no node_api.h found next to this Node: building without the shared-memory addon');
    return 0;
  }
  const cc = process.env.CC || 'cc';
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  const args = ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-std=c11', '-D_GNU_SOURCE'];
  const r = spawnSync(cc, [...args, `-I${include}`, '-o', tmp, join(root, 'native', 'shm.c')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error ? `cannot run ${cc} (${r.error.code || r.error.message})` : `${cc} failed`;
    say(`${why}: building without the shared-memory addon; workers will use the socket alone`);
    return 0;
  }
  renameSync(tmp, out);
  return 0;
}

process.exitCode = main();
