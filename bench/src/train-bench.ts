import { DEFAULT_STEPS_PER_RUN, matmulPeakGflops, trainingStepFlops, trainMlp, type MlpConfig } from '@surrogate/nn';
import { DEFAULTS } from '@surrogate/spec';
import { BenchError } from './bench-error';

export interface TrainBenchOptions {
  /** About how long to train the default network (default 4 s); the sweep takes about twice as long. */
  seconds?: number;
  /** onnxruntime intra-op threads for the training steps and the matmul rates (default: the spec default). */
  threads?: number;
  /**
   * Batch sizes × hidden widths to train as well (3 hidden layers, the default activation), to
   * show how efficiency depends on the shape; default DEFAULT_SWEEP; an empty list skips it.
   */
  sweep?: { batchSizes: readonly number[]; widths: readonly number[] };
}

/** One network shape trained through the product's path, and where its time goes. */
export interface TrainShapeResult {
  batchSize: number;
  hiddenLayers: number[];
  samplesPerSec: number;
  /** Achieved GFLOP/s of the step's matrix products (trainingStepFlops: forward and backward). */
  gflops: number;
  /** gflops ÷ the report's peakGflops. */
  efficiency: number;
  /**
   * onnxruntime's MatMul rate on the step's largest product alone ([batch, width]·[width, width]):
   * what the matmuls could reach if nothing else ran. gflops/matmulGflops ≈ the share of the
   * step's time spent in matrix products at that rate; the rest is elementwise work (activation
   * and its derivative, bias gradients, loss, Adam over the parameters), small products (first
   * and last layer) and per-run overhead.
   */
  matmulGflops: number;
}

export interface TrainBenchReport {
  /** Achieved GFLOP/s of the default training step's matrix products (forward and backward). */
  gflops: number;
  /**
   * onnxruntime's own best float32 MatMul rate in this run, with the same threads: the best of
   * peakBySize and of every shape's largest product alone (matmulGflops).
   */
  peakGflops: number;
  efficiency: number;
  samplesPerSec: number;
  mlp: { inputs: number; hiddenLayers: number[]; outputs: number; activation: string };
  batchSize: number;
  threads: number;
  /** The square MatMul rates (GFLOP/s by side), measured first. */
  peakBySize: { size: number; gflops: number }[];
  /** The default network's step, with its largest product's rate alone (see TrainShapeResult). */
  default: TrainShapeResult;
  /** The same measurement over batch sizes × widths. */
  sweep: TrainShapeResult[];
}

/** The shapes the bench sweeps unless told otherwise. */
export const DEFAULT_SWEEP = { batchSizes: [256, 1024, 4096], widths: [64, 128, 256] } as const;

/**
 * Square MatMul sides the peak is measured at (as nn's MATMUL_PEAK_SIZES): on one core
 * onnxruntime's MatMul is fastest around 128–256 and ~20% slower at 1024.
 */
const PEAK_SIZES = [128, 256, 512, 1024];

const INPUTS = 4;
/** Training throughput to size the sweep's epochs with (a guess; only the run time depends on it). */
const GUESS_GFLOPS = 60;

/** A smooth 4-input function on [0, 1]⁴, rows in a fixed scrambled order. */
function smoothData(rows: number): { inputs: Float32Array; outputs: Float32Array } {
  const inputs = new Float32Array(rows * INPUTS);
  const outputs = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < INPUTS; j++) {
      const v = ((i * (j + 3) * 2654435761) % 1000003) / 1000003;
      inputs[i * INPUTS + j] = v;
      s += Math.sin(3 * v + j);
    }
    outputs[i] = s;
  }
  return { inputs, outputs };
}

/**
 * Trains `mlp` for `epochs` epochs of `rows` rows through the product's path (trainMlp: worker
 * thread, batch loader, unrolled ONNX step graph) and returns the median samples/s of the epochs
 * after the first (warm-up).
 */
async function trainRate(mlp: MlpConfig, batchSize: number, rows: number, epochs: number, threads: number): Promise<number> {
  const { inputs, outputs } = smoothData(rows);
  const rates: number[] = [];
  await trainMlp(
    { inputs, outputs, count: rows },
    mlp,
    { inputMin: [0, 0, 0, 0], inputMax: [1, 1, 1, 1], outputMean: [0], outputStd: [1] },
    { epochs, batchSize, learningRate: 1e-3, finalLearningRate: 1e-4, seed: 1, threads, stages: 1 },
    { onProgress: (p) => rates.push(p.samplesPerSec) },
  );
  const steady = rates.slice(1).sort((a, b) => a - b);
  return steady[Math.floor(steady.length / 2)];
}

async function measureShape(
  mlp: MlpConfig,
  batchSize: number,
  rows: number,
  epochs: number,
  threads: number,
  seconds: number,
): Promise<TrainShapeResult> {
  const samplesPerSec = await trainRate(mlp, batchSize, rows, epochs, threads);
  const gflops = (samplesPerSec * trainingStepFlops(mlp, 1)) / 1e9;
  const width = Math.max(...mlp.hiddenLayers);
  const matmulGflops = await matmulPeakGflops({ shape: { m: batchSize, k: width, n: width }, threads, seconds });
  // efficiency is set once the run's peak is known (see benchTrain)
  return { batchSize, hiddenLayers: [...mlp.hiddenLayers], samplesPerSec, gflops, efficiency: NaN, matmulGflops };
}

