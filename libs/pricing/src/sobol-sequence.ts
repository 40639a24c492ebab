import { JOE_KUO_6_21201 } from './joe-kuo-directions';
import { PricingError } from './pricing-error';
import { checkSeed, seedHigh, seedLow } from './seed';

const BITS = 32;
const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const imul = Math.imul;
const clz32 = Math.clz32;

/** Parses the Joe–Kuo table into 32 direction integers V_1..V_32 per dimension (scaled by 2^32). */
function buildDirections(table: string): Uint32Array {
  const rows = table.trim().split('\n').slice(1);
  const dims = rows.length + 1;
  const v = new Uint32Array(dims * BITS);
  for (let j = 0; j < BITS; j++) v[j] = 2 ** (BITS - 1 - j); // dimension 1: m_j = 1
  rows.forEach((row, r) => {
    const [d, s, a, ...m] = row.trim().split(/\s+/).map(Number);
    if (d !== r + 2 || m.length !== s) throw new Error(`malformed Joe–Kuo row ${r + 2}: ${row}`);
    const base = (r + 1) * BITS;
    for (let j = 0; j < BITS; j++) {
      if (j < s) {
        v[base + j] = m[j] * 2 ** (BITS - 1 - j);
        continue;
      }
      // Bratley–Fox recurrence: V_j = V_{j−s} ⊕ (V_{j−s} >> s) ⊕ ⊕_{k=1}^{s−1} a_k V_{j−k}
      let x = v[base + j - s] ^ (v[base + j - s] >>> s);
      for (let k = 1; k < s; k++) if ((a >>> (s - 1 - k)) & 1) x ^= v[base + j - k];
      v[base + j] = x;
    }
  });
  return v;
}

const DIRECTIONS = buildDirections(JOE_KUO_6_21201);

/** Number of dimensions with embedded direction numbers. */
export const SOBOL_MAX_DIMENSIONS = DIRECTIONS.length / BITS;
/** Largest valid sequence index (the sequence has 2^32 points with 32-bit direction numbers). */
export const SOBOL_MAX_INDEX = TWO_POW_32 - 1;

function reverseBits(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}

/**
 * Nested uniform (Owen-style) scramble of a 32-bit binary fraction: B. Burley, "Practical
 * Hash-based Owen Scrambling", JCGT 9(4) 2020 — a Laine–Karras permutation applied to the
 * bit-reversed value. Every step (adding the key, x ^= x·even) changes a bit only as a function
 * of less significant bits, i.e. of *more* significant bits of the fraction, so the map permutes
 * each dyadic interval's children: it preserves the (t, m, s)-net structure.
 */
export function owenScramble(x: number, key: number): number {
  let y = (reverseBits(x) + key) >>> 0;
  y ^= imul(y, 0x6c50b47c);
  y ^= imul(y, 0xb82f1e52);
  y ^= imul(y, 0xc7afe638);
  y ^= imul(y, 0x8d22f6e6);
  return reverseBits(y);
}

/** 32-bit finaliser (C. Wellons' "lowbias32"), a bijection with good avalanche. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Number of trailing zero bits of a positive integer < 2^32. */
function trailingZeros(n: number): number {
  return 31 - clz32(n & -n);
}

export interface SobolOptions {
  /** Seed of the scramble (non-negative safe integer). */
  seed?: number;
  /** Owen-scramble the points; defaults to true when a seed is given, false otherwise. */
  scramble?: boolean;
}

/**
 * The Sobol low-discrepancy sequence in up to {@link SOBOL_MAX_DIMENSIONS} dimensions with
 * Joe–Kuo (new-joe-kuo-6.21201) direction numbers and 32-bit precision, in Gray-code order
 * (point n is the XOR of the direction numbers selected by the bits of n ⊕ (n >> 1), as in
 * Antonov–Saleev; its first 2^k points are the same set as in natural order).
 *
 * Optionally Owen-scrambled (nested uniform scramble, deterministic from the seed, independent
 * per dimension). A 32-bit value x is mapped to (x + 1/2)·2^−32, the midpoint of its cell, so
 * every coordinate lies strictly inside (0, 1).
 */
export class SobolSequence {
  readonly dimensions: number;
  readonly scrambled: boolean;
  readonly seed: number | undefined;
  private readonly keys: Uint32Array;

