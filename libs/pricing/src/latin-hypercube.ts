import { philox4x32 } from './philox';
import { PricingError } from './pricing-error';
import { checkSeed, seedHigh, seedLow } from './seed';
import { mix32 } from './sobol-sequence';

const TWO_POW_32 = 4294967296;
/** Largest design size: the permutation works on 32-bit indices. */
export const LHS_MAX_TOTAL = TWO_POW_32;
/** Domain tag in the Philox counter's last word, separating the jitter from other Philox streams. */
const STREAM_TAG = 0x6c687331; // "lhs1"
const INV_TWO_POW_52 = 2 ** -52;

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const imul = Math.imul;
const floor = Math.floor;

/**
 * A pseudo-random permutation of [0, n) evaluated at i, for any 1 ≤ n ≤ 2^32, keyed by a 32-bit
 * `key`: A. Kensler's hash-based permutation ("Correlated Multi-Jittered Sampling", Pixar Technical
 * Memo 13-01, 2013). Each step is invertible on the low k bits (2^k ≥ n the next power of two), so
 * the map is a bijection of [0, 2^k); values ≥ n are walked along their cycle until they land in
 * [0, n), which keeps it a bijection of [0, n). O(1) expected time, no tables.
 */
export function permuteIndex(i: number, n: number, key: number): number {
  let w = (n - 1) >>> 0;
  w |= w >>> 1;
  w |= w >>> 2;
  w |= w >>> 4;
  w |= w >>> 8;
  w |= w >>> 16;
  w >>>= 0;
  let x = i >>> 0;
  const p = key >>> 0;
  do {
    x ^= p;
    x = imul(x, 0xe170893d);
    x ^= p >>> 16;
    x ^= (x & w) >>> 4;
    x ^= p >>> 8;
    x = imul(x, 0x0929eb3f);
    x ^= p >>> 23;
    x ^= (x & w) >>> 1;
    x = imul(x, 1 | (p >>> 27));
    x = imul(x, 0x6935fa69);
    x ^= (x & w) >>> 11;
    x = imul(x, 0x74dcb303);
    x ^= (x & w) >>> 2;
    x = imul(x, 0x9e501cc3);
    x ^= (x & w) >>> 2;
    x = imul(x, 0xc860a3df);
    x &= w;
    x ^= x >>> 5;
    x >>>= 0;
  } while (x >= n);
  return (x + p) % n;
}

/**
 * A Latin hypercube design of `total` points in `dimensions` dimensions (M. D. McKay, R. J. Beckman,
 * W. J. Conover, Technometrics 21 (1979) 239–245): in every dimension d, point i lies in stratum
 * π_d(i) of the `total` equal strata of (0, 1), with π_d a pseudo-random permutation of [0, total)
 * (see `permuteIndex`), jittered uniformly inside it by a Philox draw:
 *   x_d(i) = (π_d(i) + U_d(i)) / total.
 * The design is defined over the whole sample (not per chunk), so every stratum of every dimension
 * holds exactly one of the `total` points; each point is a pure function of (seed, total, index,
 * dimension), so any chunk [start, start + count) of the design can be regenerated on its own.
 * Coordinates lie strictly inside (0, 1).
 */
export class LatinHypercube {
  readonly dimensions: number;
  readonly seed: number;
  readonly total: number;
  private readonly keys: Uint32Array;
  private readonly words = new Uint32Array(4);

  constructor(dimensions: number, options: { seed: number; total: number }) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > TWO_POW_32) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `dimensions must be a positive integer, got ${String(dimensions)}`,
        {
          details: { dimensions },
        },
      );
    }
    const total = options?.total;
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 1 || total > LHS_MAX_TOTAL) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `the Latin hypercube total must be an integer in [1, 2^32], got ${String(total)}`,
        { details: { total } },
      );
    }
    this.dimensions = dimensions;
    this.seed = checkSeed(options.seed);
    this.total = total;
    this.keys = new Uint32Array(dimensions);
    const base = mix32(mix32(seedLow(this.seed) ^ 0x1b873593) ^ seedHigh(this.seed));
    for (let d = 0; d < dimensions; d++) this.keys[d] = mix32(base ^ mix32(d + 0x3c6ef372));
  }

  private checkRange(start: number, count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `count must be a non-negative integer, got ${String(count)}`,
      );
    }
    if (!Number.isInteger(start) || start < 0 || start > this.total - count) {
      throw new PricingError(
        'INDEX_OUT_OF_RANGE',
        `Latin hypercube points ${String(start)} + ${count} run past the design's ${this.total} points`,
        { details: { start, count, total: this.total } },
      );
    }
  }

  private coordinate(index: number, d: number): number {
    const w = this.words;
    philox4x32(
      index % TWO_POW_32,
      floor(index / TWO_POW_32),
      d >>> 1,
      STREAM_TAG,
      seedLow(this.seed),
      seedHigh(this.seed),
      w,
    );
    const a = d & 1 ? w[2] : w[0];
    const b = d & 1 ? w[3] : w[1];
    const jitter = (a * 1048576 + (b >>> 12) + 0.5) * INV_TWO_POW_52; // 52 bits, in (0, 1)
    const stratum = permuteIndex(index, this.total, this.keys[d]);
    const x = (stratum + jitter) / this.total;
    return x < 1 ? x : 1 - INV_TWO_POW_52; // rounding can only reach 1 for huge totals
  }

  /** Writes point `index` (0 ≤ index < total) into out[0 .. dimensions − 1]. */
  point(index: number, out: Float64Array): void {
    this.checkRange(index, 1);
    if (out.length < this.dimensions) {
      throw new PricingError('INVALID_ARGUMENT', `output has length ${out.length}, need ${this.dimensions}`);
    }
    for (let d = 0; d < this.dimensions; d++) out[d] = this.coordinate(index, d);
  }

  /** Writes `count` points from index `start` column-major: columns[d][i] = coordinate d of point start + i. */
  fill(start: number, count: number, columns: readonly Float64Array[]): void {
    this.checkRange(start, count);
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
    for (let d = 0; d < this.dimensions; d++) {
      const column = columns[d];
      for (let i = 0; i < count; i++) column[i] = this.coordinate(start + i, d);
    }
  }
}
