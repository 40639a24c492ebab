import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** How a `surrogate …` child process ended, with its output. */
export interface CliExit {
  /** null when a signal ended it */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** This package's built `surrogate` command. */
const MAIN = path.join(__dirname, '..', 'main.js');

/**
 * Runs `surrogate <args>` in a child process (logs at warn), keeping its output. The caller may
 * signal `child`; `exited` resolves once it has ended, or rejects if it could not start.
 */
export function spawnCli(args: string[]): { child: ChildProcess; exited: Promise<CliExit> } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}
