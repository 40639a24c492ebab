#!/usr/bin/env node
import { cli } from './cli';

void cli(process.argv.slice(2)).then((r) => {
  if (r.stdout) process.stdout.write(r.stdout + '\n');
  if (r.stderr) process.stderr.write(r.stderr + '\n');
  process.exitCode = r.exitCode;
});
