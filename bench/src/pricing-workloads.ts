import {
  chunkInputs,
  getPricer,
  validateParams,
  type BoxDimension,
  type ParamValues,
  type Pricer,
} from '@surrogate/pricing';
import { BenchError } from './bench-error';

/**
 * What one pricer is benchmarked on: the inputs a datagen worker would price for a realistic
 * experiment — a box of sampled parameters (scrambled Sobol, as in training data) and the rest fixed.
 */
export interface PricingWorkload {
  pricer: string;
  /** Parameters held constant (the others take their defaults). */
  fixed: ParamValues;
  /** The sampled parameters and their ranges. */
  box: readonly BoxDimension[];
  /** Points generated once and priced over and over (cycled) while measuring. */
  poolSize: number;
  /**
   * The C++ reference (bench/cpp/<source>), for the pricers that have one: its input columns are
   * these parameters in this order, `type` passed as 1 (call) or 0 (put); its outputs are the
   * pricer's outputs in order.
   */
  cpp?: { source: string; columns: readonly string[] };
}

const MARKET: BoxDimension[] = [
  { name: 'spot', min: 60, max: 140 },
  { name: 'rate', min: 0, max: 0.08 },
  { name: 'dividend', min: 0, max: 0.04 },
];

/** The workloads, one per built-in pricer, in the order they are reported. */
export const PRICING_WORKLOADS: readonly PricingWorkload[] = Object.freeze<PricingWorkload[]>([
  {
    pricer: 'black-scholes',
    fixed: { strike: 100, type: 'call' },
    box: [...MARKET, { name: 'volatility', min: 0.05, max: 0.8 }, { name: 'maturity', min: 0.05, max: 5 }],
    poolSize: 65536,
    cpp: {
      source: 'black-scholes-bench.cpp',
      columns: ['spot', 'strike', 'rate', 'dividend', 'volatility', 'maturity', 'type'],
    },
  },
  {
    // An equity-style calibration box: the Feller condition 2κθ ≥ σ² fails in much of it.
    pricer: 'heston',
    fixed: { strike: 100, type: 'call' },
    box: [
      ...MARKET,
      { name: 'maturity', min: 0.1, max: 5 },
      { name: 'v0', min: 0.005, max: 0.2 },
      { name: 'kappa', min: 0.2, max: 5 },
      { name: 'theta', min: 0.005, max: 0.2 },
      { name: 'sigma', min: 0.1, max: 1.5 },
      { name: 'rho', min: -0.95, max: 0.3 },
    ],
    poolSize: 8192,
    cpp: {
      source: 'heston-bench.cpp',
      columns: [
        'spot',
        'strike',
        'rate',
        'dividend',
        'maturity',
        'v0',
        'kappa',
        'theta',
        'sigma',
        'rho',
        'type',
      ],
    },
  },
  {
    pricer: 'american',
    fixed: { strike: 100, type: 'put' },
    box: [...MARKET, { name: 'volatility', min: 0.1, max: 0.6 }, { name: 'maturity', min: 0.1, max: 3 }],
    poolSize: 512,
  },
  {
    pricer: 'barrier',
    fixed: { strike: 100, type: 'call', barrierType: 'down-and-out', rebate: 1 },
    box: [
      { name: 'spot', min: 95, max: 140 },
      { name: 'barrier', min: 60, max: 94 },
      ...MARKET.slice(1),
      { name: 'volatility', min: 0.05, max: 0.8 },
      { name: 'maturity', min: 0.05, max: 5 },
    ],
    poolSize: 65536,
  },
  {
    pricer: 'asian-geometric',
    fixed: { strike: 100, type: 'call', fixings: 12 },
    box: [...MARKET, { name: 'volatility', min: 0.05, max: 0.8 }, { name: 'maturity', min: 0.05, max: 5 }],
    poolSize: 65536,
  },
  {
    pricer: 'asian-arithmetic',
    fixed: { strike: 100, type: 'call', fixings: 12 },
    box: [...MARKET, { name: 'volatility', min: 0.05, max: 0.8 }, { name: 'maturity', min: 0.05, max: 5 }],
    poolSize: 64,
  },
]);

/** The workload of a pricer (BENCH_BAD_OPTION naming the valid ones if there is none). */
export function pricingWorkload(name: string): PricingWorkload {
  const w = PRICING_WORKLOADS.find((x) => x.pricer === name);
  if (w === undefined) {
    const valid = PRICING_WORKLOADS.map((x) => x.pricer).join(', ');
    throw new BenchError('BENCH_BAD_OPTION', `--pricers: unknown pricer "${name}"; one of ${valid}`, {
      details: { option: 'pricers', value: name, valid: PRICING_WORKLOADS.map((x) => x.pricer) },
    });
  }
  return w;
}

/** A workload's points, generated the way a datagen worker generates a chunk's inputs. */
export interface WorkloadInputs {
  pricer: Pricer;
  /** Every parameter of the first point, defaults included (the fixed part is the same for all). */
  params: ParamValues;
  /** The sampled parameters' names, in column order. */
  names: string[];
  /** One float32 column per sampled parameter. */
  columns: Float32Array[];
}

/** Generates the pool of a workload: scrambled Sobol points in its box, as float32 columns. */
export function workloadInputs(w: PricingWorkload, count = w.poolSize): WorkloadInputs {
  const pricer = getPricer(w.pricer);
  const columns = chunkInputs({ sampler: 'sobol', seed: 20240601, box: w.box, start: 0, count });
  const names = w.box.map((b) => b.name);
  const first: Record<string, unknown> = { ...w.fixed };
  names.forEach((name, k) => {
    first[name] = columns[k][0];
  });
  return { pricer, params: validateParams(pricer, first), names, columns };
}
