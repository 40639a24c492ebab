import { randomBytes } from 'node:crypto';

/**
 * A new experiment id: `<spec name (at most 80 characters)>-<UTC time, yyyymmddThhmmss>-<6 hex digits>`,
 * e.g. `heston-20260101T120000-3fa9c1`. What `surrogate submit`, `surrogate run` and the
 * ExperimentService's Submit use when the caller names none.
 */
export function newExperimentId(specName: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${specName.slice(0, 80)}-${stamp}-${randomBytes(3).toString('hex')}`;
}
