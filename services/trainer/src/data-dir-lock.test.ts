import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLogger } from '@surrogate/core';
import { DataDirLock, DataDirLockedError, LOCK_FILE, LOCK_STALE_MS } from './data-dir-lock';

const log = createLogger({ name: 'lock-test', level: 'silent' });

describe('DataDirLock: one trainer per data directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'data-lock-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const signal = (): AbortSignal => new AbortController().signal;

  it('refuses a second holder that may not wait, and lets one that waits in once the first gives it back', async () => {
    const first = await DataDirLock.acquire(dir, { log, whenHeld: 'fail', signal: signal() });
    const refused = await DataDirLock.acquire(dir, { log, whenHeld: 'fail', signal: signal() }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as DataDirLockedError).code).toBe('DATA_DIR_LOCKED');
    expect((refused as Error).message).toContain(`pid ${process.pid}`);

    let second: DataDirLock | undefined;
    const waiting = DataDirLock.acquire(dir, { log, whenHeld: 'wait', signal: signal() }).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 1500));
    expect(second).toBeUndefined(); // still waiting
    await first.release();
    await waiting;
    expect(second).toBeDefined();
    await second?.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('stops waiting when asked to stop', async () => {
    const first = await DataDirLock.acquire(dir, { log, whenHeld: 'fail', signal: signal() });
    const stop = new AbortController();
    const waiting = DataDirLock.acquire(dir, { log, whenHeld: 'wait', signal: stop.signal }).catch((e: unknown) => e);
    setTimeout(() => stop.abort(), 200);
    expect(((await waiting) as DataDirLockedError).code).toBe('DATA_DIR_LOCK_ABANDONED');
    await first.release();
  });

  it('takes over the lock of a trainer that died: at once when its process is gone from this host, else once stale', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const file = path.join(dir, LOCK_FILE);
    writeFileSync(file, JSON.stringify({ host: hostname(), pid: Number(dead), token: 'x', since: '2026-01-01T00:00:00Z' }));
    const a = await DataDirLock.acquire(dir, { log, whenHeld: 'fail', signal: signal() });
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    await a.release();

    // another host's: alive for all we know, until it has not touched the file for LOCK_STALE_MS
    writeFileSync(file, JSON.stringify({ host: 'elsewhere', pid: 1, token: 'y', since: '2026-01-01T00:00:00Z' }));
    expect(((await DataDirLock.acquire(dir, { log, whenHeld: 'fail', signal: signal() }).catch((e: unknown) => e)) as DataDirLockedError).code).toBe('DATA_DIR_LOCKED');
    const old = new Date(Date.now() - LOCK_STALE_MS - 5000);
    utimesSync(file, old, old);
    const b = await DataDirLock.acquire(dir, { log, whenHeld: 'fail', signal: signal() });
    expect(JSON.parse(readFileSync(file, 'utf8')).host).toBe(hostname());
    await b.release();
  });
});
