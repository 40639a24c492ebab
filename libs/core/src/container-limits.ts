import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import * as path from 'node:path';

/** Where Linux mounts the control groups (v2 unified, or v1 with one directory per controller). */
const CGROUP_ROOT = '/sys/fs/cgroup';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined; // no such controller here (not Linux, or not in a container)
  }
}

/** The CPU quota of the control group at `root`, in CPUs (e.g. 1.5); undefined when there is none. */
export function cgroupCpuQuota(root = CGROUP_ROOT): number | undefined {
  // cgroup v2: "max 100000" (no limit) or "<quota> <period>" in µs
  const v2 = readText(path.join(root, 'cpu.max'));
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    const q = Number(quota);
    const p = Number(period);
    return quota !== 'max' && q > 0 && p > 0 ? q / p : undefined;
  }
  // cgroup v1: cpu.cfs_quota_us is -1 without a limit
  const q = Number(readText(path.join(root, 'cpu', 'cpu.cfs_quota_us')));
  const p = Number(readText(path.join(root, 'cpu', 'cpu.cfs_period_us')));
  return q > 0 && p > 0 ? q / p : undefined;
}

/**
 * How many threads keep this process's CPUs busy: the CPUs it may run on (affinity, as
 * os.availableParallelism), and no more than its container's CPU quota rounded up. A pod limited
 * to 2 CPUs on a 64-core node gets 2, not 64 threads that the quota would throttle.
 */
export function usableCpus(root = CGROUP_ROOT): number {
  const quota = cgroupCpuQuota(root);
  const cpus = availableParallelism();
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}

/**
 * The memory this process may use: the machine's, or its container's limit where that is lower
 * (a pod limited to 8 GiB on a 256 GB node has 8 GiB, and is killed past it).
 */
export function usableMemoryBytes(): number {
  const machine = totalmem();
  const limit = process.constrainedMemory?.() ?? 0; // 0, or a huge value, when there is no limit
  return limit > 0 && limit < machine ? limit : machine;
}
