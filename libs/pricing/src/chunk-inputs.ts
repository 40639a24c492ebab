import { PricingError } from './pricing-error';
import { SobolSequence } from './sobol-sequence';
import { UniformSampler } from './uniform-sampler';

export type SamplerKind = 'sobol' | 'uniform';

/** One sampled input: its name and the interval [min, max] it is mapped onto. */
export interface BoxDimension {
  name: string;
  min: number;
  max: number;
}

export interface ChunkInputsOptions {
  /** `sobol`: Owen-scrambled Sobol (training data); `uniform`: Philox uniforms (held-out points). */
  sampler: SamplerKind;
  seed: number;
  box: readonly BoxDimension[];
  /** First sequence index of the chunk. */
  start: number;
  /** Number of points. */
  count: number;
}

function checkBox(box: readonly BoxDimension[]): void {
  if (!Array.isArray(box) || box.length === 0) {
    throw new PricingError('INVALID_ARGUMENT', 'the sampling box must have at least one dimension');
  }
  for (const dim of box) {
    const { name, min, max } = dim ?? ({} as BoxDimension);
    const ok =
      typeof min === 'number' &&
      typeof max === 'number' &&
      Number.isFinite(Math.fround(min)) &&
      Number.isFinite(Math.fround(max)) &&
      min <= max &&
      Number.isFinite(max - min);
    if (!ok) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `box dimension ${String(name)}: [${String(min)}, ${String(max)}] must be finite in float32 with min <= max`,
        { details: { name, min, max } },
      );
    }
  }
}

/**
 * The inputs of one chunk: `count` points from sequence index `start` of the seeded sampler, one
 * column per box dimension, each coordinate u ∈ (0, 1) mapped to min + u·(max − min) (clamped to
 * [min, max]) and rounded to float32 — the precision inputs travel in, so the pricer must be fed
 * these exact values. A pure function of its options: the same options give the same bits on
 * any machine, and any split of a range into chunks gives the same points.
 */
export function chunkInputs(opts: ChunkInputsOptions): Float32Array[] {
  const { sampler, seed, box, start, count } = opts;
  checkBox(box);
  if (!Number.isInteger(count) || count < 0) {
    throw new PricingError('INVALID_ARGUMENT', `count must be a non-negative integer, got ${String(count)}`);
  }
  let source: SobolSequence | UniformSampler;
  if (sampler === 'sobol') source = new SobolSequence(box.length, { seed, scramble: true });
  else if (sampler === 'uniform') source = new UniformSampler(box.length, { seed });
  else {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `sampler must be "sobol" or "uniform", got ${JSON.stringify(sampler)}`,
    );
  }
  const unit = box.map(() => new Float64Array(count));
  source.fill(start, count, unit);
  return box.map(({ min, max }, d) => {
    const u = unit[d];
    const column = new Float32Array(count);
    const width = max - min;
    for (let i = 0; i < count; i++) {
      const x = min + u[i] * width;
      column[i] = x > max ? max : x < min ? min : x; // Float32Array stores round-to-nearest-even
    }
    return column;
  });
}
