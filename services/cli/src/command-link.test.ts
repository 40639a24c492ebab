import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const REPO = path.resolve(__dirname, '..', '..', '..');
const PACKAGE = path.resolve(__dirname, '..');

/**
 * The README's first command is `npx surrogate …` right after `npm ci` on a fresh clone. npm links
 * a workspace's commands before `prepare` builds dist/, and skips a command whose file is not
 * there yet: the command must point at a committed file, and npx must find it.
 */
describe('the surrogate command', () => {
  it('points at a file that is in the repository, not at a build output', () => {
    const bin = (JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(Object.keys(bin)).toEqual(['surrogate']);
    expect(bin.surrogate.startsWith('dist/')).toBe(false);
    expect(readFileSync(path.join(PACKAGE, bin.surrogate), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('is found by npx from the repository root and runs', async () => {
    // --no: never fetch a registry package of the same name when the workspace's is not linked
    const { stdout } = await promisify(execFile)('npx', ['--no', '--', 'surrogate', 'validate', 'examples/black-scholes.yaml'], {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    expect((JSON.parse(stdout) as { valid: boolean; spec: { name: string } }).spec.name).toBe('bs-call');
  }, 60_000);
});
