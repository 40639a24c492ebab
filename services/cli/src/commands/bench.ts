import {
  benchInfer,
  benchPricing,
  benchPulsar,
  benchTrain,
  formatInferBench,
  formatPricingBench,
  formatPulsarBench,
  formatTrainBench,
} from '@surrogate/bench';
import { badInput } from '../cli-error';
import { busUrl } from './service';

export interface BenchCommandOptions {
  pulsar?: string;
  json?: boolean;
  /** Comma-separated message sizes in bytes (bench pulsar). */
  sizes?: string;
  /** Comma-separated pricer names (bench pricing). */
  pricers?: string;
  /** Seconds measured per case. */
  seconds?: string;
  /** bench infer: a model.onnx written by the trainer. */
  model?: string;
}

export const BENCHMARKS = ['pulsar', 'pricing', 'train', 'infer'] as const;

function positiveNumber(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw badInput('BAD_OPTION', `${flag} = ${raw}: must be a number > 0`);
  return n;
}

function list(raw: string | undefined): string[] | undefined {
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}

function sizeList(raw: string | undefined): number[] | undefined {
  return list(raw)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1)
      throw badInput('BAD_OPTION', `--sizes: ${s} must be a whole number of bytes ≥ 1`);
    return n;
  });
}

/** `surrogate bench <pulsar|pricing> [--json]`: prints the report (JSON with --json, else a table). */
export async function benchCommand(which: string | undefined, o: BenchCommandOptions): Promise<string> {
  const seconds = positiveNumber(o.seconds, '--seconds');
  switch (which) {
    case 'pulsar': {
      const report = await benchPulsar({
        pulsarUrl: busUrl(o),
        token: process.env.PULSAR_TOKEN,
        sizes: sizeList(o.sizes),
        seconds,
      });
      return o.json ? JSON.stringify(report) : formatPulsarBench(report);
    }
    case 'pricing': {
      const report = await benchPricing({ pricers: list(o.pricers), seconds });
      return o.json ? JSON.stringify(report) : formatPricingBench(report);
    }
    case 'train': {
      const report = await benchTrain({ seconds });
      return o.json ? JSON.stringify(report) : formatTrainBench(report);
    }
    case 'infer': {
      const report = await benchInfer({ model: o.model, seconds });
      return o.json ? JSON.stringify(report) : formatInferBench(report);
    }
    default:
      throw badInput(
        'BAD_ARGUMENT',
        `bench: ${which === undefined ? 'missing benchmark' : `unknown benchmark "${which}"`}; one of ${BENCHMARKS.join(', ')}`,
      );
  }
}