/**
 * Trains the default network (the spec defaults: layers, activation, batch size, threads) on a
 * smooth 4-input function through the product's path and reports its median epoch throughput as
 * GFLOP/s of its matrix products, against onnxruntime's best MatMul rate measured in the same run
 * (square sizes PEAK_SIZES, same threads); then the same over the sweep's batch sizes × widths.
 */
export async function benchTrain(o: TrainBenchOptions = {}): Promise<TrainBenchReport> {
  const d = DEFAULTS.training;
  const threads = o.threads ?? d.threads;
  const seconds = o.seconds ?? 4;
  if (!(seconds > 0)) throw new BenchError('BENCH_BAD_OPTION', `seconds = ${seconds}: must be > 0`);
  const sweepSpec = o.sweep ?? DEFAULT_SWEEP;
  for (const [name, list] of [
    ['sweep.batchSizes', sweepSpec.batchSizes],
    ['sweep.widths', sweepSpec.widths],
  ] as const) {
    const bad = list.find((v) => !Number.isInteger(v) || v < 1);
    if (bad !== undefined) throw new BenchError('BENCH_BAD_OPTION', `${name} contains ${bad}: must be positive integers`);
  }
  const mlp: MlpConfig = { inputDim: INPUTS, outputDim: 1, hiddenLayers: [...d.hiddenLayers], activation: d.activation };

  const peakBySize: { size: number; gflops: number }[] = [];
  for (const size of PEAK_SIZES) {
    peakBySize.push({ size, gflops: await matmulPeakGflops({ size, threads, seconds: Math.min(0.5, seconds / 8) }) });
  }
  const matmulSeconds = Math.min(0.5, seconds / 8);

  // the default network: 2¹⁸ rows, about 1 M samples/s on one core, at least 3 epochs (the first is warm-up)
  const rows = 1 << 18;
  const epochs = Math.max(3, Math.round((seconds * 1e6) / rows));
  const def = await measureShape(mlp, d.batchSize, rows, epochs, threads, matmulSeconds);

  // the sweep: 4 epochs per shape (the first warms up, the second also computes the resampling
  // errors: the median of the last three skips it) of about seconds/24 each at the guessed rate, a
  // whole number of unrolled runs, at least 32 steps
  const sweep: TrainShapeResult[] = [];
  for (const batchSize of sweepSpec.batchSizes) {
    for (const width of sweepSpec.widths) {
      const shape: MlpConfig = { ...mlp, hiddenLayers: [width, width, width] };
      const stepSeconds = trainingStepFlops(shape, batchSize) / (GUESS_GFLOPS * 1e9);
      const runs = Math.max(Math.ceil(32 / DEFAULT_STEPS_PER_RUN), Math.round(seconds / 24 / stepSeconds / DEFAULT_STEPS_PER_RUN));
      sweep.push(await measureShape(shape, batchSize, runs * DEFAULT_STEPS_PER_RUN * batchSize, 4, threads, matmulSeconds));
    }
  }

  // The peak is the best MatMul rate measured anywhere in the run: the square sizes, and each
  // shape's largest product. A short timing can catch the CPU slow (frequency, a neighbour), and
  // a step's own product beating the "peak" would overstate every efficiency.
  const peakGflops = Math.max(...peakBySize.map((p) => p.gflops), def.matmulGflops, ...sweep.map((s) => s.matmulGflops));
  for (const shape of [def, ...sweep]) shape.efficiency = shape.gflops / peakGflops;

  return {
    gflops: def.gflops,
    peakGflops,
    efficiency: def.efficiency,
    samplesPerSec: def.samplesPerSec,
    mlp: { inputs: INPUTS, hiddenLayers: [...mlp.hiddenLayers], outputs: 1, activation: mlp.activation },
    batchSize: d.batchSize,
    threads,
    peakBySize,
    default: def,
    sweep,
  };
}

export function formatTrainBench(r: TrainBenchReport): string {
  const shape = (s: TrainShapeResult): string =>
    `  batch ${String(s.batchSize).padStart(5)}, width ${String(s.hiddenLayers[0]).padStart(4)}: ` +
    `${s.gflops.toFixed(1).padStart(6)} GFLOP/s, efficiency ${s.efficiency.toFixed(2)} ` +
    `(its largest matmul alone: ${s.matmulGflops.toFixed(0)} GFLOP/s)`;
  return [
    `training step: ${r.mlp.inputs}→${r.mlp.hiddenLayers.join('→')}→${r.mlp.outputs} ${r.mlp.activation}, batch ${r.batchSize}, ${r.threads} thread(s)`,
    `  ${Math.round(r.samplesPerSec).toLocaleString('en-US')} samples/s = ${r.gflops.toFixed(1)} GFLOP/s`,
    `  onnxruntime MatMul peak ${r.peakGflops.toFixed(1)} GFLOP/s → efficiency ${r.efficiency.toFixed(2)}`,
    `  (MatMul by size: ${r.peakBySize.map((p) => `${p.size}³ ${p.gflops.toFixed(0)}`).join(', ')}; the step's largest matmul alone ${r.default.matmulGflops.toFixed(0)})`,
    ...(r.sweep.length > 0 ? ['sweep (3 hidden layers):', ...r.sweep.map(shape)] : []),
  ].join('\n');
}
