import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { priceColumns } from '@surrogate/pricing';
import { BenchError } from './bench-error';
import {
  benchPricing,
  formatPricingBench,
  medianRate,
  PRICING_AGREEMENT,
  PRICING_AGREEMENT_FLOOR,
} from './pricing-bench';
import { compareOutputs, compileCppReference, cppInputs, runCppReference } from './pricing-cpp-reference';
import { pricingWorkload, workloadInputs } from './pricing-workloads';

async function rejection(p: Promise<unknown>): Promise<BenchError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BenchError);
    return e as BenchError;
  }
  throw new Error('expected a rejection');
}

describe('surrogate bench pricing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pricing-bench-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports samples/s per pricer, with the C++ build and the ratio for black-scholes and heston', async () => {
    const report = await benchPricing({ pricers: ['black-scholes', 'barrier', 'heston'], seconds: 0.05 });
    expect(report.results.map((r) => r.pricer)).toEqual(['black-scholes', 'barrier', 'heston']);
    for (const r of report.results) {
      expect(r.samplesPerSec).toBeGreaterThan(0);
      expect(Number.isFinite(r.samplesPerSec)).toBe(true);
    }
    const [bs, barrier, heston] = report.results;
    expect(Object.keys(barrier).sort()).toEqual(['pricer', 'samplesPerSec']);
    for (const r of [bs, heston]) {
      expect(Object.keys(r).sort()).toEqual(['cppSamplesPerSec', 'pricer', 'ratio', 'samplesPerSec']);
      expect(r.cppSamplesPerSec).toBeGreaterThan(0);
      // The ratio is ours / C++ (rounded to 3 decimals, the rates to 0.1).
      expect(Math.abs((r.ratio as number) - r.samplesPerSec / (r.cppSamplesPerSec as number))).toBeLessThan(
        1e-3,
      );
    }
    const table = formatPricingBench(report);
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toContain('heston');
    expect(table).toMatch(/ours \/ C\+\+/);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  }, 120_000);

  it.each(['black-scholes', 'heston'])(
    'the C++ build of %s computes the same values as the TypeScript pricer',
    async (name) => {
      const workload = pricingWorkload(name);
      const exe = await compileCppReference(workload, dir);
      const inputs = workloadInputs(workload, name === 'heston' ? 512 : 8192);
      const cpp = await runCppReference(exe, cppInputs(workload, inputs), 0.01, 0.005, dir);
      expect(cpp.slices.length).toBeGreaterThan(0);
      expect(cpp.slices.every(([samples, seconds]) => samples > 0 && seconds > 0)).toBe(true);
      const { pricer, params, names, columns } = inputs;
      const ours = priceColumns(pricer, params, names, columns, pricer.outputs);
      const diff = compareOutputs(pricer.outputs, ours, cpp.outputs, PRICING_AGREEMENT_FLOOR);
      expect(diff.maxRelative).toBeLessThanOrEqual(PRICING_AGREEMENT);
      // The comparison can fail: a relative change of 1e-7 in one price is reported, where it is.
      const changed = cpp.outputs.map((c) => Float64Array.from(c));
      changed[0][17] *= 1 + 1e-7;
      const caught = compareOutputs(pricer.outputs, ours, changed, PRICING_AGREEMENT_FLOOR);
      expect(caught.maxRelative).toBeGreaterThan(PRICING_AGREEMENT);
      expect(caught).toMatchObject({ output: 'price', row: 17 });
    },
    120_000,
  );

  it('compares NaN and infinities strictly', () => {
    const a = [new Float64Array([1, Infinity, NaN])];
    expect(compareOutputs(['x'], a, [new Float64Array([1, Infinity, 0])]).maxRelative).toBe(Infinity);
    expect(compareOutputs(['x'], a, [new Float64Array([1, -Infinity, NaN])]).maxRelative).toBe(Infinity);
    expect(compareOutputs(['x'], [a[0].subarray(0, 2)], [new Float64Array([1, Infinity])]).maxRelative).toBe(
      0,
    );
  });

  it('takes the median of the slices’ rates', () => {
    expect(
      medianRate([
        [100, 1],
        [300, 1],
        [1000, 1],
      ]),
    ).toBe(300);
    expect(
      medianRate([
        [100, 1],
        [300, 1],
      ]),
    ).toBe(200);
  });

  it('without g++: BENCH_REFERENCE_UNAVAILABLE saying what to install', async () => {
    const e = await rejection(
      benchPricing({ pricers: ['black-scholes'], seconds: 0.01, compiler: 'surrogate-no-such-g++' }),
    );
    expect(e.code).toBe('BENCH_REFERENCE_UNAVAILABLE');
    expect(e.message).toContain('surrogate-no-such-g++');
    expect(e.message).toContain('apt-get install g++');
  });

  it('rejects unknown pricers and bad durations before measuring', async () => {
    const unknown = await rejection(benchPricing({ pricers: ['black-scholes', 'nope'] }));
    expect(unknown.code).toBe('BENCH_BAD_OPTION');
    expect(unknown.message).toContain('"nope"');
    expect(unknown.message).toContain('heston');
    for (const seconds of [0, -1, NaN, Infinity]) {
      expect((await rejection(benchPricing({ seconds }))).code).toBe('BENCH_BAD_OPTION');
    }
    expect((await rejection(benchPricing({ pricers: [] }))).code).toBe('BENCH_BAD_OPTION');
  });
});
