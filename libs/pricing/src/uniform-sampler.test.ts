import { PricingError, SobolSequence, UNIFORM_MAX_INDEX, UniformSampler, uniformPoint } from './index';
import { philox4x32 } from './philox';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof PricingError ? e.code : 'not a PricingError';
  }
  return undefined;
}

describe('philox4x32', () => {
  // Known-answer vectors of Philox4x32-10 from the Random123 distribution (tests/kat_vectors),
  // Salmon, Moraes, Dror & Shaw, SC'11: counter words, key words → output words.
  const kat: [number[], number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  it.each(kat)('matches the Random123 known-answer vector for counter %p', (c, k, expected) => {
    const out = new Uint32Array(4);
    philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
    expect(Array.from(out)).toEqual(expected);
  });
});

describe('uniformPoint / UniformSampler', () => {
  it('is a pure function of (seed, index, dimension), shared by point, fill and uniformPoint', () => {
    const s = new UniformSampler(5, { seed: 77 });
    const cols = Array.from({ length: 5 }, () => new Float64Array(100));
    s.fill(1000, 100, cols);
    const out = new Float64Array(5);
    for (let i = 0; i < 100; i++) {
      s.point(1000 + i, out);
      for (let d = 0; d < 5; d++) {
        expect(out[d]).toBe(cols[d][i]);
        expect(uniformPoint(77, 1000 + i, d)).toBe(out[d]);
      }
    }
    expect(uniformPoint(77, 5, 3)).toBe(uniformPoint(77, 5, 3));
    expect(uniformPoint(78, 5, 3)).not.toBe(uniformPoint(77, 5, 3));
    expect(uniformPoint(77, 6, 3)).not.toBe(uniformPoint(77, 5, 3));
    expect(uniformPoint(77, 5, 4)).not.toBe(uniformPoint(77, 5, 3));
    // Large indices and seeds use all their bits.
    expect(uniformPoint(2 ** 40, UNIFORM_MAX_INDEX, 0)).not.toBe(
      uniformPoint(2 ** 40, UNIFORM_MAX_INDEX - 2 ** 32, 0),
    );
    expect(uniformPoint(2 ** 40, 3, 0)).not.toBe(uniformPoint(0, 3, 0));
  });

  it('looks uniform and independent: mean, χ² over 64 bins, lag and cross-dimension correlation', () => {
    const n = 100_000;
    const cols = [new Float64Array(n), new Float64Array(n)];
    new UniformSampler(2, { seed: 2024 }).fill(0, n, cols);
    const [x, y] = cols;
    let mean = 0;
    let min = 1;
    let max = 0;
    const bins = new Array<number>(64).fill(0);
    for (let i = 0; i < n; i++) {
      mean += x[i] / n;
      min = Math.min(min, x[i]);
      max = Math.max(max, x[i]);
      bins[Math.floor(x[i] * 64)]++;
    }
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    const expected = n / 64;
    const chi2 = bins.reduce((acc, b) => acc + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(120); // 63 degrees of freedom: P(χ² > 120) ≈ 2e-5
    const corr = (a: (i: number) => number, b: (i: number) => number, m: number) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += (a(i) - 0.5) * (b(i) - 0.5);
      return (s / m) * 12; // correlation of two U(0,1) variables
    };
    const bound = 5 / Math.sqrt(n);
    expect(
      Math.abs(
        corr(
          (i) => x[i],
          (i) => y[i],
          n,
        ),
      ),
    ).toBeLessThan(bound);
    expect(
      Math.abs(
        corr(
          (i) => x[i],
          (i) => x[i + 1],
          n - 1,
        ),
      ),
    ).toBeLessThan(bound);
  });

  it('is unrelated to the Sobol stream of the same seed', () => {
    const a = new Float64Array(3);
    const b = new Float64Array(3);
    new SobolSequence(3, { seed: 5 }).point(10, a);
    new UniformSampler(3, { seed: 5 }).point(10, b);
    for (let d = 0; d < 3; d++) expect(a[d]).not.toBe(b[d]);
  });

  it('validates seeds, indices and dimensions', () => {
    expect(codeOf(() => uniformPoint(-1, 0, 0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => uniformPoint(2 ** 53, 0, 0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => uniformPoint(1, -1, 0))).toBe('INDEX_OUT_OF_RANGE');
    expect(codeOf(() => uniformPoint(1, 2 ** 53, 0))).toBe('INDEX_OUT_OF_RANGE');
    expect(codeOf(() => uniformPoint(1, 0, -1))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new UniformSampler(0, { seed: 1 }))).toBe('INVALID_ARGUMENT');
    const s = new UniformSampler(2, { seed: 1 });
    expect(codeOf(() => s.fill(UNIFORM_MAX_INDEX, 2, [new Float64Array(2), new Float64Array(2)]))).toBe(
      'INDEX_OUT_OF_RANGE',
    );
    expect(codeOf(() => s.fill(0, 2, [new Float64Array(2)]))).toBe('INVALID_ARGUMENT');
  });
});
