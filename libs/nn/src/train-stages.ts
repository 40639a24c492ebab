import * as ort from 'onnxruntime-node';
import { parameterCount, type MlpConfig } from './mlp-config';
import { RowResiduals, weightedRowSquares } from './row-residuals';
import { checkpointStep, type TrainingCheckpoint } from './checkpoint';
import { NnError } from './nn-error';
import { rowsSource, rowWidth, trainFromSource, type NormalizedRows, type TrainingSource, type TrainLoopOptions } from './train-loop';
import { stageEpochs, type TrainConfig } from './train-types';

/** One trained stage, its output map given in stage-0 normalized units: it adds out·scale + shift. */
export interface TrainedStage {
  theta: Float32Array;
  scale: number[];
  shift: number[];
}

export interface StagedTrainResult {
  stages: TrainedStage[];
  /** MSE (stage-0 normalized units) of the whole model over the training set. */
  finalLoss: number;
  /** Epochs and steps trained, over all stages (fewer than planned when early stopping cut a stage short). */
  epochs: number;
  steps: number;
  /** Mean mini-batch loss of each epoch of every stage, converted to stage-0 normalized units. */
  lossHistory: number[];
  /** Validation MSE of the whole model after each epoch (stage-0 normalized units); empty without validation rows. */
  valLossHistory: number[];
  /** The optimizer step the training resumed from (0 when it started afresh). */
  resumedFromStep: number;
  /** The stages early stopping ended: stage, the epoch (within the stage) it stopped after, and its best epoch. */
  stoppedEarly: { stage: number; epoch: number; bestEpoch: number }[];
}

export interface StagedTrainOptions extends Omit<TrainLoopOptions, 'validate' | 'resume' | 'onCheckpoint'> {
  /** Held-out rows (normalized like the training rows; their targets are rewritten in place between stages). */
  validation?: NormalizedRows;
  /** Carry on from this checkpoint (its fingerprint already checked by the caller). */
  resume?: TrainingCheckpoint;
  /** Written into every checkpoint. */
  fingerprint?: string;
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void;
}

/** Per-output mean and standard deviation of what a stage left (ρ = target − out, its units). */
function residualMoments(res: Float32Array, count: number, K: number): { mean: number[]; std: number[]; meanSquare: number[] } {
  const mean = new Array<number>(K).fill(0);
  const sq = new Array<number>(K).fill(0);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < K; k++) {
      const rho = -res[i * K + k];
      mean[k] += rho;
      sq[k] += rho * rho;
    }
  }
  const std = mean.map((m, k) => {
    const mu = m / count;
    const v = Math.sqrt(Math.max(0, sq[k] / count - mu * mu));
    return v > 0 && Number.isFinite(v) ? v : 1;
  });
  return { mean: mean.map((m) => m / count), std, meanSquare: sq.map((q) => q / count) };
}

/** Rewrites the rows' targets to the next stage's: (ρ − mean)/std, ρ = −res. */
function rewriteTargets(data: NormalizedRows, mlp: MlpConfig, res: Float32Array, mean: number[], std: number[]): void {
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const W = rowWidth(mlp, data.weighted);
  for (let i = 0; i < data.count; i++) {
    for (let k = 0; k < K; k++) data.rows[i * W + D + k] = (-res[i * K + k] - mean[k]) / std[k];
  }
}

/**
 * Multi-stage training (Wang & Lai, "Multi-stage neural networks: function approximator of machine
 * precision", J. Comput. Phys. 504, 2024): stage 0 fits the targets; each later stage is a fresh
 * network fitted to the residual the earlier stages leave, standardized to zero mean and unit
 * variance so that it trains at the same scale as stage 0. A network's error is a small, smooth
 * function that a second network fits well, so two stages reach an error several times lower
 * than one network trained for the same number of epochs (on the Black–Scholes example: RMSE
 * 1.1e-3 → 1.3e-4, max error 1.1e-2 → 2.5e-3).
 *
 * The rows' target columns (training and validation) are rewritten in place between stages (they
 * must not be shared with anything else). Progress epochs run across all stages. A resumed
 * training first replays the finished stages' rewrites from their saved parameters, then carries
 * on the stage in progress from its loop snapshot.
 */
