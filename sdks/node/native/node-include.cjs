// Prints the directory holding this Node's node_api.h, for the Makefile: next to the running
// node first (an unpacked tarball, nvm), then its configured prefix, then the distribution's
// place. Prints nothing when there is none (the addon is then not built).
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

const candidates = [
  join(dirname(dirname(process.execPath)), 'include', 'node'),
  join(process.config.variables.node_prefix || '/usr', 'include', 'node'),
  '/usr/include/node',
];
const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
if (found) process.stdout.write(found);
