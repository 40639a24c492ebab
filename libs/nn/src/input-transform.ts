/**
 * A monotone map applied to a raw input before the affine map onto [-1, 1]. `sqrt` and `log`
 * stretch the low end of an input's range, where prices often bend sharply (short maturities,
 * low volatilities), so that the network sees those regions at a finer scale.
 */
export const INPUT_TRANSFORMS = ['linear', 'sqrt', 'log'] as const;
export type InputTransform = (typeof INPUT_TRANSFORMS)[number];

/** The value of `t` at `x` (float64). */
export function applyInputTransform(t: InputTransform, x: number): number {
  switch (t) {
    case 'linear':
      return x;
    case 'sqrt':
      return Math.sqrt(x);
    case 'log':
      return Math.log(x);
  }
}

/** Why `min` cannot be the lower bound of an input with transform `t`, or undefined if it can. */
export function inputTransformDomainRule(t: InputTransform, min: number): string | undefined {
  if (t === 'sqrt' && !(min >= 0)) return 'sqrt needs min ≥ 0';
  if (t === 'log' && !(min > 0)) return 'log needs min > 0';
  return undefined;
}
