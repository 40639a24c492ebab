import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SurrogateError, errorMessage, type Logger } from '@surrogate/core';

/** Another trainer holds the data directory (and the lock was asked not to wait). */
export class DataDirLockedError extends SurrogateError {}

/** The lock file, in the data directory. */
export const LOCK_FILE = '.trainer.lock';
/** The holder touches the file this often. */
export const LOCK_HEARTBEAT_MS = 5_000;
/** A lock not touched for this long is taken over (its holder died without removing it). */
export const LOCK_STALE_MS = 30_000;

interface Holder {
  host: string;
  pid: number;
  token: string;
  since: string;
}

export interface DataDirLockOptions {
  log: Logger;
  /** 'wait' (a service: until the holder stops, as in a rolling update) or 'fail' at once (a command). */
  whenHeld: 'wait' | 'fail';
  signal: AbortSignal;
}

/**
 * One trainer per data directory. Two on the same datasets (two replicas on a shared volume, a
 * rolling update that starts the new trainer before the old one stops) would train the same
 * dataset twice at once and write the same checkpoint and model files. The holder keeps a lock
 * file whose time it touches every few seconds; a lock left by a trainer that died is taken over
 * once it is stale, or at once when its process is gone from this host.
 */
export class DataDirLock {
  private readonly file: string;
  private readonly me: Holder;
  private heartbeat?: NodeJS.Timeout;

  private constructor(dataDir: string) {
    this.file = path.join(dataDir, LOCK_FILE);
    this.me = { host: hostname(), pid: process.pid, token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
  }

  /** Takes the lock of `dataDir`, waiting for (or failing on) another holder. */
  static async acquire(dataDir: string, o: DataDirLockOptions): Promise<DataDirLock> {
    await mkdir(dataDir, { recursive: true });
    const lock = new DataDirLock(dataDir);
    let told = false;
    for (;;) {
      if (await lock.tryCreate()) break;
      const holder = await lock.holder();
      if (holder === 'gone') continue; // removed meanwhile: try again at once
      if (await lock.isStale(holder)) {
        await lock.takeOver(holder, o.log);
        continue;
      }
      const who = holder ? `${holder.host} pid ${holder.pid}, since ${holder.since}` : 'a trainer';
      if (o.whenHeld === 'fail')
        throw new DataDirLockedError('DATA_DIR_LOCKED', `${dataDir} is in use by another trainer (${who}); one trainer per data directory`, {
          details: { dataDir, holder },
        });
      if (!told) o.log.warn({ dataDir, holder }, 'another trainer holds this data directory; waiting for it to stop (one trainer per data directory)');
      told = true;
      await sleep(1000, undefined, { signal: o.signal }).catch(() => undefined);
      if (o.signal.aborted) throw new DataDirLockedError('DATA_DIR_LOCK_ABANDONED', `stopped while waiting for ${dataDir} (held by ${who})`);
    }
    lock.heartbeat = setInterval(() => void lock.touch(o.log), LOCK_HEARTBEAT_MS);
    lock.heartbeat.unref();
    if (told) o.log.info({ dataDir }, 'data directory lock taken');
    return lock;
  }

  /** Gives the lock back (only if it is still this process's). */
  async release(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const holder = await this.holder();
    if (holder !== 'gone' && holder?.token === this.me.token) await unlink(this.file).catch(() => undefined);
  }

  private async tryCreate(): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      await handle.writeFile(JSON.stringify(this.me));
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  }

  /** Who holds it: undefined when the file cannot be read as a holder (being written), 'gone' when there is none. */
  private async holder(): Promise<Holder | undefined | 'gone'> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Holder;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
    }
  }

  private async isStale(holder: Holder | undefined): Promise<boolean> {
    if (holder?.host === this.me.host && holder.pid !== this.me.pid && !processAlive(holder.pid)) return true;
    try {
      return Date.now() - (await stat(this.file)).mtimeMs > LOCK_STALE_MS;
    } catch {
      return false; // gone meanwhile: the next try creates it
    }
  }

  /** Moves a stale lock aside; of two trainers doing so at once only one rename finds it. */
  private async takeOver(holder: Holder | undefined, log: Logger): Promise<void> {
    try {
      await rename(this.file, `${this.file}.stale-${this.me.token}`);
      await unlink(`${this.file}.stale-${this.me.token}`).catch(() => undefined);
      log.warn({ holder }, 'took over the lock of a trainer that stopped without giving it back');
    } catch {
      // another trainer moved it first
    }
  }

  private async touch(log: Logger): Promise<void> {
    const holder = await this.holder();
    if (holder === 'gone' || holder?.token !== this.me.token) {
      log.error({ file: this.file, holder }, 'the data directory lock is no longer this trainer\'s (it was taken over after a long stall): two trainers may now share the datasets');
      return;
    }
    const now = new Date();
    await utimes(this.file, now, now).catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'could not touch the data directory lock'));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
