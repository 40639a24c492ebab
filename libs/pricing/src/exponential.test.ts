import { exp } from './exponential';

/** The distance in units in the last place between two finite doubles of the same sign. */
function ulps(a: number, b: number): number {
  const buffer = new Float64Array([a, b]);
  const bits = new BigInt64Array(buffer.buffer);
  const d = bits[0] - bits[1];
  return Number(d < 0n ? -d : d);
}

describe('exp (table-driven, inlinable)', () => {
  it('is within one ulp of Math.exp (itself within one ulp) over the whole normal range', () => {
    let state = 12345;
    const uniform = () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = i % 2 === 0 ? (uniform() - 0.5) * 1416 : (uniform() - 0.5) * 4;
      worst = Math.max(worst, ulps(exp(x), Math.exp(x)));
    }
    expect(worst).toBeLessThanOrEqual(1);
    // Exact where the result is exactly representable.
    expect(exp(0)).toBe(1);
    expect(exp(-0)).toBe(1);
    for (const k of [-20, -1, 1, 10]) expect(ulps(exp(k * Math.LN2), 2 ** k)).toBeLessThanOrEqual(1);
  });

  it('hands the special and extreme arguments to Math.exp', () => {
    for (const x of [NaN, Infinity, -Infinity, 709.5, 709.78, 710, -708.5, -745, -746, -1e300]) {
      expect(Object.is(exp(x), Math.exp(x))).toBe(true);
    }
  });

  it('is monotone across the table boundaries (steps of ln2/64)', () => {
    let previous = 0;
    for (let x = -3; x <= 3; x += Math.LN2 / 640) {
      const y = exp(x);
      expect(y).toBeGreaterThan(previous);
      previous = y;
    }
  });
});
