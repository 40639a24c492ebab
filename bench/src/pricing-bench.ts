import { BenchError } from './bench-error';

export interface PricingBenchOptions {
  /** Pricers to measure (default: every registered pricer). */
  pricers?: string[];
  /** Seconds measured per pricer. */
  seconds?: number;
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

/** Measures each pricer's single-core throughput, and a C++ build of the same algorithm where there is one. */
export async function benchPricing(_options: PricingBenchOptions): Promise<PricingBenchReport> {
  throw new BenchError('BENCH_FAILED', 'surrogate bench pricing is not implemented yet');
}

/** A human-readable table of a report. */
export function formatPricingBench(report: PricingBenchReport): string {
  return JSON.stringify(report);
}
