import * as ort from 'onnxruntime-node';
import { InlineBatchLoader, ThreadedBatchLoader, type BatchLoader } from './batch-loader';
import { interleaveRows, makeBatchPlan, shuffleSeed, weightsVersion, type BatchPlan } from './batch-sampler';
import { initParameters } from './init-parameters';
import type { LoopSnapshot } from './checkpoint';
import { parameterCount, type MlpConfig } from './mlp-config';
import { NnError, TrainingAbortedError, TrainingDivergedError } from './nn-error';
import { createSession, type Device } from './ort-session';
import { RowResiduals } from './row-residuals';
import { Rng } from './rng';
import { adamStepScalars, buildTrainStepGraph, STEP_IO } from './train-step-graph';
import { TrainingControl } from './training-control';
import type { TrainConfig, TrainProgress } from './train-types';

/** Samples already normalized (inputs on [-1, 1], outputs standardized), row-major. */
/**
 * A step loss above this (or NaN/Inf) stops training as diverged. Losses are in normalized units,
 * where predicting each output's mean scores about 1 (a weighted or relative loss's weights average
 * 1, so at most ~10^4 there): 10^8 is far past any loss a sane model has, and lets a run whose
 * parameters blow up without overflowing stop at once instead of training on for hours.
 */
export const DIVERGED_LOSS = 1e8;

export interface NormalizedData {
  inputs: Float32Array;
  outputs: Float32Array;
  count: number;
  /** Per-element loss weights [count, K] (a weighted loss); absent = plain MSE. */
  weights?: Float32Array;
}

/**
 * Normalized samples with each row's inputs and outputs side by side ([count, D+K], see
 * interleaveRows); in a SharedArrayBuffer when batches are gathered on the loader thread.
 */
export interface NormalizedRows {
  rows: Float32Array;
  count: number;
  /** Each row also carries K loss weights after its outputs ([count, D+2K]): the loss is mean(w⊙(out−y)²). */
  weighted?: boolean;
}

/** Floats per row: inputs, outputs and, with a weighted loss, one weight per output. */
export function rowWidth(mlp: MlpConfig, weighted: boolean | undefined): number {
  return mlp.inputDim + mlp.outputDim * (weighted ? 2 : 1);
}

export interface TrainLoopOptions {
  onProgress?: (p: TrainProgress) => void;
  /** Optimizer steps per session.run (unrolled in the step graph). */
  stepsPerRun?: number;
  /** Gather mini-batches on a helper thread (default) or on the training thread. */
  loader?: 'thread' | 'inline';
  /** Starting parameters (flat); default: seeded initialization (initParameters). */
  initialTheta?: Float32Array;
  /**
   * Polled before every session.run; when it returns true training stops with TRAINING_ABORTED,
   * after a last checkpoint (onCheckpoint) of what it trained since the previous one.
   */
  shouldStop?: () => boolean;
  /** Error-driven resampling of the later epochs; default DEFAULT_RESAMPLING, null = plain shuffles. */
  resample?: ResampleOptions | null;
  /**
   * The validation loss of parameters (any units, the same at every call), computed after every
   * epoch: it is recorded, and it is what the plateau schedule and early stopping watch (without
   * it they watch the epoch's training loss).
   */
  validate?: (theta: ort.Tensor) => Promise<number>;
  /** Carry on from where a checkpoint of this loop stood (same data, model and config). */
  resume?: LoopSnapshot;
  /**
   * Receives a snapshot of the loop (copies) each time a checkpoint is due: at the first
   * session.run boundary `checkpointEveryMs` after the previous one. Never called with parameters
   * that produced a non-finite loss.
   */
  onCheckpoint?: (snapshot: LoopSnapshot) => void;
  checkpointEveryMs?: number;
}

/**
 * Error-driven resampling: from epoch ⌊startFraction·epochs⌋ on, every `everyEpochs` epochs the
 * trainer computes each row's squared error e² and the following epochs draw their rows with
 * probability (1 − mix)/N + mix·e^power/Σe^power. Hard rows (in practice: rows near the faces of
 * the input box and in sharp corners of the function) are then seen more often, which lowers the
 * maximum error much more than the mean error would suggest.
 */
export interface ResampleOptions {
  startFraction: number;
  everyEpochs: number;
  mix: number;
  power: number;
}