export async function trainStages(
  data: NormalizedRows,
  mlp: MlpConfig,
  config: TrainConfig,
  options: StagedTrainOptions = {},
): Promise<StagedTrainResult> {
  const P = parameterCount(mlp);
  const residuals = await RowResiduals.create(mlp, data, config.threads, config.device ?? 'cpu');
  const path: StagePath = {
    // the rows' targets are the current stage's (advance rewrites them); the stage loop takes the
    // training loss from advance, so the source need not measure it again
    source: async (_stage, stageConfig) => ({ ...(await rowsSource(data, mlp, stageConfig, options)), finalLoss: undefined }),
    advance: async (theta, _stages, _scale, last) => {
      const res = await residuals.residuals(new ort.Tensor('float32', theta, [P]));
      const moments = residualMoments(res, data.count, mlp.outputDim);
      if (!last) rewriteTargets(data, mlp, res, moments.mean, moments.std);
      return moments;
    },
    close: () => residuals.release(),
  };
  try {
    return await trainStagesOn(path, mlp, config, options);
  } finally {
    await path.close();
  }
}

/** What differs between training on rows in memory and on shards streamed from disk. */
export interface StagePath {
  /** The training source of stage `stage`, whose targets are what the finished stages leave. */
  source(stage: number, stageConfig: TrainConfig, finished: readonly TrainedStage[], scale: readonly number[], shift: readonly number[]): Promise<TrainingSource>;
  /**
   * After a stage (`theta`, trained at `scale`; `stages` = all finished so far, it included): the
   * per-output mean, standard deviation and mean square of what the model leaves, in that stage's
   * units; unless `last`, the training targets move on to the next stage's.
   */
  advance(theta: Float32Array, stages: readonly TrainedStage[], scale: readonly number[], last: boolean): Promise<{ mean: number[]; std: number[]; meanSquare: number[] }>;
  close(): Promise<void>;
  /** false: the path cannot resample by error (streamed data). */
  resample?: false;
}

