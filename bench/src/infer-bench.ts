import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { exportInferenceModel, InferenceModel, METADATA_KEYS, type MlpConfig } from '@surrogate/nn';
import { chunkInputs, getPricer, priceColumns, type ParamValues } from '@surrogate/pricing';
import { DEFAULTS } from '@surrogate/spec';
import { BenchError } from './bench-error';
import { measureGrpcLatency, selfSignedCertificate, type GrpcLatency } from './infer-grpc-latency';

export interface InferBenchOptions {
  /** A model.onnx written by the trainer; default: a Heston-shaped model of the default architecture. */
  model?: string;
  /** About how long each measurement runs (default 2 s). */
  seconds?: number;
  /** gRPC calls before the measured ones (default 5000; the warm-up lasts at least 1 s). */
  grpcWarmupCalls?: number;
}

/** In-process throughput of one batch size with one number of onnxruntime threads. */
export interface InferRate {
  threads: number;
  batch: number;
  predictionsPerSec: number;
  /** predictionsPerSec × the model's FLOP per prediction (its matmuls; activations not counted). */
  gflops: number;
}

export interface InferBenchReport {
  model: { source: string; inputs: string[]; outputs: string[]; pricer: string; stages: number; flopsPerPrediction: number };
  /** Cores and `uptime`'s load averages (1, 5, 15 min) when the run started and ended. */
  machine: { cores: number; loadAverageStart: number[]; loadAverageEnd: number[] };
  /**
   * batch1 and batch4096: one onnxruntime thread. sweep: every batch size with 1 thread and with
   * one per core; each figure is the median of three windows. best: the sweep's highest rate.
   */
  inProcess: {
    batch1: { predictionsPerSec: number };
    batch4096: { predictionsPerSec: number };
    sweep: InferRate[];
    best: InferRate;
  };
  /** One prediction per call over gRPC on loopback against the model server in its own process (plaintext). */
  grpc: GrpcLatency;
  /** The same over TLS with a bearer token (absent when openssl cannot make a certificate; see notes). */
  grpcTls?: GrpcLatency;
  /** The pricer the model replaces, pricing the same box on one core. */
  pricerSamplesPerSec: number;
  /** In-process predictions/s at batch 4096 ÷ the pricer's samples/s (one core each). */
  speedup: number;
  /** The sweep's best rate per core used ÷ the pricer's samples/s on one core. */
  bestSpeedupPerCore: number;
  /** What a 1000× speed-up per core would take: 1000 × the pricer's rate × the model's FLOP per prediction. */
  speedupTarget: { factor: number; gflopsPerCoreNeeded: number };
  notes: string[];
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

/** Calls per second of `fn` over about `seconds`, after one warm-up call: the median of three windows. */
async function rate(seconds: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const windows: number[] = [];
  for (let w = 0; w < 3; w++) {
    let calls = 0;
    const t0 = performance.now();
    const end = t0 + (seconds * 1000) / 3;
    do {
      await fn();
      calls++;
    } while (performance.now() < end);
    windows.push(calls / ((performance.now() - t0) / 1000));
  }
  return windows.sort((a, b) => a - b)[1];
}

/** Batch sizes of the in-process sweep. */
export const INFER_BATCHES: readonly number[] = [1, 64, 256, 1024, 4096, 16384];

/** FLOP of one prediction: 2 per weight of every stage's layers (the activations are not counted). */
function flopsPerPrediction(md: Record<string, string>): { stages: number; flops: number } {
  try {
    const mlp = JSON.parse(md[METADATA_KEYS.mlp]) as MlpConfig;
    const training = JSON.parse(md[METADATA_KEYS.training] ?? '{}') as { stages?: number };
    const stages = training.stages ?? 1;
    const sizes = [mlp.inputDim, ...mlp.hiddenLayers, mlp.outputDim];
    let weights = 0;
    for (let l = 1; l < sizes.length; l++) weights += sizes[l - 1] * sizes[l];
    return { stages, flops: 2 * weights * stages };
  } catch (err) {
    throw new BenchError('BENCH_BAD_OPTION', `the model's metadata has no readable ${METADATA_KEYS.mlp} (not written by exportInferenceModel?)`, { cause: err });
  }
}

/**
 * In-process predictions/s over a sweep of batch sizes and thread counts, p50/p99 latency of one
 * prediction over gRPC on loopback against the model server in a process of its own (plaintext,
 * and TLS with a bearer token when openssl is there), and the speed-up over the pricer the model
 * replaces, which prices points of the model's own box in this run.
 */
export async function benchInfer(o: InferBenchOptions = {}): Promise<InferBenchReport> {
  const seconds = o.seconds ?? 2;
  if (!(seconds > 0)) throw new BenchError('BENCH_BAD_OPTION', `seconds = ${seconds}: must be > 0`);
  const warmupCalls = o.grpcWarmupCalls;
  if (warmupCalls !== undefined && !(Number.isInteger(warmupCalls) && warmupCalls >= 0)) {
    throw new BenchError('BENCH_BAD_OPTION', `grpcWarmupCalls = ${warmupCalls}: must be a whole number ≥ 0`);
  }
  const loadAverageStart = loadavg();
  const cores = availableParallelism();
  const notes: string[] = [];
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
    const inputs = [...model.inputNames];
    const outputs = [...model.outputNames];
    const D = model.inputDim;
    await model.close();
    const pricerName = md['surrogate.pricer'];
    let box: Box[];
    let fixed: ParamValues;
    try {
      box = JSON.parse(md['surrogate.input_box']) as Box[];
      fixed = JSON.parse(md['surrogate.fixed']) as ParamValues;
    } catch (err) {
      throw new BenchError('BENCH_BAD_OPTION', `--model ${file}: no pricer, fixed parameters or input box in its metadata (not written by the trainer?)`, { cause: err });
    }
    const { stages, flops } = flopsPerPrediction(md);
    const points = (n: number): Float32Array => {
      const cols = chunkInputs({ sampler: 'uniform', seed: 3, box, start: 0, count: n });
      const x = new Float32Array(n * D);
      for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) x[i * D + j] = cols[j][i];
      return x;
    };

