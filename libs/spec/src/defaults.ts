import type { Activation } from './experiment-spec';

/**
 * Defaults chosen so that a spec without `training` or `validation` sections gives a model a user
 * would accept: the one place they live (libs/nn takes explicit settings). The training defaults
 * were tuned on examples/black-scholes.yaml with libs/nn/scripts/tune-black-scholes.js; see the
 * README's figures.
 */
export const DEFAULTS = {
  seed: 1,
  sampler: 'sobol' as const,
  chunkSize: 65536,
  training: {
    hiddenLayers: [64, 64, 64],
    activation: 'silu' as Activation,
    /** Epochs are chosen so that training sees about this many samples in all, within the bounds below. */
    samplesSeen: 100 * 1048576,
    minEpochs: 4,
    maxEpochs: 1000,
    batchSize: 256,
    learningRate: 1e-2,
    finalLearningRate: 1e-5,
    /**
     * onnxruntime intra-op threads. Networks this small train fastest on one: their matmuls are too
     * small to split, and the mini-batch loader thread uses another core.
     */
    threads: 1,
    /**
     * Residual stages: a second network fitted to what the first leaves (see libs/nn
     * train-stages.ts). On the example it cut RMSE from 1.1e-3 to 1.2e-4 with half the epochs.
     */
    stages: 2,
    /** AdamW's weight decay; 0 = plain Adam (a smooth pricer's surrogate does not overfit 2^20 points). */
    weightDecay: 0,
    /** Where the trainer runs the step graph: cpu, or cuda where onnxruntime's CUDA provider is installed. */
    device: 'cpu' as 'cpu' | 'cuda',
    schedule: 'cosine' as const,
    warmup: 0.01,
    plateau: { factor: 0.5, patience: 3 },
    earlyStoppingMinDelta: 0,
    /** A killed run loses at most this much training (the budget: one interval). */
    checkpointSeconds: 60,
    loss: 'mse' as const,
    /** relative loss: |y| is floored at 1% of the output's standard deviation, so values near 0 do not dominate. */
    relativeFloor: 0.01,
  },
  validation: {
    samples: 65536,
    /**
     * Relative thresholds: fractions of each output's range over the validation points. The max
     * error sits at the single hardest of the held-out points, where a greek can turn almost into
     * a step (a put's delta at σ√T ≈ 0.01 missed 0.1% by 2×, with RMSE 10× under its limit), so
     * it gets 0.5%; the RMSE limit, 0.02%, is what says the model is good everywhere else.
     */
    maxAbsErrorRelative: 5e-3,
    rmseRelative: 2e-4,
  },
} as const;

/** The most residual stages a spec may ask for (libs/nn MAX_STAGES). */
export const MAX_STAGES = 8;

/** Sobol direction numbers are 32-bit: sequence indices must stay below 2^32. */
export const MAX_SAMPLES = 2 ** 32 - 1;

/** Pulsar's default maxMessageSize; a chunk travels as one message and must fit under it. */
export const MAX_MESSAGE_BYTES = 5 * 1024 * 1024;

/** Room left in a chunk message for its header and the embedded spec. */
export const CHUNK_HEADER_ALLOWANCE = 64 * 1024;

/** The largest chunk (in samples) whose float32 columns fit one message. */
export function maxChunkSize(columns: number): number {
  return Math.floor((MAX_MESSAGE_BYTES - CHUNK_HEADER_ALLOWANCE) / (4 * columns));
}

/** Default epoch count: about DEFAULTS.training.samplesSeen samples processed in all. */
export function defaultEpochs(samples: number): number {
  const t = DEFAULTS.training;
  return Math.min(t.maxEpochs, Math.max(t.minEpochs, Math.round(t.samplesSeen / samples)));
}
