import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { cgroupCpuQuota, usableCpus, usableMemoryBytes } from './container-limits';

/** A control-group tree as Linux mounts it, with the given files. */
function cgroupTree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'cgroup-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), `${text}\n`);
  }
  return root;
}

describe('container limits', () => {
  const roots: string[] = [];
  const tree = (files: Record<string, string>): string => {
    const root = cgroupTree(files);
    roots.push(root);
    return root;
  };
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('reads the CPU quota of cgroup v2 (cpu.max) and v1 (cfs quota over period)', () => {
    expect(cgroupCpuQuota(tree({ 'cpu.max': '150000 100000' }))).toBe(1.5);
    expect(cgroupCpuQuota(tree({ 'cpu.max': 'max 100000' }))).toBeUndefined();
    expect(cgroupCpuQuota(tree({ 'cpu/cpu.cfs_quota_us': '300000', 'cpu/cpu.cfs_period_us': '100000' }))).toBe(3);
    expect(cgroupCpuQuota(tree({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' }))).toBeUndefined();
    expect(cgroupCpuQuota(tree({}))).toBeUndefined();
  });

  it('uses no more threads than the quota allows (rounded up), and no more than the CPUs it may run on', () => {
    expect(usableCpus(tree({ 'cpu.max': '50000 100000' }))).toBe(1);
    expect(usableCpus(tree({ 'cpu.max': `${100000 * availableParallelism()} 100000` }))).toBe(availableParallelism());
    expect(usableCpus(tree({ 'cpu.max': `${100000 * (availableParallelism() + 8)} 100000` }))).toBe(availableParallelism());
    expect(usableCpus(tree({ 'cpu.max': 'max 100000' }))).toBe(availableParallelism());
  });

  it("takes the container's memory limit where it is below the machine's", () => {
    const limit = process.constrainedMemory?.() ?? 0;
    const expected = limit > 0 && limit < totalmem() ? limit : totalmem();
    expect(usableMemoryBytes()).toBe(expected);
    expect(usableMemoryBytes()).toBeLessThanOrEqual(totalmem());
  });
});