/** The multi-stage training over a StagePath (see trainStages). */
export async function trainStagesOn(
  path: StagePath,
  mlp: MlpConfig,
  config: TrainConfig,
  options: StagedTrainOptions = {},
): Promise<StagedTrainResult> {
  const K = mlp.outputDim;
  const P = parameterCount(mlp);
  const epochs = stageEpochs(config.epochs, config.stages ?? 1);
  const resume = options.resume;
  if (resume && !(Number.isInteger(resume.stage) && resume.stage >= 0 && resume.stage < epochs.length && resume.stages.length === resume.stage)) {
    throw new NnError('CHECKPOINT_MISMATCH', `the checkpoint is at stage ${resume.stage} with ${resume.stages.length} finished, this training has ${epochs.length} stages`, {
      details: { stage: resume.stage, stages: epochs.length },
    });
  }
  const { validation } = options;
  const valResiduals = validation ? await RowResiduals.create(mlp, validation, config.threads, config.device ?? 'cpu') : undefined;
  try {
    const stages: TrainedStage[] = [];
    const lossHistory: number[] = resume ? [...resume.lossHistory] : [];
    const valLossHistory: number[] = resume ? [...resume.valLossHistory] : [];
    // the finished stages' early stops travel in the checkpoint: a resumed run reports them too
    const stoppedEarly: StagedTrainResult['stoppedEarly'] = resume?.stoppedEarly ? resume.stoppedEarly.map((e) => ({ ...e })) : [];
    let scale = new Array<number>(K).fill(1);
    let shift = new Array<number>(K).fill(0);
    let steps = resume?.stageSteps ?? 0;
    let finalLoss = 0;

    /** After stage `theta` (trained at `scale`): the training MSE in stage-0 units, and the next stage's targets. */
    const advance = async (theta: Float32Array, last: boolean): Promise<number> => {
      const t = new ort.Tensor('float32', theta, [P]);
      const { mean, std, meanSquare } = await path.advance(theta, stages, scale, last);
      let loss = 0;
      for (let k = 0; k < K; k++) loss += meanSquare[k] * scale[k] * scale[k];
      if (last) return loss / K;
      if (validation && valResiduals) rewriteTargets(validation, mlp, await valResiduals.residuals(t), mean, std);
      shift = scale.map((c, k) => c * mean[k]);
      scale = scale.map((c, k) => c * std[k]);
      return loss / K;
    };
    /** Validation (weighted) MSE of the whole model in stage-0 units: a stage's residual times its scale. */
    const validate =
      valResiduals && validation
        ? async (theta: ort.Tensor): Promise<number> => {
            const e2 = weightedRowSquares(await valResiduals.residuals(theta), validation, mlp, scale);
            let sum = 0;
            for (let i = 0; i < e2.length; i++) sum += e2[i];
            return sum / (e2.length * K);
          }
        : undefined;

    for (const done of resume?.stages ?? []) {
      if (done.theta.length !== P) throw new NnError('CHECKPOINT_MISMATCH', `a finished stage in the checkpoint has ${done.theta.length} parameters, the model ${P}`);
      stages.push({ theta: done.theta, scale: [...scale], shift: [...shift] });
      await advance(done.theta, false);
    }

    for (let s = resume?.stage ?? 0; s < epochs.length; s++) {
      const stepsBefore = steps;
      // a stage's losses are in its own units: (stage-0 units) ≈ (stage units)·mean(scale²)
      const lossFactor = scale.reduce((a, c) => a + c * c, 0) / K;
      const loopResume = resume && s === resume.stage ? resume.loop : undefined;
      const stageLossBase = lossHistory.length; // the finished stages' epochs
      const stageConfig = { ...config, epochs: epochs[s], seed: config.seed + s };
      const source = await path.source(s, stageConfig, stages, scale, shift);
      const r = await trainFromSource(source, mlp, stageConfig, {
        ...options,
        ...(path.resample === false ? { resample: null } : {}),
        validate,
        resume: loopResume,
        onProgress: options.onProgress
          ? (p) =>
              options.onProgress?.({
                ...p,
                epoch: stageLossBase + p.epoch,
                epochs: config.epochs,
                step: stepsBefore + p.step,
                loss: p.loss * lossFactor,
              })
          : undefined,
        onCheckpoint: options.onCheckpoint
          ? (loop) =>
              options.onCheckpoint?.({
                fingerprint: options.fingerprint ?? '',
                stage: s,
                stages: stages.map((st) => ({ theta: st.theta, scale: st.scale, shift: st.shift })),
                stageSteps: stepsBefore,
                lossHistory: [...lossHistory],
                valLossHistory: [...valLossHistory],
                stoppedEarly: stoppedEarly.map((e) => ({ ...e })),
                loop,
              })
          : undefined,
      }).finally(() => source.close());
      steps += r.steps;
      for (const l of r.lossHistory) lossHistory.push(l * lossFactor);
      for (const l of r.valLossHistory) valLossHistory.push(l);
      if (r.stoppedEarly) stoppedEarly.push({ stage: s, ...r.stoppedEarly });
      stages.push({ theta: r.theta, scale: [...scale], shift: [...shift] });
      finalLoss = await advance(r.theta, s === epochs.length - 1);
    }
    return {
      stages,
      finalLoss,
      epochs: lossHistory.length,
      steps,
      lossHistory,
      valLossHistory,
      resumedFromStep: resume ? checkpointStep(resume) : 0,
      stoppedEarly,
    };
  } finally {
    await valResiduals?.release();
  }
}