export interface TrainLoopResult {
  /** The final parameters; with early stopping, those of the best validation loss. */
  theta: Float32Array;
  /** MSE (normalized units) of the returned parameters over the whole training set. */
  finalLoss: number;
  /** Epochs and steps trained (fewer than planned when early stopping ended the loop). */
  epochs: number;
  steps: number;
  lossHistory: number[];
  /** Validation loss after each epoch (empty without options.validate). */
  valLossHistory: number[];
  /** Set when early stopping ended the loop: the epoch it stopped after and the best epoch. */
  stoppedEarly?: { epoch: number; bestEpoch: number };
}

/** The resampling the trainer uses unless told otherwise (tuned on the Black–Scholes example). */
export const DEFAULT_RESAMPLING: ResampleOptions = { startFraction: 0.3, everyEpochs: 5, mix: 0.5, power: 2 };

/**
 * Default optimizer steps per session.run: amortizes the per-run cost of the JS ↔ native crossing
 * (~60 µs plus a few µs per input and output). At the default network (3×64, batch 256) 32 steps
 * per run train ~8% faster than 8 (step ~0.3 ms); beyond 32 the gain is nil while building the
 * session grows faster than linearly (~0.45 s at 32 steps, ~1.2 s at 64).
 */
export const DEFAULT_STEPS_PER_RUN = 32;

/** One compiled step graph (running `steps` steps per call) and its reusable input buffers. */
interface StepRunner {
  steps: number;
  session: ort.InferenceSession;
  /** Per step, views into the stacked x, y (and w) inputs, for the loader to fill. */
  x: Float32Array[];
  y: Float32Array[];
  /** Loss weights per step (weighted loss only). */
  w: Float32Array[] | undefined;
  feeds: Record<string, ort.Tensor>;
  alpha: Float32Array;
  eps: Float32Array;
  /** Per-step lr·λ; only when the graph has AdamW's weight decay. */
  decay: Float32Array | undefined;
}

async function createRunner(
  mlp: MlpConfig,
  steps: number,
  batch: number,
  threads: number,
  device: Device,
  weighted: boolean,
  weightDecay: boolean,
): Promise<StepRunner> {
  const session = await createSession(buildTrainStepGraph(mlp, steps, 'float32', { weighted, weightDecay }), threads, true, device);
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const stacked = (width: number, name: string, views: Float32Array[], feeds: Record<string, ort.Tensor>): void => {
    const all = new Float32Array(steps * batch * width);
    for (let s = 0; s < steps; s++) views.push(all.subarray(s * batch * width, (s + 1) * batch * width));
    feeds[name] = new ort.Tensor('float32', all, [steps * batch, width]);
  };
  const runner: StepRunner = {
    steps,
    session,
    x: [],
    y: [],
    w: weighted ? [] : undefined,
    feeds: {},
    alpha: new Float32Array(steps),
    eps: new Float32Array(steps),
    decay: weightDecay ? new Float32Array(steps) : undefined,
  };
  stacked(D, STEP_IO.x, runner.x, runner.feeds);
  stacked(K, STEP_IO.y, runner.y, runner.feeds);
  if (runner.w) stacked(K, STEP_IO.w, runner.w, runner.feeds);
  runner.feeds[STEP_IO.alpha] = new ort.Tensor('float32', runner.alpha, [steps]);
  runner.feeds[STEP_IO.eps] = new ort.Tensor('float32', runner.eps, [steps]);
  if (runner.decay) runner.feeds[STEP_IO.decay] = new ort.Tensor('float32', runner.decay, [steps]);
  return runner;
}

/**
 * Trains on normalized data in the calling thread (session.run blocks it: call from a worker).
 * Mini-batches of `batchSize` rows follow a fresh seeded shuffle each epoch (the last partial
 * batch of an epoch is dropped); the learning rate follows `learningRateAt` over all steps.
 * Parameters and Adam state stay onnxruntime tensors, fed from one run's outputs to the next.
 */
export async function trainNormalized(
  data: NormalizedData,
  mlp: MlpConfig,
  config: TrainConfig,
  options: TrainLoopOptions = {},
): Promise<TrainLoopResult> {
  const { count } = data;
  const weighted = data.weights !== undefined;
  const bytes = count * rowWidth(mlp, weighted) * 4;
  const buffer = (options.loader ?? 'thread') === 'thread' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const rows = interleaveRows(data.inputs, data.outputs, count, mlp.inputDim, mlp.outputDim, buffer, data.weights);
  return trainRows({ rows, count, weighted }, mlp, config, options);
}

