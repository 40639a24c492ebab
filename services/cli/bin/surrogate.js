#!/usr/bin/env node
// The `surrogate` command. It is a committed file, not dist/main.js itself, because npm links a
// package's commands when it installs the workspace, before `prepare` has built dist/: a command
// pointing into dist/ would not be linked on a fresh clone, and `npx surrogate` would not find it.
'use strict';
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write(`surrogate is not built (${main} is missing): run npm ci, or npm run build\n`);
  process.exit(1);
}
require(main);
