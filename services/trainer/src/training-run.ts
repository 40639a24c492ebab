import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { SurrogateError, usableMemoryBytes, writeFileDurably, type Logger } from '@surrogate/core';
import {
  computeOutputStats,
  computeShardStats,
  datasetShardSource,
  exportInferenceModel,
  sourceRows,
  InferenceModel,
  trainMlp,
  type TrainConfig,
  type TrainProgress,
} from '@surrogate/nn';
import { specToDocument, type ExperimentSpec } from '@surrogate/spec';
import { CHECKPOINT_FILE, checkpointFingerprint } from './checkpoint-fingerprint';
import type { DatasetStore, Samples } from './dataset-store';
import { renderReportHtml } from './report-html';
import { validationMetrics, type ValidationResult } from './validation-metrics';

export interface TrainingRunResult {
  modelPath: string;
  reportPath: string;
  report: Record<string, unknown>;
  validation: ValidationResult;
}

export interface TrainingRunOptions {
  experimentId: string;
  spec: ExperimentSpec;
  pricerVersion: string;
  dataset: DatasetStore;
  artifactsDir: string;
  logger: Logger;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Called when a checkpoint is on disk, with the optimizer step it holds. */
  onCheckpoint?: (step: number) => void;
  /** A checkpoint could not be written (training goes on; the last one written stays). */
  onCheckpointFailed?: (step: number, reason: string) => void;
  /**
   * Memory the training set may take; above it the training set is streamed from its shards
   * instead of loaded (default: half the memory this process may use: the machine's, or its container's limit). See IN_MEMORY_COPIES.
   */
  memoryBudgetBytes?: number;
  /**
   * Runs the writing of the artifacts (the artifacts directory, model.onnx, spec.json, report.json,
   * report.html: all of them again on a retry). Default: once, and a failure fails the run. The
   * trainer service waits while the disk is full instead, so that a long training is not lost to it.
   */
  writeArtifacts?: (write: () => Promise<void>) => Promise<void>;
}

/** Loaded, the training set is held about this many times over (raw rows, the worker's copy, normalized rows). */
export const IN_MEMORY_COPIES = 3;

/** Whether a training set of `samples` rows of `columns` float32 values is streamed under `budget` bytes. */
export function streamsTrainingSet(samples: number, columns: number, budget: number): boolean {
  return samples * columns * 4 * IN_MEMORY_COPIES > budget;
}

/** Whether the training set of `spec` is streamed from its shards under `budget` bytes (default: half the memory this process may use). */
export function streamsTrainingSetOf(spec: ExperimentSpec, budget = defaultMemoryBudget()): boolean {
  return streamsTrainingSet(spec.samples, spec.inputs.length + spec.outputs.length, budget);
}

function defaultMemoryBudget(): number {
  return Math.floor(usableMemoryBytes() / 2);
}

/**
 * The held-out points whose loss is measured after every epoch: the first MONITOR_POINTS of them
 * (the validation stream is uniform, so any prefix is a fair sample). A forward pass over all
 * 65,536 after each of ~100 epochs would add ~8 s to a 3-minute run; the curve, the plateau
 * schedule and early stopping need far fewer.
 */
export const MONITOR_POINTS = 16384;
function monitorSet(held: Samples, D: number, K: number): Samples {
  const n = Math.min(held.count, MONITOR_POINTS);
  return { inputs: held.inputs.subarray(0, n * D), outputs: held.outputs.subarray(0, n * K), count: n };
}

/** The libs/nn training configuration of a resolved spec. */
export function trainConfigOf(spec: ExperimentSpec, threads?: number): TrainConfig {
  const t = spec.training;
  return {
    epochs: t.epochs,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    finalLearningRate: t.finalLearningRate,
    seed: spec.seed,
    threads: threads ?? t.threads,
    stages: t.stages,
    weightDecay: t.weightDecay,
    device: t.device,
    schedule:
      t.schedule === 'plateau'
        ? { kind: 'plateau', warmupFraction: t.warmup, factor: t.plateau.factor, patience: t.plateau.patience }
        : { kind: 'cosine', warmupFraction: t.warmup },
    ...(t.earlyStopping ? { earlyStopping: { ...t.earlyStopping } } : {}),
    loss: { kind: t.loss, outputWeights: [...t.lossWeights], relativeFloor: t.relativeFloor },
  };
}