  constructor(dimensions: number, options: SobolOptions = {}) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > SOBOL_MAX_DIMENSIONS) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `Sobol dimensions must be an integer in [1, ${SOBOL_MAX_DIMENSIONS}], got ${String(dimensions)}`,
        { details: { dimensions } },
      );
    }
    this.dimensions = dimensions;
    this.seed = options.seed === undefined ? undefined : checkSeed(options.seed);
    this.scrambled = options.scramble ?? options.seed !== undefined;
    this.keys = new Uint32Array(dimensions);
    if (this.scrambled) {
      const seed = this.seed ?? 0;
      const base = mix32(mix32(seedLow(seed) ^ 0x2545f491) ^ seedHigh(seed));
      for (let d = 0; d < dimensions; d++) this.keys[d] = mix32(base ^ mix32(d + 0x68e31da4));
    }
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index > SOBOL_MAX_INDEX) {
      throw new PricingError(
        'INDEX_OUT_OF_RANGE',
        `Sobol index ${String(index)} is outside [0, ${SOBOL_MAX_INDEX}]`,
        { details: { index } },
      );
    }
  }

  /** The unscrambled 32-bit value of coordinate `dimension` of point `index` (validated). */
  private rawBits(index: number, dimension: number): number {
    let g = (index ^ (index >>> 1)) >>> 0;
    let x = 0;
    for (let j = dimension * BITS; g !== 0; j++, g >>>= 1) if (g & 1) x ^= DIRECTIONS[j];
    return x >>> 0;
  }

  private toUnit(x: number, dimension: number): number {
    const y = this.scrambled ? owenScramble(x, this.keys[dimension]) : x >>> 0;
    return (y + 0.5) * INV_TWO_POW_32;
  }

  /** Writes point `index` (0 ≤ index ≤ 2^32 − 1) into out[0 .. dimensions − 1]. */
  point(index: number, out: Float64Array): void {
    this.checkIndex(index);
    if (out.length < this.dimensions) {
      throw new PricingError('INVALID_ARGUMENT', `output has length ${out.length}, need ${this.dimensions}`);
    }
    for (let d = 0; d < this.dimensions; d++) out[d] = this.toUnit(this.rawBits(index, d), d);
  }

  /**
   * Writes `count` consecutive points beginning at sequence index `start` column-major:
   * columns[d][i] = coordinate d of point start + i. Bit-identical to `point`, for any split of a
   * range into chunks. Needs start + count ≤ 2^32.
   */
  fill(start: number, count: number, columns: readonly Float64Array[]): void {
    this.checkRange(start, count);
    if (columns.length !== this.dimensions) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `expected ${this.dimensions} columns, got ${columns.length}`,
      );
    }
    for (let d = 0; d < this.dimensions; d++) this.fillColumnUnchecked(d, start, count, columns[d]);
  }

  /** Like `fill` for a single dimension. */
  fillColumn(dimension: number, start: number, count: number, column: Float64Array): void {
    if (!Number.isInteger(dimension) || dimension < 0 || dimension >= this.dimensions) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `dimension ${String(dimension)} is outside [0, ${this.dimensions - 1}]`,
      );
    }
    this.checkRange(start, count);
    this.fillColumnUnchecked(dimension, start, count, column);
  }

  private checkRange(start: number, count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `count must be a non-negative integer, got ${String(count)}`,
      );
    }
    this.checkIndex(start);
    if (count > 0 && count - 1 > SOBOL_MAX_INDEX - start) {
      throw new PricingError(
        'INDEX_OUT_OF_RANGE',
        `Sobol points ${start} + ${count} run past index ${SOBOL_MAX_INDEX}`,
        {
          details: { start, count },
        },
      );
    }
  }

  private fillColumnUnchecked(dimension: number, start: number, count: number, column: Float64Array): void {
    if (column.length < count) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `column ${dimension} has length ${column.length}, need ${count}`,
      );
    }
    if (count === 0) return;
    const base = dimension * BITS;
    let x = this.rawBits(start, dimension);
    // Gray code: going from point n − 1 to n flips the direction number of n's lowest set bit.
    if (this.scrambled) {
      const key = this.keys[dimension];
      column[0] = (owenScramble(x, key) + 0.5) * INV_TWO_POW_32;
      for (let i = 1; i < count; i++) {
        x ^= DIRECTIONS[base + trailingZeros(start + i)];
        column[i] = (owenScramble(x, key) + 0.5) * INV_TWO_POW_32;
      }
    } else {
      column[0] = (x + 0.5) * INV_TWO_POW_32;
      for (let i = 1; i < count; i++) {
        x = (x ^ DIRECTIONS[base + trailingZeros(start + i)]) >>> 0;
        column[i] = (x + 0.5) * INV_TWO_POW_32;
      }
    }
  }
}