/**
 * Where a training loop's mini-batches come from: rows in memory (trainRows) or shards streamed
 * from disk (train-streamed.ts).
 */
export interface TrainingSource {
  plan: BatchPlan;
  /** The batches carry loss weights (the step graph takes w_s). */
  weighted: boolean;
  /** A loader of the plan's batches from `startStep` on, `slots` steps ahead. */
  openLoader(startStep: number, slots: number): BatchLoader;
  /** Sampling weights from the parameters' per-row errors (needed when plan.resample is set). */
  samplingWeights?(theta: ort.Tensor): Promise<Float32Array>;
  /** (Weighted) MSE of the parameters over the whole training set; absent: the caller computes it (NaN). */
  finalLoss?(theta: ort.Tensor): Promise<number>;
  close(): Promise<void>;
}

/** trainNormalized on interleaved rows (the loader thread needs them in a SharedArrayBuffer). */
export async function trainRows(
  data: NormalizedRows,
  mlp: MlpConfig,
  config: TrainConfig,
  options: TrainLoopOptions = {},
): Promise<TrainLoopResult> {
  const source = await rowsSource(data, mlp, config, options);
  try {
    return await trainFromSource(source, mlp, config, options);
  } finally {
    await source.close();
  }
}

/**
 * Interleaved rows in memory as a TrainingSource: seeded shuffles (and error-driven resampling
 * unless options.resample is null), gathered on a loader thread when the rows are shared.
 */
export async function rowsSource(
  data: NormalizedRows,
  mlp: MlpConfig,
  config: TrainConfig,
  options: Pick<TrainLoopOptions, 'resample' | 'loader'> = {},
): Promise<TrainingSource> {
  const { count, rows } = data;
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const resample = options.resample === undefined ? DEFAULT_RESAMPLING : options.resample;
  const plan = makeBatchPlan(
    count,
    config.batchSize,
    config.epochs,
    D,
    K,
    shuffleSeed(config.seed),
    resample ? { startEpoch: Math.max(1, Math.floor(config.epochs * resample.startFraction)), everyEpochs: Math.max(1, resample.everyEpochs) } : undefined,
    data.weighted ? K : 0,
  );
  const threaded = (options.loader ?? 'thread') === 'thread' && rows.buffer instanceof SharedArrayBuffer;
  const errors = await RowResiduals.create(mlp, data, config.threads, config.device ?? 'cpu');
  return {
    plan,
    weighted: data.weighted === true,
    openLoader: (startStep, slots) => (threaded ? new ThreadedBatchLoader(rows, plan, slots, startStep) : new InlineBatchLoader(rows, plan, startStep)),
    samplingWeights: async (theta) => samplingWeights(await errors.squaredErrors(theta), resample as ResampleOptions),
    finalLoss: async (theta) => {
      // the epochs' batch losses over-represent hard rows once resampling starts: the plain
      // (weighted) MSE over the whole training set
      const e2 = await errors.squaredErrors(theta);
      let sum = 0;
      for (let i = 0; i < e2.length; i++) sum += e2[i];
      return sum / (count * K);
    },
    close: () => errors.release(),
  };
}

