import type { v1 } from '@surrogate/proto';
import { chunkCounts, type ChunkPurposeName, type ExperimentSpec } from '@surrogate/spec';

export type ExperimentStatus = 'running' | 'datagen-complete' | 'succeeded' | 'failed' | 'cancelled';

interface ChunkProgress {
  attempt: number;
  issuedAt: number;
  landed: boolean;
}

/**
 * What the producer knows about one experiment: its plan, which chunks have landed at the trainer,
 * how often each job was issued, and when it last made progress.
 */
export class ExperimentTracker {
  status: ExperimentStatus = 'running';
  lastProgressAt: number;
  readonly createdAt: number;
  private readonly chunks = new Map<string, ChunkProgress>();
  private landedCount = 0;
  readonly expected: { training: number; validation: number };

  constructor(
    readonly id: string,
    readonly spec: ExperimentSpec,
    readonly wireSpec: v1.ExperimentSpec,
    now: number,
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

  get isActive(): boolean {
    return this.status === 'running';
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

  /** Chunks issued but not landed, with their attempt counts. */
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
