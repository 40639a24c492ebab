import { readFileSync } from 'node:fs';

/**
 * How long this process's main thread has waited, runnable, for a CPU (µs since it started): the
 * second field of Linux's /proc/self/schedstat. Undefined where that file does not exist. On a
 * machine busy with other work this is where a latency tail comes from that no code of ours causes.
 */
export function runQueueWaitUs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/);
    const ns = Number(fields[1]);
    return Number.isFinite(ns) ? ns / 1000 : undefined;
  } catch {
    return undefined;
  }
}
