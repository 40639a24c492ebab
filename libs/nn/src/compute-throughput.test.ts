import { matmulGflops, matmulPeakGflops, MATMUL_PEAK_SIZES } from './compute-throughput';

// Rates are what the benchmarks print; here only what the measurement accepts and returns.
describe('matmul rates', () => {
  it('measures square, chained and non-square (independent) products', async () => {
    for (const shape of [
      { m: 32, k: 16, n: 16 },
      { m: 32, k: 16, n: 8 },
    ]) {
      const g = await matmulGflops({ ...shape, seconds: 0.02 });
      expect(Number.isFinite(g)).toBe(true);
      expect(g).toBeGreaterThan(0);
    }
    expect(await matmulPeakGflops({ sizes: [16, 32], seconds: 0.02 })).toBeGreaterThan(0);
    expect(MATMUL_PEAK_SIZES).toContain(256);
  });

  it('rejects an empty size list and non-positive dimensions, naming them', async () => {
    await expect(matmulPeakGflops({ sizes: [] })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG', message: expect.stringContaining('sizes') });
    await expect(matmulGflops({ m: 8, k: 0, n: 8 })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG', message: expect.stringContaining('k = 0') });
    await expect(matmulPeakGflops({ shape: { m: 8, k: 8, n: 2.5 } })).rejects.toMatchObject({ message: expect.stringContaining('n = 2.5') });
  });
});
