import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { priceColumns } from '@surrogate/pricing';
import { BenchError } from './bench-error';
import {
  compareOutputs,
  compileCppReference,
  cppInputs,
  runCppReference,
  type Slice,
} from './pricing-cpp-reference';
import { PRICING_WORKLOADS, pricingWorkload, workloadInputs, type WorkloadInputs } from './pricing-workloads';

export interface PricingBenchOptions {
  /** Pricers to measure (default: all six built-in pricers, in PRICING_WORKLOADS order). */
  pricers?: string[];
  /** Seconds measured per pricer. */
  seconds?: number;
  /** The C++ compiler (default g++); it is invoked as `<compiler> -O3 …`. */
  compiler?: string;
}

export interface PricingBenchResult {
  pricer: string;
  /** Samples priced per second on one core. */
  samplesPerSec: number;
  /** The same algorithm built with g++ -O3 (black-scholes and heston only). */
  cppSamplesPerSec?: number;
  /** samplesPerSec / cppSamplesPerSec. */
  ratio?: number;
}

export interface PricingBenchReport {
  results: PricingBenchResult[];
}

/** Default seconds measured per pricer (and again for its C++ build). */
export const PRICING_BENCH_DEFAULT_SECONDS = 3;
/** Largest relative difference accepted between our outputs and the C++ build's. */
export const PRICING_AGREEMENT = 1e-9;
/**
 * Floor of the denominator of the relative difference, in the outputs' units (prices with strike
 * 100): below it values are compared absolutely, to PRICING_AGREEMENT × this floor (1e-12).
 */
export const PRICING_AGREEMENT_FLOOR = 1e-3;

/** Seconds of untimed pricing before measuring (the JIT compiles the hot paths meanwhile). */
function warmupSeconds(seconds: number): number {
  return Math.min(1, Math.max(0.2, seconds / 5));
}

/** CPU seconds used by this process so far (user + system, all its threads). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Our side of one pricer's measurement: prices the pool with priceColumns — the datagen workers'
 * path: every row validated, every output into a fresh column — in batches, cycling through the
 * pool, and records a slice per `sliceSeconds` of CPU time. CPU time rather than wall-clock time,
 * on both sides, so that a shared machine measures the work and not the waits for a core.
 */
class OurSide {
  private offset = 0;
  private batch = 16;

  constructor(private readonly inputs: WorkloadInputs) {}

  private priceBatch(): number {
    const { pricer, params, names, columns } = this.inputs;
    const pool = columns[0].length;
    const end = Math.min(this.offset + this.batch, pool);
    const slice = columns.map((c) => c.subarray(this.offset, end));
    priceColumns(pricer, params, names, slice, pricer.outputs);
    const priced = end - this.offset;
    this.offset = end === pool ? 0 : end;
    return priced;
  }

  /** Prices untimed for `seconds`, growing the batch until one takes at least `batchSeconds`. */
  warmUp(seconds: number, batchSeconds: number): void {
    const pool = this.inputs.columns[0].length;
    const end = cpuSeconds() + seconds;
    do {
      const t0 = cpuSeconds();
      this.priceBatch();
      if (cpuSeconds() - t0 < batchSeconds && this.batch < pool) this.batch = Math.min(pool, this.batch * 2);
    } while (cpuSeconds() < end);
  }

  measure(seconds: number, sliceSeconds: number): Slice[] {
    const slices: Slice[] = [];
    let total = 0;
    while (total < seconds) {
      const start = cpuSeconds();
      let samples = 0;
      let elapsed = 0;
      do {
        samples += this.priceBatch();
        elapsed = cpuSeconds() - start;
      } while (elapsed < sliceSeconds);
      slices.push([samples, elapsed]);
      total += elapsed;
    }
    return slices;
  }
}

/** The median over slices of samples per second. */
export function medianRate(slices: readonly Slice[]): number {
  const rates = slices.map(([samples, seconds]) => samples / seconds).sort((a, b) => a - b);
  const mid = rates.length >> 1;
  return rates.length % 2 === 1 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function checkOptions(o: PricingBenchOptions): { pricers: string[]; seconds: number } {
  const seconds = o.seconds ?? PRICING_BENCH_DEFAULT_SECONDS;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new BenchError('BENCH_BAD_OPTION', `--seconds = ${String(seconds)}: must be a number > 0`, {
      details: { option: 'seconds', value: seconds },
    });
  }
  const pricers = o.pricers ?? PRICING_WORKLOADS.map((w) => w.pricer);
  if (pricers.length === 0) {
    throw new BenchError('BENCH_BAD_OPTION', '--pricers: name at least one pricer', {
      details: { option: 'pricers', value: pricers },
    });
  }
  for (const name of pricers) pricingWorkload(name); // unknown names fail before anything runs
  return { pricers, seconds };
}

