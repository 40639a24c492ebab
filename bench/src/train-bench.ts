import { matmulPeakGflops, trainingStepFlops, trainMlp, type MlpConfig } from '@surrogate/nn';
import { DEFAULTS } from '@surrogate/spec';
import { BenchError } from './bench-error';

export interface TrainBenchOptions {
  /** About how long to train (default 4 s). */
  seconds?: number;
  /** onnxruntime intra-op threads for both the training step and the matmul peak (default: the spec default). */
  threads?: number;
}

export interface TrainBenchReport {
  /** Achieved GFLOP/s of the training step's matmuls (forward and backward). */
  gflops: number;
  /** onnxruntime's own float32 MatMul rate (1024³) with the same threads, in this run. */
  peakGflops: number;
  efficiency: number;
  samplesPerSec: number;
  mlp: { inputs: number; hiddenLayers: number[]; outputs: number; activation: string };
  batchSize: number;
  threads: number;
}

const ROWS = 1 << 18;

/**
 * Trains the default network (the spec defaults: layers, activation, batch size, threads) on a
 * smooth 4-input function through the product's path (trainMlp: worker thread, batch loader,
 * unrolled ONNX step graph) and reports its median epoch throughput as GFLOP/s, against
 * onnxruntime's MatMul peak measured in the same run.
 */
export async function benchTrain(o: TrainBenchOptions = {}): Promise<TrainBenchReport> {
  const d = DEFAULTS.training;
  const threads = o.threads ?? d.threads;
  const seconds = o.seconds ?? 4;
  if (!(seconds > 0)) throw new BenchError('BENCH_BAD_OPTION', `seconds = ${seconds}: must be > 0`);
  const mlp: MlpConfig = { inputDim: 4, outputDim: 1, hiddenLayers: [...d.hiddenLayers], activation: d.activation };
  const inputs = new Float32Array(ROWS * 4);
  const outputs = new Float32Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    let s = 0;
    for (let j = 0; j < 4; j++) {
      const v = ((i * (j + 3) * 2654435761) % 1000003) / 1000003;
      inputs[i * 4 + j] = v;
      s += Math.sin(3 * v + j);
    }
    outputs[i] = s;
  }
  const rates: number[] = [];
  // about 1 M samples/s on one core: enough epochs for `seconds`, at least 3 (the first is warm-up)
  const epochs = Math.max(3, Math.round((seconds * 1e6) / ROWS));
  await trainMlp(
    { inputs, outputs, count: ROWS },
    mlp,
    { inputMin: [0, 0, 0, 0], inputMax: [1, 1, 1, 1], outputMean: [0], outputStd: [1] },
    { epochs, batchSize: d.batchSize, learningRate: 1e-3, finalLearningRate: 1e-4, seed: 1, threads, stages: 1 },
    { onProgress: (p) => rates.push(p.samplesPerSec) },
  );
  const steady = rates.slice(1).sort((a, b) => a - b);
  const samplesPerSec = steady[Math.floor(steady.length / 2)];
  const gflops = (samplesPerSec * trainingStepFlops(mlp, 1)) / 1e9;
  const peakGflops = await matmulPeakGflops({ threads, seconds: Math.min(2, seconds / 2) });
  return {
    gflops,
    peakGflops,
    efficiency: gflops / peakGflops,
    samplesPerSec,
    mlp: { inputs: 4, hiddenLayers: [...mlp.hiddenLayers], outputs: 1, activation: mlp.activation },
    batchSize: d.batchSize,
    threads,
  };
}

export function formatTrainBench(r: TrainBenchReport): string {
  return [
    `training step: ${r.mlp.inputs}→${r.mlp.hiddenLayers.join('→')}→${r.mlp.outputs} ${r.mlp.activation}, batch ${r.batchSize}, ${r.threads} thread(s)`,
    `  ${Math.round(r.samplesPerSec).toLocaleString('en-US')} samples/s = ${r.gflops.toFixed(1)} GFLOP/s`,
    `  onnxruntime MatMul peak ${r.peakGflops.toFixed(1)} GFLOP/s → efficiency ${r.efficiency.toFixed(2)}`,
  ].join('\n');
}