    const sweep: InferRate[] = [];
    const perPoint = seconds / 4;
    for (const threads of cores > 1 ? [1, cores] : [1]) {
      const m = await InferenceModel.load(file, { threads });
      try {
        for (const batch of INFER_BATCHES) {
          const x = points(batch);
          const predictionsPerSec = batch * (await rate(perPoint, () => m.predict(x, batch)));
          sweep.push({ threads, batch, predictionsPerSec, gflops: (predictionsPerSec * flops) / 1e9 });
        }
      } finally {
        await m.close();
      }
    }
    const at = (threads: number, batch: number): number => sweep.find((r) => r.threads === threads && r.batch === batch)?.predictionsPerSec ?? NaN;
    const best = sweep.reduce((a, b) => (b.predictionsPerSec > a.predictionsPerSec ? b : a));

    const row = points(1);
    const grpc = await measureGrpcLatency({ model: file, seconds, row, warmupCalls });
    const cert = await selfSignedCertificate(dir);
    let grpcTls: GrpcLatency | undefined;
    if (typeof cert === 'string') notes.push(`gRPC over TLS not measured: ${cert}`);
    else grpcTls = await measureGrpcLatency({ model: file, seconds, row, warmupCalls, tls: cert });

    const pricer = getPricer(pricerName);
    const cols = chunkInputs({ sampler: 'uniform', seed: 5, box, start: 0, count: 256 });
    const names = box.map((b) => b.name);
    const pricerSamplesPerSec = 256 * (await rate(seconds, () => priceColumns(pricer, fixed, names, cols, [pricer.outputs[0]])));
    const bestPerCore = Math.max(...sweep.map((r) => r.predictionsPerSec / r.threads));

