import { BenchError } from './bench-error';

export interface PulsarBenchOptions {
  /** Broker service URL (pulsar:// or pulsar+ssl://). */
  pulsarUrl: string;
  /** Authentication token, if the broker requires one. */
  token?: string;
  /** Message sizes in bytes (default 100, 1024, 65536, 1048576). */
  sizes?: number[];
  /** Seconds measured per size and mode. */
  seconds?: number;
}

export interface ThroughputFigures {
  msgsPerSec: number;
  mbPerSec: number;
}

export interface PulsarBenchResult {
  size: number;
  mode: 'produce' | 'consume';
  ours: ThroughputFigures;
  java: ThroughputFigures;
  /** ours / java, in msgs/s (the same ratio in MB/s: both send the same sizes). */
  ratio: number;
}

export interface PulsarBenchReport {
  results: PulsarBenchResult[];
}

/** Measures our client against pulsar-perf (the official Java client) on the same broker. */
export async function benchPulsar(_options: PulsarBenchOptions): Promise<PulsarBenchReport> {
  throw new BenchError('BENCH_FAILED', 'surrogate bench pulsar is not implemented yet');
}

/** A human-readable table of a report. */
export function formatPulsarBench(report: PulsarBenchReport): string {
  return JSON.stringify(report);
}
