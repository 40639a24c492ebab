import type { ExperimentSpec } from './experiment-spec';

export type ChunkPurposeName = 'training' | 'validation';

/** One chunk of data to generate: sequence indices [start, start + count) of the purpose's sampler. */
export interface PlannedChunk {
  purpose: ChunkPurposeName;
  index: number;
  count: number;
  start: number;
}

/** How many chunks of each purpose an experiment has. */
export function chunkCounts(spec: ExperimentSpec): { training: number; validation: number } {
  return {
    training: Math.ceil(spec.samples / spec.chunkSize),
    validation: Math.ceil(spec.validation.samples / spec.chunkSize),
  };
}

/**
 * Chunk i covers indices [i·n, min((i+1)·n, total)) — the same on every worker, so any worker can
 * regenerate any chunk bit for bit. Training chunks come from the (scrambled) Sobol sequence,
 * validation chunks from an independent uniform stream.
 */
export function planChunk(spec: ExperimentSpec, purpose: ChunkPurposeName, index: number): PlannedChunk {
  const total = purpose === 'training' ? spec.samples : spec.validation.samples;
  const start = index * spec.chunkSize;
  if (!Number.isInteger(index) || index < 0 || start >= total) {
    throw new RangeError(
      `chunk ${index} is outside the ${purpose} plan of ${Math.ceil(total / spec.chunkSize)} chunks`,
    );
  }
  return { purpose, index, start, count: Math.min(spec.chunkSize, total - start) };
}

/** Every chunk of the experiment, training first. */
export function planChunks(spec: ExperimentSpec): PlannedChunk[] {
  const counts = chunkCounts(spec);
  const out: PlannedChunk[] = [];
  for (let i = 0; i < counts.training; i++) out.push(planChunk(spec, 'training', i));
  for (let i = 0; i < counts.validation; i++) out.push(planChunk(spec, 'validation', i));
  return out;
}