/** The training loop over any TrainingSource (see trainRows). */
export async function trainFromSource(
  source: TrainingSource,
  mlp: MlpConfig,
  config: TrainConfig,
  options: TrainLoopOptions = {},
): Promise<TrainLoopResult> {
  const { plan } = source;
  const { count } = plan;
  const P = parameterCount(mlp);
  const { batch, stepsPerEpoch, totalSteps } = plan;
  const resume = options.resume;
  if (resume) checkResume(resume, P, count, totalSteps);
  const control = new TrainingControl(
    config.schedule ?? { kind: 'cosine' },
    config.earlyStopping,
    config.learningRate,
    config.finalLearningRate,
    resume?.control,
  );
  const theta0 = resume ? resume.theta : options.initialTheta ? Float32Array.from(options.initialTheta) : initParameters(mlp, new Rng(config.seed));

  const unroll = Math.max(1, Math.min(options.stepsPerRun ?? DEFAULT_STEPS_PER_RUN, totalSteps));
  // Step graphs by number of unrolled steps: `unroll`, plus shorter ones where a run must end early
  // (end of an epoch, of training, or before sampling weights must be computed from the parameters).
  const runners = new Map<number, StepRunner>();
  const runnerFor = async (steps: number): Promise<StepRunner> => {
    let r = runners.get(steps);
    if (!r) {
      r = await createRunner(mlp, steps, batch, config.threads, config.device ?? 'cpu', source.weighted, (config.weightDecay ?? 0) > 0);
      runners.set(steps, r);
    }
    return r;
  };
  /** First step ≥ `step` at which new sampling weights take effect (Infinity if none). */
  const nextResampleStep = (step: number): number => {
    if (!plan.resample) return Infinity;
    for (let e = Math.ceil(step / stepsPerEpoch); e * stepsPerEpoch < totalSteps; e++) {
      if (weightsVersion(plan, e) > weightsVersion(plan, e - 1)) return e * stepsPerEpoch;
    }
    return Infinity;
  };

  let loader: BatchLoader | undefined;
  try {
    await runnerFor(unroll);
    const startStep = resume?.step ?? 0;
    loader = source.openLoader(startStep, 4 * unroll);

    let theta: ort.Tensor = new ort.Tensor('float32', theta0, [P]);
    let m: ort.Tensor = new ort.Tensor('float32', resume ? resume.m : new Float32Array(P), [P]);
    let v: ort.Tensor = new ort.Tensor('float32', resume ? resume.v : new Float32Array(P), [P]);
    const lossHistory: number[] = resume ? [...resume.lossHistory] : [];
    const valLossHistory: number[] = resume ? [...resume.valLossHistory] : [];
    let bestTheta: Float32Array | undefined = resume?.bestTheta;
    let weightsVersionNow = resume?.weightsVersion ?? 0;
    let weightsNow: Float32Array | undefined = resume?.weights;
    if (weightsNow && weightsVersionNow > 0) loader.publishWeights(weightsVersionNow, weightsNow);
    let epochLossSum = resume?.epochLossSum ?? 0;
    let epochStart = performance.now();
    let lastCheckpoint = performance.now();
    let step = startStep;
    let checkpointedStep = startStep;
    let stoppedEarly: TrainLoopResult['stoppedEarly'];
    let resampleAt = nextResampleStep(step);
    const snapshot = (): LoopSnapshot => ({
      step,
      theta: Float32Array.from(theta.data as Float32Array),
      m: Float32Array.from(m.data as Float32Array),
      v: Float32Array.from(v.data as Float32Array),
      epochLossSum,
      lossHistory: [...lossHistory],
      valLossHistory: [...valLossHistory],
      weightsVersion: weightsVersionNow,
      weights: weightsNow,
      control: { ...control.state },
      bestTheta,
    });
    while (step < totalSteps) {
      if (options.shouldStop?.()) {
        // asked to stop (the service stops, a cancel, Ctrl-C): what was trained since the last
        // checkpoint is kept, so that a restart or a resume carries on from here, not from up to
        // checkpointEveryMs before
        if (options.onCheckpoint && step > checkpointedStep) options.onCheckpoint(snapshot());
        throw new TrainingAbortedError('training aborted', { details: { step } });
      }
      if (step === resampleAt && source.samplingWeights) {
        weightsVersionNow = weightsVersion(plan, step / stepsPerEpoch);
        weightsNow = await source.samplingWeights(theta);
        loader.publishWeights(weightsVersionNow, weightsNow);
        resampleAt = nextResampleStep(step + 1);
      }
      const epochEnd = (Math.floor(step / stepsPerEpoch) + 1) * stepsPerEpoch;
      const runner = await runnerFor(Math.min(unroll, epochEnd - step, resampleAt - step));
      loader.next(runner.steps, runner.x, runner.y, runner.w);
      for (let s = 0; s < runner.steps; s++) {
        const lr = control.learningRate(step + s, totalSteps);
        const a = adamStepScalars(lr, step + s + 1);
        runner.alpha[s] = a.alpha;
        runner.eps[s] = a.eps;
        if (runner.decay) runner.decay[s] = lr * (config.weightDecay ?? 0);
      }
      const out = await runner.session.run({ ...runner.feeds, [STEP_IO.theta]: theta, [STEP_IO.m]: m, [STEP_IO.v]: v });
      const losses = out[STEP_IO.losses].data as Float32Array;
      for (let s = 0; s < runner.steps; s++) {
        if (!(losses[s] <= DIVERGED_LOSS)) {
          throw new TrainingDivergedError(step + s, losses[s], {
            epoch: Math.floor((step + s) / stepsPerEpoch) + 1,
            learningRate: control.learningRate(step + s, totalSteps),
          });
        }
      }
      theta = out[STEP_IO.thetaOut] as ort.Tensor;
      m = out[STEP_IO.mOut] as ort.Tensor;
      v = out[STEP_IO.vOut] as ort.Tensor;
      for (let s = 0; s < runner.steps; s++) epochLossSum += losses[s];
      step += runner.steps;
      if (step % stepsPerEpoch === 0) {
        const epoch = step / stepsPerEpoch;
        const epochLoss = epochLossSum / stepsPerEpoch;
        lossHistory.push(epochLoss);
        const valLoss = options.validate ? await options.validate(theta) : undefined;
        if (valLoss !== undefined) valLossHistory.push(valLoss);
        const decision = control.endEpoch(epoch, valLoss ?? epochLoss);
        if (decision.improved && config.earlyStopping) bestTheta = Float32Array.from(theta.data as Float32Array);
        const now = performance.now();
        options.onProgress?.({
          epoch,
          epochs: config.epochs,
          step,
          loss: epochLoss,
          ...(valLoss !== undefined ? { validationLoss: valLoss } : {}),
          learningRate: control.learningRate(step - 1, totalSteps),
          samplesPerSec: (stepsPerEpoch * batch) / Math.max(1e-9, (now - epochStart) / 1000),
        });
        epochLossSum = 0;
        epochStart = now;
        if (decision.stop && step < totalSteps) {
          stoppedEarly = { epoch, bestEpoch: control.state.bestEpoch };
          break;
        }
      }
      if (options.onCheckpoint && step < totalSteps && performance.now() - lastCheckpoint >= (options.checkpointEveryMs ?? Infinity)) {
        options.onCheckpoint(snapshot());
        lastCheckpoint = performance.now();
        checkpointedStep = step;
      }
    }
    // with early stopping the best parameters by the monitored loss are the result
    if (bestTheta && config.earlyStopping) theta = new ort.Tensor('float32', Float32Array.from(bestTheta), [P]);
    return {
      theta: new Float32Array(theta.data as Float32Array),
      finalLoss: source.finalLoss ? await source.finalLoss(theta) : NaN,
      epochs: lossHistory.length,
      steps: step,
      lossHistory,
      valLossHistory,
      ...(stoppedEarly ? { stoppedEarly } : {}),
    };
  } finally {
    await loader?.close();
    for (const r of runners.values()) await r.session.release();
  }
}

