import type { SamplerKind } from '@surrogate/pricing';

/** What a pricing thread computes: a slice of a chunk, inputs regenerated from the sampler. */
export interface ChunkTask {
  pricer: string;
  fixed: Record<string, number | string>;
  box: { name: string; min: number; max: number }[];
  sampler: SamplerKind;
  seed: number;
  /** Size of the whole design (the Latin hypercube is stratified over all of it). */
  total: number;
  start: number;
  count: number;
  outputs: string[];
  /** Only regenerate the inputs (for a gRPC pricer, called from the main thread): no outputs. */
  sampleOnly?: boolean;
}

/** The slice's inputs (float32, as they travel) and the pricer's outputs at exactly those inputs. */
export interface ChunkSlice {
  inputs: Float32Array[];
  outputs: Float64Array[];
}

export type ThreadRequest = { id: number; task: ChunkTask };
export type ThreadResponse =
  | { id: number; ok: true; slice: ChunkSlice }
  | { id: number; ok: false; error: { message: string; code?: string; details?: unknown } };
