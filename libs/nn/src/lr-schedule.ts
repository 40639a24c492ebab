/**
 * Learning rate of optimizer step `step` (0-based) of `totalSteps`: a short linear warm-up to
 * `initial`, then a cosine decay in log space from `initial` to `final` (i.e. the exponent of
 * the rate follows a half cosine), which spends more steps at small rates than a plain cosine
 * and fine-tunes well. With initial = final the rate is constant.
 */
export function learningRateAt(step: number, totalSteps: number, initial: number, final: number, warmupFraction = WARMUP_FRACTION): number {
  const warmup = Math.floor(totalSteps * warmupFraction);
  if (step < warmup) return (initial * (step + 1)) / warmup;
  const span = Math.max(1, totalSteps - 1 - warmup);
  const p = Math.min(1, Math.max(0, (step - warmup) / span));
  const w = 0.5 * (1 + Math.cos(Math.PI * p));
  return Math.exp(Math.log(final) + w * (Math.log(initial) - Math.log(final)));
}

/** Fraction of all steps spent warming the learning rate up. */
export const WARMUP_FRACTION = 0.01;
