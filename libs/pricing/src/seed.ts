import { PricingError } from './pricing-error';

const TWO_POW_32 = 4294967296;

/** Checks a sampler seed: a non-negative safe integer (< 2^53). Returns it. */
export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `seed must be a non-negative safe integer, got ${String(seed)}`,
      {
        details: { seed },
      },
    );
  }
  return seed;
}

/** Low 32 bits of a non-negative safe integer. */
export function seedLow(seed: number): number {
  return seed % TWO_POW_32;
}

/** High 21 bits of a non-negative safe integer. */
export function seedHigh(seed: number): number {
  return Math.floor(seed / TWO_POW_32);
}
