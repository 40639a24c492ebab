import {
  LatinHypercube,
  PricingError,
  SAMPLER_KINDS,
  SobolSequence,
  chunkInputs,
  permuteIndex,
  type ChunkInputsOptions,
} from './index';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof PricingError ? e.code : 'not a PricingError';
  }
  return undefined;
}

describe('permuteIndex', () => {
  it('is a bijection of [0, n) for any n, and depends on the key', () => {
    for (const n of [1, 2, 3, 17, 1000, 4096, 5003]) {
      for (const key of [0, 1, 0xdeadbeef]) {
        const seen = new Uint8Array(n);
        let outside = 0;
        for (let i = 0; i < n; i++) {
          const j = permuteIndex(i, n, key);
          if (j >= 0 && j < n && Number.isInteger(j)) seen[j]++;
          else outside++;
        }
        expect(outside).toBe(0);
        expect(seen.every((c) => c === 1)).toBe(true);
      }
    }
    const a = Array.from({ length: 100 }, (_, i) => permuteIndex(i, 100, 7));
    const b = Array.from({ length: 100 }, (_, i) => permuteIndex(i, 100, 8));
    expect(a).not.toEqual(b);
    // Works at the top of the range.
    const big = permuteIndex(2 ** 32 - 1, 2 ** 32, 12345);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
  });
});

describe('LatinHypercube', () => {
  it('puts exactly one point of the design in every stratum of every dimension', () => {
    for (const total of [1, 7, 1000, 1024]) {
      const lhs = new LatinHypercube(5, { seed: 42, total });
      const cols = Array.from({ length: 5 }, () => new Float64Array(total));
      lhs.fill(0, total, cols);
      for (const col of cols) {
        const strata = new Uint8Array(total);
        let outside = 0;
        for (const x of col) {
          if (x > 0 && x < 1) strata[Math.floor(x * total)]++;
          else outside++;
        }
        expect(outside).toBe(0);
        expect(strata.every((c) => c === 1)).toBe(true);
      }
    }
  });

  it('is a pure function of (seed, total, index): chunks and single points agree bit for bit', () => {
    const lhs = new LatinHypercube(3, { seed: 9, total: 500 });
    const whole = [0, 1, 2].map(() => new Float64Array(500));
    lhs.fill(0, 500, whole);
    const again = new LatinHypercube(3, { seed: 9, total: 500 });
    const part = [0, 1, 2].map(() => new Float64Array(120));
    again.fill(310, 120, part);
    part.forEach((c, d) => expect(Array.from(c)).toEqual(Array.from(whole[d].subarray(310, 430))));
    const point = new Float64Array(3);
    again.point(499, point);
    expect(Array.from(point)).toEqual([whole[0][499], whole[1][499], whole[2][499]]);
    // Another seed or another design size gives another design.
    const other = new LatinHypercube(3, { seed: 10, total: 500 });
    other.point(499, point);
    expect(point[0]).not.toBe(whole[0][499]);
  });

  it('has roughly uncorrelated dimensions and uniform marginals', () => {
    const total = 4000;
    const lhs = new LatinHypercube(2, { seed: 3, total });
    const [x, y] = [new Float64Array(total), new Float64Array(total)];
    lhs.fill(0, total, [x, y]);
    let sxy = 0;
    for (let i = 0; i < total; i++) sxy += (x[i] - 0.5) * (y[i] - 0.5);
    const correlation = (sxy / total) * 12; // variance of U(0,1) is 1/12
    expect(Math.abs(correlation)).toBeLessThan(0.05);
  });

  it('rejects bad options and ranges outside the design', () => {
    expect(codeOf(() => new LatinHypercube(2, { seed: 1, total: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new LatinHypercube(2, { seed: 1, total: 2.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new LatinHypercube(0, { seed: 1, total: 10 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new LatinHypercube(1, { seed: -1, total: 10 }))).toBe('INVALID_ARGUMENT');
    const lhs = new LatinHypercube(1, { seed: 1, total: 10 });
    expect(codeOf(() => lhs.fill(5, 6, [new Float64Array(6)]))).toBe('INDEX_OUT_OF_RANGE');
    expect(codeOf(() => lhs.point(10, new Float64Array(1)))).toBe('INDEX_OUT_OF_RANGE');
    expect(codeOf(() => lhs.fill(10, 0, [new Float64Array(0)]))).toBeUndefined();
  });
});

describe('chunkInputs — the new samplers', () => {
  const box = [
    { name: 'spot', min: 50, max: 150 },
    { name: 'volatility', min: 0.05, max: 0.8 },
  ];

  it('offers sobol, sobol-unscrambled, lhs and uniform', () => {
    expect(SAMPLER_KINDS).toEqual(['sobol', 'sobol-unscrambled', 'lhs', 'uniform']);
  });

  it('lhs: chunks of one design (same total) tile it, stratified over the whole sample', () => {
    const opts: ChunkInputsOptions = { sampler: 'lhs', seed: 4, box, start: 0, count: 1000, total: 1000 };
    const whole = chunkInputs(opts);
    const a = chunkInputs({ ...opts, count: 400 });
    const b = chunkInputs({ ...opts, start: 400, count: 600 });
    whole.forEach((c, d) => expect(Array.from(c)).toEqual([...Array.from(a[d]), ...Array.from(b[d])]));
    const strata = new Uint8Array(1000);
    for (const v of whole[0]) strata[Math.min(999, Math.floor(((v - 50) / 100) * 1000))]++;
    // float32 rounding may move a point across a stratum edge, but almost never.
    expect(strata.filter((c) => c === 1).length).toBeGreaterThan(990);
    expect(codeOf(() => chunkInputs({ ...opts, total: undefined }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => chunkInputs({ ...opts, start: 900, count: 200 }))).toBe('INDEX_OUT_OF_RANGE');
  });

  it('sobol-unscrambled is the plain Sobol sequence', () => {
    const cols = chunkInputs({
      sampler: 'sobol-unscrambled',
      seed: 1,
      box: [{ name: 'x', min: 0, max: 1 }],
      start: 0,
      count: 4,
    });
    // Point n of the Gray-code sequence in dimension 1: 0, 1/2, 3/4, 1/4 (at cell midpoints 2^-33 up).
    expect(Array.from(cols[0])).toEqual([0, 0.5, 0.75, 0.25].map((v) => Math.fround(v + 2 ** -33)));
    const seq = new SobolSequence(2);
    const unit = [new Float64Array(64), new Float64Array(64)];
    seq.fill(100, 64, unit);
    const mapped = chunkInputs({ sampler: 'sobol-unscrambled', seed: 77, box, start: 100, count: 64 });
    expect(Array.from(mapped[1])).toEqual(Array.from(unit[1], (u) => Math.fround(0.05 + u * 0.75)));
  });
});
