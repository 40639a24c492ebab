import type { v1 } from '@surrogate/proto';
import { chunkCounts, type ChunkPurposeName, type ExperimentSpec } from '@surrogate/spec';

export type ExperimentStatus = 'running' | 'datagen-complete' | 'succeeded' | 'failed' | 'cancelled';

interface ChunkProgress {
  /** Issues of its job so far; 0 for a chunk the submission said the trainer holds (never issued). */
  attempt: number;
  issuedAt: number;
  landed: boolean;
}

/**
 * What the producer knows about one experiment: its plan, which chunks have landed at the trainer,
 * how often each job was issued, and when it last made progress.
 *
 * A resubmitted experiment names the chunks the trainer already holds: they are presumed held and
 * not issued. The trainer still has the last word: a presumed chunk counts as landed once the
 * trainer reports it (a ChunkAccepted, or DatasetReady for the whole dataset); until then it is
 * outstanding with attempt 0, so a stalled experiment issues it after all.
 */
export class ExperimentTracker {
  status: ExperimentStatus = 'running';
  lastProgressAt: number;
  readonly createdAt: number;
  private readonly chunks = new Map<string, ChunkProgress>();
  private landedCount = 0;
  private presumedCount = 0;
  readonly expected: { training: number; validation: number };

  constructor(
    readonly id: string,
    readonly spec: ExperimentSpec,
    readonly wireSpec: v1.ExperimentSpec,
    now: number,
    /** The submit command's issuedAtMs: a command with the same one is a redelivery of it. */
    readonly submittedAt = 0,
  ) {
    this.createdAt = now;
    this.lastProgressAt = now;
    this.expected = chunkCounts(spec);
  }

  get totalChunks(): number {
    return this.expected.training + this.expected.validation;
  }

  get landed(): number {
    return this.landedCount;
  }

  /** Chunks the submission said are held and that were therefore not issued. */
  get presumed(): number {
    return this.presumedCount;
  }

  get isActive(): boolean {
    return this.status === 'running';
  }

  /** A chunk the trainer holds already (as the submission says): its job is not issued. */
  presumeHeld(purpose: ChunkPurposeName, index: number, now: number): void {
    const key = `${purpose}/${index}`;
    if (this.chunks.has(key)) return;
    this.chunks.set(key, { attempt: 0, issuedAt: now, landed: false });
    this.presumedCount += 1;
  }

  isPresumed(purpose: ChunkPurposeName, index: number): boolean {
    const c = this.chunks.get(`${purpose}/${index}`);
    return c !== undefined && c.attempt === 0 && !c.landed;
  }

  issued(purpose: ChunkPurposeName, index: number, now: number): number {
    const key = `${purpose}/${index}`;
    const c = this.chunks.get(key) ?? { attempt: 0, issuedAt: now, landed: false };
    c.attempt += 1;
    c.issuedAt = now;
    this.chunks.set(key, c);
    return c.attempt;
  }

  /** Records that the trainer holds a chunk; returns true if this is news. */
  markLanded(purpose: ChunkPurposeName, index: number, now: number): boolean {
    const key = `${purpose}/${index}`;
    const c = this.chunks.get(key) ?? { attempt: 1, issuedAt: now, landed: false };
    if (c.landed) return false;
    c.landed = true;
    this.chunks.set(key, c);
    this.landedCount += 1;
    this.lastProgressAt = now;
    if (this.landedCount >= this.totalChunks && this.status === 'running') this.status = 'datagen-complete';
    return true;
  }

  /** The trainer reports the whole dataset stored (DatasetReady): every chunk has landed. */
  markAllLanded(now: number): void {
    for (const purpose of ['training', 'validation'] as const)
      for (let i = 0; i < this.expected[purpose]; i++) this.markLanded(purpose, i, now);
  }

  /** Chunks not landed, with their attempt counts (0: presumed held, never issued). */
  outstanding(): { purpose: ChunkPurposeName; index: number; attempt: number }[] {
    const out: { purpose: ChunkPurposeName; index: number; attempt: number }[] = [];
    for (const [key, c] of this.chunks) {
      if (c.landed) continue;
      const [purpose, index] = key.split('/') as [ChunkPurposeName, string];
      out.push({ purpose, index: Number(index), attempt: c.attempt });
    }
    return out;
  }
}