/** Throws CHECKPOINT_MISMATCH unless a loop snapshot fits this model and batch plan. */
function checkResume(r: LoopSnapshot, P: number, count: number, totalSteps: number): void {
  const problems: string[] = [];
  for (const [name, a] of [['theta', r.theta], ['m', r.m], ['v', r.v], ['bestTheta', r.bestTheta]] as const) {
    if (a && a.length !== P) problems.push(`${name} has ${a.length} values, the model ${P}`);
  }
  if (r.weights && r.weights.length !== count) problems.push(`sampling weights for ${r.weights.length} rows, the data has ${count}`);
  if (!(Number.isInteger(r.step) && r.step >= 0 && r.step <= totalSteps)) problems.push(`step ${r.step} outside 0…${totalSteps}`);
  if (problems.length > 0) {
    throw new NnError('CHECKPOINT_MISMATCH', `the checkpoint does not fit this training: ${problems.join('; ')}`, { details: { problems } });
  }
}

/** Sampling probabilities (1 − mix)/N + mix·e^power/Σe^power from squared errors e². */
export function samplingWeights(e2: Float32Array, r: ResampleOptions): Float32Array {
  const n = e2.length;
  const w = new Float32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.pow(e2[i], r.power / 2);
  const uniform = (1 - r.mix) / n;
  for (let i = 0; i < n; i++) w[i] = uniform + (total > 0 ? (r.mix * Math.pow(e2[i], r.power / 2)) / total : r.mix / n);
  return w;
}
