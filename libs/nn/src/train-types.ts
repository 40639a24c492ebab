import { NnError } from './nn-error';
import type { MlpConfig } from './mlp-config';
import type { Normalization } from './normalization';
import { DEVICES, type Device } from './ort-session';
import type { EarlyStoppingConfig, ScheduleConfig } from './training-control';
import type { LossConfig } from './loss-weights';

/** Row-major training samples in RAW units: inputs count×inputDim, outputs count×outputDim. */
export interface TrainingData {
  inputs: Float32Array;
  outputs: Float32Array;
  count: number;
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate (reached after a short warm-up). */
  learningRate: number;
  /** Learning rate of the last step. */
  finalLearningRate: number;
  seed: number;
  /** onnxruntime intra-op threads; 0 = all cores. */
  threads: number;
  /** Where the step graph runs (default cpu); cuda needs onnxruntime's CUDA provider installed. */
  device?: Device;
  /** AdamW's decoupled weight decay λ on the weights (not the biases); 0 or absent = plain Adam. */
  weightDecay?: number;
  /**
   * Residual stages (default 1): stage s > 0 is a fresh network trained on what stages 0…s−1 left
   * unexplained, rescaled to unit size; the model is their sum. `epochs` is shared out by
   * stageEpochs. See train-stages.ts.
   */
  stages?: number;
  /** Learning-rate schedule (default: cosine, see TrainingControl). */
  schedule?: ScheduleConfig;
  /** Stop a stage when the validation loss stops improving, keeping its best parameters. */
  earlyStopping?: EarlyStoppingConfig;
  /** The loss (default: plain MSE over all outputs). */
  loss?: LossConfig;
}

export interface TrainProgress {
  /** 1-based epoch just completed. */
  epoch: number;
  epochs: number;
  /** Optimizer steps completed so far. */
  step: number;
  /** Mean loss (MSE, normalized units) of the epoch's mini-batches (see TrainedModel.lossHistory). */
  loss: number;
  /** Validation loss (stage-0 normalized units) after the epoch, when there is validation data. */
  validationLoss?: number;
  /** Learning rate of the epoch's last step. */
  learningRate: number;
  samplesPerSec: number;
}

/** A later stage's network: it adds out·outputScale + outputShift (RAW units) to the model's output. */
export interface ResidualStage {
  parameters: Float32Array[];
  outputScale: number[];
  outputShift: number[];
}

export interface TrainedModel {
  mlp: MlpConfig;
  normalization: Normalization;
  /** W1, b1, W2, b2, …; W_l is row-major [fanIn, fanOut] (z = h·W + b), b_l is [fanOut]. */
  parameters: Float32Array[];
  /** Stages 1, 2, … (same architecture as stage 0); absent or empty for a one-stage model. */
  residualStages?: ResidualStage[];
  /** MSE (normalized units) of the final parameters over the whole training set. */
  finalLoss: number;
  epochs: number;
  steps: number;
  /**
   * Mean mini-batch loss of each epoch. Once error-driven resampling starts (30% into training)
   * the batches over-represent hard rows, so these run above the plain training MSE.
   */
  lossHistory: number[];
  /** Validation MSE (normalized units) of the whole model after each epoch; empty without validation data. */
  valLossHistory?: number[];
  /** The optimizer step training resumed from (0 when it started afresh). */
  resumedFromStep?: number;
  /** The stages early stopping ended (stage, the epoch within it, its best epoch). */
  stoppedEarly?: { stage: number; epoch: number; bestEpoch: number }[];
}

/** The most residual stages a model may have. */
export const MAX_STAGES = 8;

/** Share of all epochs that the first stage gets when there are several; the rest share the remainder. */
export const FIRST_STAGE_SHARE = 0.6;

/** Epochs of each stage: all of them for one stage; else FIRST_STAGE_SHARE to stage 0, the rest evenly. */
export function stageEpochs(epochs: number, stages: number): number[] {
  if (stages <= 1) return [epochs];
  const first = Math.max(1, Math.min(epochs - (stages - 1), Math.round(epochs * FIRST_STAGE_SHARE)));
  const rest = epochs - first;
  const base = Math.floor(rest / (stages - 1));
  return [first, ...Array.from({ length: stages - 1 }, (_, i) => base + (i < rest % (stages - 1) ? 1 : 0))];
}

