import { philox4x32 } from './philox';
import { PricingError } from './pricing-error';
import { checkSeed, seedHigh, seedLow } from './seed';

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_52 = 2 ** -52;
/** Largest valid index of the uniform stream. */
export const UNIFORM_MAX_INDEX = Number.MAX_SAFE_INTEGER;
/** Domain tag in the counter's last word, separating this stream from any other Philox use. */
const STREAM_TAG = 0x756e6966; // "unif"

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const floor = Math.floor;

const scratch = new Uint32Array(4);

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > UNIFORM_MAX_INDEX) {
    throw new PricingError('INDEX_OUT_OF_RANGE', `uniform index ${String(index)} is outside [0, 2^53 − 1]`, {
      details: { index },
    });
  }
}

function checkDimension(dimension: number): void {
  if (!Number.isInteger(dimension) || dimension < 0 || dimension >= TWO_POW_32) {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `dimension must be an integer in [0, 2^32), got ${String(dimension)}`,
    );
  }
}

/** 52 random bits from two uint32 words, mapped to the midpoint of their cell: strictly inside (0, 1). */
function toUnit(a: number, b: number): number {
  return (a * 1048576 + (b >>> 12) + 0.5) * INV_TWO_POW_52;
}

/**
 * One pseudo-random uniform in (0, 1), a pure function of (seed, index, dimension): Philox4x32-10
 * with key = seed and counter = (index low, index high, ⌊dimension/2⌋, tag); even dimensions use
 * output words 0–1, odd ones words 2–3. Unrelated to the Sobol stream of the same seed; meant for
 * held-out validation points.
 */
export function uniformPoint(seed: number, index: number, dimension: number): number {
  checkSeed(seed);
  checkIndex(index);
  checkDimension(dimension);
  philox4x32(
    index % TWO_POW_32,
    floor(index / TWO_POW_32),
    floor(dimension / 2),
    STREAM_TAG,
    seedLow(seed),
    seedHigh(seed),
    scratch,
  );
  return dimension % 2 === 0 ? toUnit(scratch[0], scratch[1]) : toUnit(scratch[2], scratch[3]);
}

/** The `uniformPoint` stream of one seed with the same interface as `SobolSequence`. */
export class UniformSampler {
  readonly dimensions: number;
  readonly seed: number;
  private readonly words = new Uint32Array(4);

  constructor(dimensions: number, options: { seed: number }) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > TWO_POW_32) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `dimensions must be a positive integer, got ${String(dimensions)}`,
      );
    }
    this.dimensions = dimensions;
    this.seed = checkSeed(options?.seed);
  }

  /** Writes point `index` (0 ≤ index ≤ 2^53 − 1) into out[0 .. dimensions − 1]. */
  point(index: number, out: Float64Array): void {
    checkIndex(index);
    if (out.length < this.dimensions) {
      throw new PricingError('INVALID_ARGUMENT', `output has length ${out.length}, need ${this.dimensions}`);
    }
    const lo = index % TWO_POW_32;
    const hi = floor(index / TWO_POW_32);
    const k0 = seedLow(this.seed);
    const k1 = seedHigh(this.seed);
    const w = this.words;
    for (let d = 0; d < this.dimensions; d += 2) {
      philox4x32(lo, hi, d / 2, STREAM_TAG, k0, k1, w);
      out[d] = toUnit(w[0], w[1]);
      if (d + 1 < this.dimensions) out[d + 1] = toUnit(w[2], w[3]);
    }
  }

  /** Writes `count` points from index `start` column-major: columns[d][i] = coordinate d of point start + i. */
  fill(start: number, count: number, columns: readonly Float64Array[]): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `count must be a non-negative integer, got ${String(count)}`,
      );
    }
    checkIndex(start);
    // count − 1 ≤ MAX − start, written so that no intermediate exceeds 2^53 (and rounds).
    if (count > 0 && count - 1 > UNIFORM_MAX_INDEX - start) {
      throw new PricingError(
        'INDEX_OUT_OF_RANGE',
        `uniform points ${start} + ${count} run past index 2^53 − 1`,
        {
          details: { start, count },
        },
      );
    }
    if (columns.length !== this.dimensions) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `expected ${this.dimensions} columns, got ${columns.length}`,
      );
    }
    columns.forEach((c, d) => {
      if (c.length < count)
        throw new PricingError('INVALID_ARGUMENT', `column ${d} has length ${c.length}, need ${count}`);
    });
    const k0 = seedLow(this.seed);
    const k1 = seedHigh(this.seed);
    const w = this.words;
    for (let d = 0; d < this.dimensions; d += 2) {
      const even = columns[d];
      const odd = d + 1 < this.dimensions ? columns[d + 1] : undefined;
      for (let i = 0; i < count; i++) {
        const index = start + i;
        philox4x32(index % TWO_POW_32, floor(index / TWO_POW_32), d / 2, STREAM_TAG, k0, k1, w);
        even[i] = toUnit(w[0], w[1]);
        if (odd !== undefined) odd[i] = toUnit(w[2], w[3]);
      }
    }
  }
}
