import { v1 } from '@surrogate/proto';
import type { ChunkPurposeName } from '@surrogate/spec';
import type { ExperimentStatus } from './experiment-status';

/** What the producer knows of one chunk of an experiment. */
export interface ChunkState {
  purpose: ChunkPurposeName;
  index: number;
  /** Issues of its job so far; 0 for a chunk the submission said the trainer holds (never issued). */
  attempt: number;
  /** The trainer reported it stored (ChunkAccepted, or DatasetReady for all). */
  landed: boolean;
}

/**
 * The producer's durable state of one experiment: everything it needs to resume supervising it
 * after a restart. Written by the producer before it acknowledges the message that changed it.
 */
export interface ExperimentRecord {
  id: string;
  /** The resolved spec as it travels in jobs (the submission's spec with every default filled in). */
  spec: v1.ExperimentSpec;
  /** The submit command's issuedAtMs: a command with the same one is a redelivery of it. */
  submittedAt: number;
  /** When the producer accepted it (its clock). */
  createdAt: number;
  status: ExperimentStatus;
  /** Chunks of the plan, by purpose. */
  expected: Record<ChunkPurposeName, number>;
  /** The submission's accepted event and first jobs have all been published. */
  jobsPublished: boolean;
  /** Every chunk of the plan that was issued or presumed held. */
  chunks: ChunkState[];
}

/** The spec as bytes (its protobuf encoding), for storage. */
export function encodeRecordSpec(spec: v1.IExperimentSpec): Uint8Array {
  return v1.ExperimentSpec.encode(spec).finish();
}

export function decodeRecordSpec(bytes: Uint8Array): v1.ExperimentSpec {
  return v1.ExperimentSpec.decode(bytes);
}

/** A copy that shares nothing with `record` (a store never hands out what it holds). */
export function copyRecord(record: ExperimentRecord): ExperimentRecord {
  return {
    ...record,
    spec: decodeRecordSpec(encodeRecordSpec(record.spec)),
    expected: { ...record.expected },
    chunks: record.chunks.map((c) => ({ ...c })),
  };
}

/** Training chunks first, each purpose by index: the order stores hand chunks out in. */
export function sortChunks(chunks: ChunkState[]): ChunkState[] {
  return chunks.sort((a, b) => (a.purpose === b.purpose ? a.index - b.index : a.purpose === 'training' ? -1 : 1));
}

/** The field of a chunk in a store: `t:<index>` / `v:<index>`. */
export function chunkField(purpose: ChunkPurposeName, index: number): string {
  return `${purpose === 'training' ? 't' : 'v'}:${index}`;
}

export function chunkFromField(field: string, value: string): ChunkState | undefined {
  const f = /^([tv]):(\d+)$/.exec(field);
  const v = /^(\d+),([01])$/.exec(value);
  if (!f || !v) return undefined;
  return { purpose: f[1] === 't' ? 'training' : 'validation', index: Number(f[2]), attempt: Number(v[1]), landed: v[2] === '1' };
}

export function chunkValue(c: ChunkState): string {
  return `${c.attempt},${c.landed ? 1 : 0}`;
}