/** The release of the trainer that trains a model, written into its metadata. */
const TRAINER_VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Which stage failed, carried by errors out of a training run. */
export class TrainingRunError extends SurrogateError {
  constructor(
    readonly stage: 'training' | 'validation' | 'export',
    err: unknown,
  ) {
    const code = err instanceof SurrogateError ? err.code : 'TRAINING_RUN_FAILED';
    super(code, err instanceof Error ? err.message : String(err), { cause: err, details: { stage } });
  }
}

async function stage<T>(name: TrainingRunError['stage'], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof TrainingRunError ? err : new TrainingRunError(name, err);
  }
}

/**
 * Trains the experiment's MLP on its stored dataset (in a worker thread), exports the ONNX
 * inference model, validates that exported model on the held-out chunks, and writes model.onnx,
 * report.json and spec.json into artifactsDir.
 */
export async function runTraining(o: TrainingRunOptions): Promise<TrainingRunResult> {
  const t0 = performance.now();
  const { spec, dataset } = o;
  const inputNames = spec.inputs.map((i) => i.name);
  const D = spec.inputs.length;
  const K = spec.outputs.length;
  const streamed = streamsTrainingSetOf(spec, o.memoryBudgetBytes);
  const shards = streamed ? datasetShardSource(dataset.dir, dataset.shards('training'), D, K) : undefined;
  const train: Samples | undefined = shards ? undefined : await dataset.load('training');
  const held = await dataset.load('validation');
  // streamed: the output statistics come from one pass over the shards
  const stats: { mean: number[]; std: number[]; constant?: (number | undefined)[] } = shards
    ? await stage('training', async () => {
        const s = await computeShardStats(shards);
        return { mean: s.outputMean, std: s.outputStd, constant: s.outputConstant };
      })
    : computeOutputStats((train as Samples).outputs, (train as Samples).count, K);
  const trainCount = shards ? sourceRows(shards) : (train as Samples).count;
  const tLoaded = performance.now();

  const normalization = {
    inputMin: spec.inputs.map((i) => i.min),
    inputMax: spec.inputs.map((i) => i.max),
    inputTransform: spec.inputs.map((i) => i.transform),
    outputMean: stats.mean,
    outputStd: stats.std,
  };
  const mlp = {
    inputDim: spec.inputs.length,
    outputDim: spec.outputs.length,
    hiddenLayers: spec.training.hiddenLayers,
    activation: spec.training.activation,
  };
  const checkpointFile = path.join(dataset.dir, CHECKPOINT_FILE);
  const checkpoint =
    spec.training.checkpointSeconds > 0
      ? {
          file: checkpointFile,
          fingerprint: checkpointFingerprint(o.experimentId, spec, { training: trainCount, validation: held.count }),
          everySeconds: spec.training.checkpointSeconds,
          resume: true, // a fresh experiment has none; a restarted one carries on from its last
        }
      : undefined;
  o.logger.info({ samples: trainCount, data: streamed ? 'stream' : 'memory', mlp, training: spec.training }, 'training started');
  const model = await stage('training', () =>
    trainMlp(shards ? { shards, constantOutputs: stats.constant } : (train as Samples), mlp, normalization, trainConfigOf(spec, o.threads), {
      onProgress: o.onProgress,
      signal: o.signal,
      validation: monitorSet(held, spec.inputs.length, spec.outputs.length),
      checkpoint,
      onCheckpoint: o.onCheckpoint,
      onCheckpointFailed: o.onCheckpointFailed,
    }),
  );
  if (model.resumedFromStep) o.logger.info({ step: model.resumedFromStep }, 'training resumed from a checkpoint');
  o.logger.info({ steps: model.steps, epochs: model.epochs, validationSamples: held.count }, 'training finished; validating and exporting');
  const tTrained = performance.now();

  const baseMetadata: Record<string, string> = {
    'surrogate.experiment_id': o.experimentId,
    // each trained model is its own version: the experiment (a resubmission trains it again under the same id)
    'surrogate.model_version': o.experimentId,
    'surrogate.trainer_version': TRAINER_VERSION,
    'surrogate.spec_name': spec.name,
    'surrogate.inputs': JSON.stringify(inputNames),
    'surrogate.outputs': JSON.stringify(spec.outputs),
    'surrogate.pricer': spec.pricer,
    'surrogate.pricer_version': o.pricerVersion,
    'surrogate.fixed': JSON.stringify(spec.fixed),
    'surrogate.input_box': JSON.stringify(spec.inputs),
  };
  const { validation, predicted } = await stage('validation', async () => {
    const candidate = await InferenceModel.load(
      exportInferenceModel(model, { inputNames, outputNames: spec.outputs, metadata: baseMetadata }),
    );
    try {
      const predicted = await candidate.predict(held.inputs, held.count);
      return { validation: validationMetrics(held, predicted, inputNames, spec.validation.thresholds), predicted };
    } finally {
      await candidate.close();
    }
  });
  const tValidated = performance.now();

  const onnxBytes = await stage('export', async () => {
    const bytes = exportInferenceModel(model, {
      inputNames,
      outputNames: spec.outputs,
      metadata: {
        ...baseMetadata,
        'surrogate.validation': JSON.stringify({
          samples: validation.samples,
          maxAbsError: validation.maxAbsError,
          rmse: validation.rmse,
          pass: validation.pass,
        }),
      },
    });
    return bytes;
  });
  const modelPath = path.join(o.artifactsDir, 'model.onnx');
  const reportPath = path.join(o.artifactsDir, 'report.json');
  const parameterCount = [model.parameters, ...(model.residualStages ?? []).map((s) => s.parameters)]
    .flat()
    .reduce((n, p) => n + p.length, 0);
  const secs = (a: number, b: number): number => Math.round(b - a) / 1000;
  const training = dataset.counts('training');
  const validationCounts = dataset.counts('validation');
  const report = {
    experimentId: o.experimentId,
    name: spec.name,
    pricer: { name: spec.pricer, version: o.pricerVersion },
    inputs: spec.inputs,
    outputs: spec.outputs,
    validation,
    dataset: {
      chunksExpected: training.expected + validationCounts.expected,
      chunksStored: training.stored + validationCounts.stored,
      duplicatesDropped: dataset.duplicatesDropped,
      chunksReused: dataset.chunksReused,
      chunksGenerated: dataset.chunksGenerated,
      samples: trainCount,
      validationSamples: held.count,
      trainingChunks: training,
      validationChunks: validationCounts,
    },
    training: {
      epochs: model.epochs,
      steps: model.steps,
      finalLoss: model.finalLoss,
      lossHistory: model.lossHistory,
      validationLossHistory: model.valLossHistory ?? [],
      resumedFromStep: model.resumedFromStep ?? 0,
      stoppedEarly: model.stoppedEarly ?? [],
      hiddenLayers: spec.training.hiddenLayers,
      activation: spec.training.activation,
      batchSize: spec.training.batchSize,
      learningRate: spec.training.learningRate,
      finalLearningRate: spec.training.finalLearningRate,
      stages: 1 + (model.residualStages?.length ?? 0),
      data: streamed ? 'stream' : 'memory',
      schedule: spec.training.schedule,
      earlyStopping: spec.training.earlyStopping,
      loss: spec.training.loss,
      lossWeights: spec.training.lossWeights,
      checkpointSeconds: spec.training.checkpointSeconds,
      parameters: parameterCount,
    },
    timings: {
      datagenSeconds: dataset.collectSeconds,
      loadSeconds: secs(t0, tLoaded),
      trainingSeconds: secs(tLoaded, tTrained),
      validationSeconds: secs(tTrained, tValidated),
      exportSeconds: secs(tValidated, performance.now()),
    },
    model: {
      file: 'model.onnx',
      input: `x float32 [N, ${inputNames.length}]`,
      output: `y float32 [N, ${spec.outputs.length}]`,
    },
  };
  const html = renderReportHtml({
    name: spec.name,
    experimentId: o.experimentId,
    pricer: spec.pricer,
    inputNames,
    outputNames: spec.outputs,
    lossHistory: model.lossHistory,
    validationLossHistory: model.valLossHistory ?? [],
    held,
    predicted,
    validation,
  });
  const writeAll = async (): Promise<void> => {
    await mkdir(o.artifactsDir, { recursive: true });
    await writeFileDurably(path.join(o.artifactsDir, 'spec.json'), JSON.stringify(specToDocument(spec), null, 2) + '\n');
    await writeFileDurably(path.join(o.artifactsDir, 'report.html'), html);
    await writeFileDurably(reportPath, JSON.stringify(report, null, 2) + '\n');
    await writeFileDurably(modelPath, onnxBytes); // last: a model.onnx is never there without its report
  };
  await stage('export', () => (o.writeArtifacts ?? ((write) => write()))(writeAll));
  // The checkpoint stays until the caller has announced the model and recorded the run done (see
  // TrainerService): a trainer that dies before then carries on from it instead of from the start.
  return { modelPath, reportPath, report, validation };
}
