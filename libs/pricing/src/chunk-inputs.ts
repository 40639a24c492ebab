import { LatinHypercube } from './latin-hypercube';
import { PricingError } from './pricing-error';
import { SobolSequence } from './sobol-sequence';
import { UniformSampler } from './uniform-sampler';

/**
 * - `sobol`: Owen-scrambled Sobol (training data);
 * - `sobol-unscrambled`: the plain Sobol sequence (the seed is checked but does not matter);
 * - `lhs`: a Latin hypercube design over `total` points (needs `total`);
 * - `uniform`: Philox pseudo-random uniforms (held-out points).
 */
export type SamplerKind = 'sobol' | 'sobol-unscrambled' | 'lhs' | 'uniform';

/** The sampler kinds `chunkInputs` accepts. */
export const SAMPLER_KINDS: readonly SamplerKind[] = Object.freeze([
  'sobol',
  'sobol-unscrambled',
  'lhs',
  'uniform',
]);

/** One sampled input: its name and the interval [min, max] it is mapped onto. */
export interface BoxDimension {
  name: string;
  min: number;
  max: number;
}

export interface ChunkInputsOptions {
  /** The point set; see {@link SamplerKind}. */
  sampler: SamplerKind;
  seed: number;
  box: readonly BoxDimension[];
  /** First sequence index of the chunk. */
  start: number;
  /** Number of points. */
  count: number;
  /**
   * `lhs` only (required there): the size of the whole design, i.e. the experiment's sample count.
   * A Latin hypercube is stratified over all `total` points, so every chunk of one experiment must
   * pass the same `total`; chunk [start, start + count) must lie within it.
   */
  total?: number;
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
  const { sampler, seed, box, start, count, total } = opts;
  checkBox(box);
  if (!Number.isInteger(count) || count < 0) {
    throw new PricingError('INVALID_ARGUMENT', `count must be a non-negative integer, got ${String(count)}`);
  }
  let source: SobolSequence | UniformSampler | LatinHypercube;
  if (sampler === 'sobol') source = new SobolSequence(box.length, { seed, scramble: true });
  else if (sampler === 'sobol-unscrambled') source = new SobolSequence(box.length, { seed, scramble: false });
  else if (sampler === 'uniform') source = new UniformSampler(box.length, { seed });
  else if (sampler === 'lhs') {
    if (total === undefined) {
      throw new PricingError('INVALID_ARGUMENT', 'the lhs sampler needs total, the size of the whole design');
    }
    source = new LatinHypercube(box.length, { seed, total });
  } else {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `sampler must be one of ${SAMPLER_KINDS.map((k) => JSON.stringify(k)).join(', ')}, got ${JSON.stringify(sampler)}`,
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