/** Throws NN_INVALID_CONFIG unless `c` is a usable training configuration. */
export function validateTrainConfig(c: TrainConfig): void {
  const fail = (field: string, rule: string): never => {
    throw new NnError('NN_INVALID_CONFIG', `${field} must be ${rule}, got ${String((c as unknown as Record<string, unknown>)[field])}`, {
      details: { field, value: (c as unknown as Record<string, unknown>)[field], rule },
    });
  };
  const posInt = (n: number): boolean => Number.isInteger(n) && n > 0;
  if (!posInt(c.epochs)) fail('epochs', 'a positive integer');
  if (!posInt(c.batchSize)) fail('batchSize', 'a positive integer');
  if (!(Number.isFinite(c.learningRate) && c.learningRate > 0)) fail('learningRate', 'a positive number');
  if (!(Number.isFinite(c.finalLearningRate) && c.finalLearningRate > 0)) fail('finalLearningRate', 'a positive number');
  if (!Number.isFinite(c.seed)) fail('seed', 'a finite number');
  if (!(Number.isInteger(c.threads) && c.threads >= 0)) fail('threads', 'a non-negative integer');
  if (c.device !== undefined && !DEVICES.includes(c.device)) fail('device', `one of ${DEVICES.join(', ')}`);
  if (c.weightDecay !== undefined && !(Number.isFinite(c.weightDecay) && c.weightDecay >= 0)) fail('weightDecay', 'a finite number ≥ 0');
  if (c.stages !== undefined && !(Number.isInteger(c.stages) && c.stages >= 1 && c.stages <= MAX_STAGES)) fail('stages', `an integer from 1 to ${MAX_STAGES}`);
  if (!(c.epochs >= (c.stages ?? 1))) fail('epochs', `at least the number of stages (${c.stages})`);
  const sc = c.schedule;
  if (sc !== undefined) {
    if (sc.kind !== 'cosine' && sc.kind !== 'plateau') fail('schedule', 'cosine or plateau');
    if (sc.warmupFraction !== undefined && !(sc.warmupFraction >= 0 && sc.warmupFraction < 1)) fail('schedule', 'a warm-up fraction in [0, 1)');
    if (sc.kind === 'plateau' && !(sc.factor > 0 && sc.factor < 1 && Number.isInteger(sc.patience) && sc.patience >= 0))
      fail('schedule', 'a plateau factor in (0, 1) and a patience ≥ 0 epochs');
  }
  const es = c.earlyStopping;
  if (es !== undefined && !(Number.isInteger(es.patience) && es.patience >= 1 && es.minDelta >= 0 && es.minDelta < 1))
    fail('earlyStopping', 'a patience ≥ 1 epoch and a minDelta in [0, 1)');
}

/** Throws NN_INVALID_DATA unless `data` holds `count` rows of the right widths. */
export function validateTrainingData(data: TrainingData, mlp: MlpConfig): void {
  const { count } = data;
  if (!Number.isInteger(count) || count <= 0) {
    throw new NnError('NN_INVALID_DATA', `count must be a positive integer, got ${count}`, { details: { count } });
  }
  if (!(data.inputs instanceof Float32Array) || data.inputs.length !== count * mlp.inputDim) {
    throw new NnError('NN_INVALID_DATA', `inputs must be a Float32Array of ${count}×${mlp.inputDim} values`, {
      details: { expected: count * mlp.inputDim, actual: data.inputs?.length },
    });
  }
  if (!(data.outputs instanceof Float32Array) || data.outputs.length !== count * mlp.outputDim) {
    throw new NnError('NN_INVALID_DATA', `outputs must be a Float32Array of ${count}×${mlp.outputDim} values`, {
      details: { expected: count * mlp.outputDim, actual: data.outputs?.length },
    });
  }
}
