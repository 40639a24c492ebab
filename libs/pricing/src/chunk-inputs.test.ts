import { PricingError, SobolSequence, UniformSampler, chunkInputs, type ChunkInputsOptions } from './index';

const box = [
  { name: 'spot', min: 50, max: 150 },
  { name: 'volatility', min: 0.05, max: 0.8 },
  { name: 'rate', min: -0.01, max: 0.07 },
];

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof PricingError ? e.code : 'not a PricingError';
  }
  return undefined;
}

describe('chunkInputs', () => {
  it.each(['sobol', 'uniform'] as const)(
    '%s: maps the sampler linearly onto the box and rounds to float32',
    (sampler) => {
      const opts: ChunkInputsOptions = { sampler, seed: 31, box, start: 500, count: 2000 };
      const cols = chunkInputs(opts);
      expect(cols).toHaveLength(3);
      const source =
        sampler === 'sobol' ? new SobolSequence(3, { seed: 31 }) : new UniformSampler(3, { seed: 31 });
      const unit = [0, 1, 2].map(() => new Float64Array(2000));
      source.fill(500, 2000, unit);
      let mismatches = 0;
      cols.forEach((col, d) => {
        expect(col).toBeInstanceOf(Float32Array);
        expect(col.length).toBe(2000);
        const { min, max } = box[d];
        for (let i = 0; i < 2000; i++) {
          const x = col[i];
          if (x !== Math.fround(min + unit[d][i] * (max - min))) mismatches++;
          if (!(x >= Math.fround(min) && x <= Math.fround(max))) mismatches++;
        }
      });
      expect(mismatches).toBe(0);
    },
  );

  it('is reproducible bit for bit and independent of how a range is split into chunks', () => {
    for (const sampler of ['sobol', 'uniform'] as const) {
      const whole = chunkInputs({ sampler, seed: 8, box, start: 0, count: 1000 });
      const again = chunkInputs({ sampler, seed: 8, box, start: 0, count: 1000 });
      expect(again.map((c) => Buffer.from(c.buffer).toString('hex'))).toEqual(
        whole.map((c) => Buffer.from(c.buffer).toString('hex')),
      );
      const a = chunkInputs({ sampler, seed: 8, box, start: 0, count: 300 });
      const b = chunkInputs({ sampler, seed: 8, box, start: 300, count: 700 });
      whole.forEach((c, d) => expect(Array.from(c)).toEqual([...Array.from(a[d]), ...Array.from(b[d])]));
      const other = chunkInputs({ sampler, seed: 9, box, start: 0, count: 1000 });
      expect(Array.from(other[0])).not.toEqual(Array.from(whole[0]));
    }
  });

  // Regression pin of the data format: the exact float32 bits of the first points. These values
  // follow from the Joe–Kuo numbers, the scramble hash and Philox; if they change, every stored
  // chunk of every experiment would silently change meaning.
  it('produces pinned bits', () => {
    const hex = (c: Float32Array) => Buffer.from(c.buffer).toString('hex');
    const sobol = chunkInputs({
      sampler: 'sobol',
      seed: 1,
      box: [{ name: 'x', min: 0, max: 1 }],
      start: 0,
      count: 4,
    });
    const uniform = chunkInputs({
      sampler: 'uniform',
      seed: 1,
      box: [{ name: 'x', min: 0, max: 1 }],
      start: 0,
      count: 4,
    });
    expect([hex(sobol[0]), hex(uniform[0])]).toEqual([
      '0ac8213f3430a83ef8f83e3e13316c3f',
      '275df63c682e2e3fe16e3f3f9cee703f',
    ]);
  });

  it('handles degenerate dimensions and empty chunks', () => {
    const cols = chunkInputs({
      sampler: 'sobol',
      seed: 1,
      box: [{ name: 'k', min: 0.1, max: 0.1 }],
      start: 0,
      count: 5,
    });
    expect(Array.from(cols[0])).toEqual(new Array(5).fill(Math.fround(0.1)));
    expect(
      chunkInputs({ sampler: 'uniform', seed: 1, box, start: 10, count: 0 }).map((c) => c.length),
    ).toEqual([0, 0, 0]);
  });

  it('rejects malformed options', () => {
    const ok: ChunkInputsOptions = { sampler: 'sobol', seed: 1, box, start: 0, count: 10 };
    expect(codeOf(() => chunkInputs({ ...ok, box: [] }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => chunkInputs({ ...ok, box: [{ name: 'x', min: 2, max: 1 }] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => chunkInputs({ ...ok, box: [{ name: 'x', min: 0, max: 1e39 }] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => chunkInputs({ ...ok, box: [{ name: 'x', min: 0, max: NaN }] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => chunkInputs({ ...ok, sampler: 'halton' as 'sobol' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => chunkInputs({ ...ok, count: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => chunkInputs({ ...ok, seed: -3 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => chunkInputs({ ...ok, start: 2 ** 32 - 5 }))).toBe('INDEX_OUT_OF_RANGE');
  });
});
