import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@surrogate/core';
import { INFERENCE_SERVICE, ModelServer } from '@surrogate/model-server';
import { exportInferenceModel, InferenceModel, type MlpConfig } from '@surrogate/nn';
import { chunkInputs, getPricer, priceColumns, type ParamValues } from '@surrogate/pricing';
import { v1 } from '@surrogate/proto';
import { DEFAULTS } from '@surrogate/spec';
import { BenchError } from './bench-error';

export interface InferBenchOptions {
  /** A model.onnx written by the trainer; default: a Heston-shaped model of the default architecture. */
  model?: string;
  /** About how long each measurement runs (default 2 s). */
  seconds?: number;
}

export interface InferBenchReport {
  model: { source: string; inputs: string[]; outputs: string[]; pricer: string };
  inProcess: { batch1: { predictionsPerSec: number }; batch4096: { predictionsPerSec: number } };
  /** One prediction per call over gRPC on loopback, calls one after another. */
  grpc: { calls: number; p50Ms: number; p99Ms: number };
  /** The pricer the model replaces, pricing the same box on one core. */
  pricerSamplesPerSec: number;
  /** In-process predictions/s at batch 4096 ÷ the pricer's samples/s (one core each). */
  speedup: number;
}

interface Box {
  name: string;
  min: number;
  max: number;
}

/** A realistic Heston box (strike 100) for the default model. */
const HESTON_BOX: Box[] = [
  { name: 'spot', min: 70, max: 130 },
  { name: 'maturity', min: 0.1, max: 2 },
  { name: 'v0', min: 0.01, max: 0.2 },
  { name: 'kappa', min: 0.5, max: 5 },
  { name: 'theta', min: 0.01, max: 0.2 },
  { name: 'sigma', min: 0.1, max: 1 },
  { name: 'rho', min: -0.9, max: 0 },
];
const HESTON_FIXED = { type: 'call', strike: 100, rate: 0.02, dividend: 0 };

/** The default architecture with two stages, random weights: inference cost does not depend on them. */
function defaultModelBytes(): Uint8Array {
  const d = DEFAULTS.training;
  const mlp: MlpConfig = { inputDim: HESTON_BOX.length, outputDim: 1, hiddenLayers: [...d.hiddenLayers], activation: d.activation };
  let s = 12345;
  const rnd = (n: number): Float32Array => Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.3);
  const sizes = [mlp.inputDim, ...mlp.hiddenLayers, 1];
  const params = (): Float32Array[] => sizes.slice(1).flatMap((out, l) => [rnd(sizes[l] * out), rnd(out)]);
  return exportInferenceModel(
    {
      mlp,
      normalization: {
        inputMin: HESTON_BOX.map((b) => b.min),
        inputMax: HESTON_BOX.map((b) => b.max),
        inputTransform: HESTON_BOX.map((b) => (b.name === 'maturity' ? 'sqrt' : 'linear')),
        outputMean: [10],
        outputStd: [8],
      },
      parameters: params(),
      residualStages: Array.from({ length: d.stages - 1 }, () => ({ parameters: params(), outputScale: [0.01], outputShift: [0] })),
      finalLoss: 0,
      epochs: 0,
      steps: 0,
      lossHistory: [],
    },
    {
      inputNames: HESTON_BOX.map((b) => b.name),
      outputNames: ['price'],
      metadata: {
        'surrogate.spec_name': 'heston-bench',
        'surrogate.pricer': 'heston',
        'surrogate.fixed': JSON.stringify(HESTON_FIXED),
        'surrogate.input_box': JSON.stringify(HESTON_BOX),
      },
    },
  );
}

/** Calls per second of `fn` over about `seconds`, after one warm-up call. */
async function rate(seconds: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  let calls = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await fn();
    calls++;
  }
  return calls / ((performance.now() - t0) / 1000);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * In-process predictions/s at batch 1 and 4096, p50/p99 latency of one prediction over gRPC on
 * loopback (the model server, in this process), and the speed-up over the pricer the model
 * replaces, which prices points of the model's own box in this run.
 */
