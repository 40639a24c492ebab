export type { Activation, MlpConfig } from './mlp-config';
export { computeOutputStats, type Normalization } from './normalization';
export type { TrainingData, TrainConfig, TrainProgress, TrainedModel } from './train-types';
export { trainMlp } from './train-mlp';
export { exportInferenceModel, METADATA_KEYS } from './export-model';
export { InferenceModel } from './inference-model';
export { DEFAULT_TRAINING } from './defaults';
export { NnError, TrainingAbortedError, TrainingDivergedError, type NnErrorCode } from './nn-error';