/**
 * Measures each pricer's single-core throughput, and a C++ build of the same algorithm where there is one.
 *
 * For every pricer, a pool of realistic inputs (scrambled Sobol points in a typical experiment box,
 * float32 as in a chunk) is priced with `priceColumns` — the datagen workers' path, validation
 * included — on this thread. For black-scholes and heston the C++ transcription of the same
 * algorithm (bench/cpp) is compiled with g++ -O3 into a temporary directory and run, single-threaded,
 * on the same points for the same time, doing what priceColumns does (range checks, fresh output
 * columns); its outputs must agree with ours to PRICING_AGREEMENT relative (BENCH_FAILED
 * otherwise), so both sides demonstrably compute the same thing. The two sides take turns (a round
 * of ~0.5 s each, up to ten, never concurrently) and each reports the median over its slices of
 * ~0.1 s of CPU time, which keeps other load on a shared machine from deciding the ratio.
 */
export async function benchPricing(options: PricingBenchOptions): Promise<PricingBenchReport> {
  const { pricers, seconds } = checkOptions(options);
  const workloads = pricers.map(pricingWorkload);
  const rounds = Math.max(1, Math.min(10, Math.round(seconds / 0.5)));
  const sliceSeconds = Math.min(0.1, seconds / (5 * rounds));
  const dir = await mkdtemp(join(tmpdir(), 'surrogate-bench-pricing-'));
  try {
    // Compile first: a missing compiler fails before anything is measured.
    const executables = new Map<string, string>();
    for (const w of workloads) {
      if (w.cpp !== undefined) executables.set(w.pricer, await compileCppReference(w, dir, options.compiler));
    }
    const results: PricingBenchResult[] = [];
    for (const w of workloads) {
      const inputs = workloadInputs(w);
      const ours = new OurSide(inputs);
      ours.warmUp(warmupSeconds(seconds), sliceSeconds / 2);
      const exe = executables.get(w.pricer);
      const ourSlices: Slice[] = [];
      const cppSlices: Slice[] = [];
      const reference = exe === undefined ? undefined : cppInputs(w, inputs);
      let cppOutputs: Float64Array[] | undefined;
      for (let r = 0; r < rounds; r++) {
        ourSlices.push(...ours.measure(seconds / rounds, sliceSeconds));
        if (exe !== undefined && reference !== undefined) {
          const run = await runCppReference(exe, reference, seconds / rounds, sliceSeconds, dir, r === 0);
          cppSlices.push(...run.slices);
          cppOutputs ??= run.outputs;
        }
      }
      const samplesPerSec = medianRate(ourSlices);
      if (cppOutputs === undefined) {
        results.push({ pricer: w.pricer, samplesPerSec: round(samplesPerSec, 1) });
        continue;
      }
      const { pricer, params, names, columns } = inputs;
      const values = priceColumns(pricer, params, names, columns, pricer.outputs);
      const diff = compareOutputs(pricer.outputs, values, cppOutputs, PRICING_AGREEMENT_FLOOR);
      if (!(diff.maxRelative <= PRICING_AGREEMENT)) {
        throw new BenchError(
          'BENCH_FAILED',
          `${w.pricer}: our ${diff.output} and the C++ build's disagree at point ${diff.row} (${diff.ours} vs ${diff.reference}, relative difference ${diff.maxRelative.toExponential(2)} > ${PRICING_AGREEMENT}); the comparison would not be of the same algorithm`,
          { details: { pricer: w.pricer, ...diff } },
        );
      }
      const cppSamplesPerSec = medianRate(cppSlices);
      results.push({
        pricer: w.pricer,
        samplesPerSec: round(samplesPerSec, 1),
        cppSamplesPerSec: round(cppSamplesPerSec, 1),
        ratio: round(samplesPerSec / cppSamplesPerSec, 3),
      });
    }
    return { results };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A human-readable table of a report. */
export function formatPricingBench(report: PricingBenchReport): string {
  const fmt = (x: number | undefined): string =>
    x === undefined ? '—' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
  const rows = report.results.map((r) => [
    r.pricer,
    fmt(r.samplesPerSec),
    fmt(r.cppSamplesPerSec),
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
  ]);
  const header = ['pricer', 'samples/s (one core)', 'C++ g++ -O3 samples/s', 'ours / C++'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]): string =>
    cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
