import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, type Logger } from '@surrogate/core';

/** The errno codes of a write that found no room: a full disk, a full quota, a file-size limit. */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Whether `err` (or an error it was caused by) is a write that found no room on the disk. */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    if (NO_ROOM.has(String((e as NodeJS.ErrnoException).code))) return true;
  return false;
}

export interface DiskFullOptions {
  log: Logger;
  /** Aborted when the service stops: the wait ends and the last error is thrown (the message goes back). */
  signal: AbortSignal;
  /** First wait before trying again; it doubles up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
  /** What the log says is held while the disk is full (default: the message being handled). */
  held?: string;
}

/**
 * Runs a message handler (or any idempotent write); while it fails because the disk is full, waits and runs it again (the
 * handlers are idempotent, as a redelivery needs them to be). The message stays unacknowledged
 * meanwhile, and with one handler per subscription nothing more is taken from the broker: a full
 * disk holds the trainer's input back instead of dead-lettering good chunks after a few
 * redeliveries. Any other failure is thrown at once.
 */
export async function holdWhileDiskFull<T>(what: Record<string, unknown>, handler: () => Promise<T>, o: DiskFullOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await handler();
    } catch (err) {
      if (!isDiskFull(err) || o.signal.aborted) throw err;
      const waitMs = Math.min(o.retryMs * 2 ** Math.min(attempt - 1, 20), o.maxRetryMs);
      o.log.error(
        { ...what, attempt, retryInMs: waitMs, err: errorMessage(err) },
        o.held ?? 'the data disk is full: this message waits unacknowledged, and nothing more is taken, until it can be stored',
      );
      await sleep(waitMs, undefined, { signal: o.signal }).catch(() => undefined);
      if (o.signal.aborted) throw err;
    }
  }
}