export async function benchInfer(o: InferBenchOptions = {}): Promise<InferBenchReport> {
  const seconds = o.seconds ?? 2;
  if (!(seconds > 0)) throw new BenchError('BENCH_BAD_OPTION', `seconds = ${seconds}: must be > 0`);
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-infer-'));
  try {
    const file = o.model ?? path.join(dir, 'model.onnx');
    if (!o.model) await writeFile(file, defaultModelBytes());
    let model: InferenceModel;
    try {
      model = await InferenceModel.load(file, { threads: 1 });
    } catch (err) {
      throw new BenchError('BENCH_BAD_OPTION', `--model ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const md = model.metadata;
    const pricerName = md['surrogate.pricer'];
    let box: Box[];
    let fixed: ParamValues;
    try {
      box = JSON.parse(md['surrogate.input_box']) as Box[];
      fixed = JSON.parse(md['surrogate.fixed']) as ParamValues;
    } catch (err) {
      await model.close();
      throw new BenchError('BENCH_BAD_OPTION', `--model ${file}: no pricer, fixed parameters or input box in its metadata (not written by the trainer?)`, { cause: err });
    }
    const D = model.inputDim;
    const points = (n: number): Float32Array => {
      const cols = chunkInputs({ sampler: 'uniform', seed: 3, box, start: 0, count: n });
      const x = new Float32Array(n * D);
      for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] = cols[j][i];
      return x;
    };
    const one = points(1);
    const big = points(4096);
    let batch1: number;
    let batch4096: number;
    try {
      batch1 = await rate(seconds / 2, () => model.predict(one, 1));
      batch4096 = 4096 * (await rate(seconds / 2, () => model.predict(big, 4096)));
    } finally {
      await model.close();
    }

    const server = await ModelServer.start({ model: file, threads: 1, logger: createLogger({ name: 'bench-infer', level: 'warn' }) });
    const Client = grpc.makeGenericClientConstructor(INFERENCE_SERVICE, 'InferenceService');
    const client = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    const latencies: number[] = [];
    try {
      const predictOnce = (): Promise<void> =>
        new Promise((resolve, reject) =>
          client.makeUnaryRequest(
            INFERENCE_SERVICE.predict.path,
            INFERENCE_SERVICE.predict.requestSerialize,
            INFERENCE_SERVICE.predict.responseDeserialize,
            { rows: 1, inputs: Array.from(one) } satisfies v1.IPredictRequest,
            (err) => (err ? reject(err) : resolve()),
          ),
        );
      for (let i = 0; i < 50; i++) await predictOnce(); // connect and warm up
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        const t0 = performance.now();
        await predictOnce();
        latencies.push(performance.now() - t0);
      }
    } finally {
      client.close();
      await server.stop();
    }
    latencies.sort((a, b) => a - b);

    const pricer = getPricer(pricerName);
    const cols = chunkInputs({ sampler: 'uniform', seed: 5, box, start: 0, count: 256 });
    const names = box.map((b) => b.name);
    const pricerSamplesPerSec = 256 * (await rate(seconds, () => priceColumns(pricer, fixed, names, cols, [pricer.outputs[0]])));

    return {
      model: { source: o.model ?? 'default (heston inputs, default architecture)', inputs: [...model.inputNames], outputs: [...model.outputNames], pricer: pricerName },
      inProcess: { batch1: { predictionsPerSec: batch1 }, batch4096: { predictionsPerSec: batch4096 } },
      grpc: { calls: latencies.length, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) },
      pricerSamplesPerSec,
      speedup: batch4096 / pricerSamplesPerSec,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatInferBench(r: InferBenchReport): string {
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  return [
    `model ${r.model.source}: ${r.model.inputs.join(', ')} → ${r.model.outputs.join(', ')}`,
    `  in process: ${n(r.inProcess.batch1.predictionsPerSec)} predictions/s at batch 1, ${n(r.inProcess.batch4096.predictionsPerSec)} at batch 4096`,
    `  gRPC, one prediction per call: p50 ${r.grpc.p50Ms.toFixed(3)} ms, p99 ${r.grpc.p99Ms.toFixed(3)} ms (${r.grpc.calls} calls)`,
    `  pricer ${r.model.pricer}: ${n(r.pricerSamplesPerSec)} samples/s → the model is ${n(r.speedup)}× faster`,
  ].join('\n');
}
