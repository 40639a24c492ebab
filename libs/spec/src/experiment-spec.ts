/** The resolved experiment spec: every default filled in, every value checked. */

export const ACTIVATIONS = ['tanh', 'silu', 'softplus', 'gelu', 'relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Training-point samplers: the pricing library's (sobol, sobol-unscrambled, lhs, uniform). */
export { SAMPLER_KINDS as SAMPLERS, type SamplerKind as SamplerName } from '@surrogate/pricing';
import type { SamplerKind as SamplerName } from '@surrogate/pricing';

/**
 * How the network sees an input: the raw value (`linear`), its square root or its logarithm, each
 * then mapped from the box onto [-1, 1]. The exported model applies it itself (it takes raw units).
 */
export const INPUT_TRANSFORMS = ['linear', 'sqrt', 'log'] as const;
export type InputTransform = (typeof INPUT_TRANSFORMS)[number];

export interface InputRange {
  name: string;
  min: number;
  max: number;
  /** Default: the pricer parameter's declared scaling where the box allows it, else linear. */
  transform: InputTransform;
}

export interface TrainingSettings {
  hiddenLayers: number[];
  activation: Activation;
  epochs: number;
  batchSize: number;
  learningRate: number;
  finalLearningRate: number;
  /** onnxruntime intra-op threads; 0 = one per core. */
  threads: number;
  /** Networks trained one after another, each on what the earlier ones left; the model is their sum. */
  stages: number;
  /** AdamW's decoupled weight decay on the weights; 0 = plain Adam. */
  weightDecay: number;
  /** cpu, or cuda (onnxruntime's CUDA provider must be installed where the trainer runs). */
  device: 'cpu' | 'cuda';
  /** cosine: warm-up, then a log-cosine decay to finalLearningRate; plateau: reduce on plateau. */
  schedule: Schedule;
  /** Fraction of each stage's steps spent warming the learning rate up, in [0, 0.5]. */
  warmup: number;
  /** Reduce on plateau: the rate is multiplied by `factor` after more than `patience` epochs without improvement. */
  plateau: { factor: number; patience: number };
  /** Stop a stage after `patience` epochs whose validation loss does not beat the best by `minDelta` (relative); null = off. */
  earlyStopping: { patience: number; minDelta: number } | null;
  /** Seconds between checkpoints of a running training; 0 = no checkpoints. */
  checkpointSeconds: number;
  /** mse, or relative: the squared error divided by (|y| + relativeFloor·σ_y)², per output. */
  loss: Loss;
  /** Per-output loss weights, in the order of `outputs` (1 each by default). */
  lossWeights: number[];
  /** relative loss: the floor under |y|, as a fraction of the output's standard deviation. */
  relativeFloor: number;
}

export const SCHEDULES = ['cosine', 'plateau'] as const;
export type Schedule = (typeof SCHEDULES)[number];
export const LOSSES = ['mse', 'relative'] as const;
export type Loss = (typeof LOSSES)[number];

export interface OutputThreshold {
  output: string;
  maxAbsError: number;
  rmse: number;
  /** When true, both thresholds are fractions of the output's range over the validation points. */
  relative: boolean;
}

export interface ValidationSettings {
  samples: number;
  thresholds: OutputThreshold[];
}

export interface ExperimentSpec {
  name: string;
  pricer: string;
  fixed: Record<string, number | string>;
  inputs: InputRange[];
  outputs: string[];
  samples: number;
  chunkSize: number;
  seed: number;
  sampler: SamplerName;
  training: TrainingSettings;
  validation: ValidationSettings;
}
