import type { Activation } from './mlp-config';

/** Training defaults, tuned on the Black–Scholes headline example (see scripts/tune-black-scholes.js). */
export const DEFAULT_TRAINING: {
  readonly hiddenLayers: readonly number[];
  readonly activation: Activation;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly finalLearningRate: number;
} = {
  hiddenLayers: [64, 64, 64],
  activation: 'silu',
  epochs: 200,
  batchSize: 256,
  learningRate: 1e-2,
  finalLearningRate: 1e-5,
};
