#!/usr/bin/env node
import { cli } from './cli';

// The event loop can only run dry before the command answers when nothing is left that could
// finish it (e.g. a run waiting for data that will never come): that is a failure, said so, never
// a silent exit 0.
let answered = false;
process.once('beforeExit', () => {
  if (answered) return;
  process.stderr.write('surrogate: stopped without an answer: nothing was left running that could finish the command (see the log above)\n');
  process.exitCode = 1;
});

void cli(process.argv.slice(2)).then((r) => {
  answered = true;
  if (r.stdout) process.stdout.write(r.stdout + '\n');
  if (r.stderr) process.stderr.write(r.stderr + '\n');
  process.exitCode = r.exitCode;
});