    return {
      model: { source: o.model ?? 'default (heston inputs, default architecture)', inputs, outputs, pricer: pricerName, stages, flopsPerPrediction: flops },
      machine: { cores, loadAverageStart, loadAverageEnd: loadavg() },
      inProcess: { batch1: { predictionsPerSec: at(1, 1) }, batch4096: { predictionsPerSec: at(1, 4096) }, sweep, best },
      grpc,
      ...(grpcTls ? { grpcTls } : {}),
      pricerSamplesPerSec,
      speedup: at(1, 4096) / pricerSamplesPerSec,
      bestSpeedupPerCore: bestPerCore / pricerSamplesPerSec,
      speedupTarget: { factor: 1000, gflopsPerCoreNeeded: (1000 * pricerSamplesPerSec * flops) / 1e9 },
      notes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatInferBench(r: InferBenchReport): string {
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  const latency = (name: string, g: GrpcLatency): string =>
    `  ${name}: p50 ${g.p50Ms.toFixed(3)} ms, p90 ${g.p90Ms.toFixed(3)} ms, p99 ${g.p99Ms.toFixed(3)} ms, max ${g.maxMs.toFixed(1)} ms ` +
    `(${g.calls} calls after ${g.warmupCalls} warm-up calls, which had p50 ${g.warmup.p50Ms.toFixed(3)} ms, p99 ${g.warmup.p99Ms.toFixed(3)} ms; ${g.slowCalls.count} over ${g.slowCalls.overMs} ms, of which ${g.slowCalls.duringServerGc} during a server GC, ` +
    `${g.slowCalls.duringClientGc} during a client GC; per call: CPU client ${n(g.clientCpuUsPerCall)} µs, server ${n(g.serverCpuUsPerCall)} µs` +
    (g.clientRunQueueUsPerCall !== null && g.serverRunQueueUsPerCall !== null
      ? `; waiting for a CPU: client ${n(g.clientRunQueueUsPerCall)} µs, server ${n(g.serverRunQueueUsPerCall)} µs)`
      : ')');
  const byThreads = [...new Set(r.inProcess.sweep.map((s) => s.threads))].map(
    (t) =>
      `  ${t} thread${t > 1 ? 's' : ''}: ` +
      r.inProcess.sweep
        .filter((s) => s.threads === t)
        .map((s) => `batch ${s.batch} ${n(s.predictionsPerSec)}/s`)
        .join(', '),
  );
  return [
    `model ${r.model.source}: ${r.model.inputs.join(', ')} → ${r.model.outputs.join(', ')} (${r.model.stages} stage(s), ${n(r.model.flopsPerPrediction)} FLOP per prediction)`,
    `machine: ${r.machine.cores} cores, load average ${r.machine.loadAverageStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${r.machine.loadAverageEnd.map((l) => l.toFixed(2)).join(' ')} at the end`,
    `in process: ${n(r.inProcess.batch1.predictionsPerSec)} predictions/s at batch 1, ${n(r.inProcess.batch4096.predictionsPerSec)} at batch 4096 (one thread)`,
    ...byThreads,
    `  best: ${n(r.inProcess.best.predictionsPerSec)}/s = ${r.inProcess.best.gflops.toFixed(1)} GFLOP/s (${r.inProcess.best.threads} thread(s), batch ${r.inProcess.best.batch})`,
    'gRPC, one prediction per call, loopback, server in its own process:',
    latency('plaintext', r.grpc),
    ...(r.grpcTls ? [latency('TLS + token', r.grpcTls)] : []),
    `pricer ${r.model.pricer}: ${n(r.pricerSamplesPerSec)} samples/s → the model is ${n(r.speedup)}× faster (batch 4096, one core each); best per core ${n(r.bestSpeedupPerCore)}×`,
    `  ${r.speedupTarget.factor}× per core would need ${n(r.speedupTarget.gflopsPerCoreNeeded)} GFLOP/s per core`,
    ...r.notes.map((note) => `note: ${note}`),
  ].join('\n');
}
