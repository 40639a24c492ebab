export type { Activation, MlpConfig } from './mlp-config';
export { computeOutputStats, type Normalization } from './normalization';
export { INPUT_TRANSFORMS, applyInputTransform, inputTransformDomainRule, type InputTransform } from './input-transform';
export type { TrainingData, TrainConfig, TrainProgress, TrainedModel, ResidualStage } from './train-types';
export { stageEpochs, MAX_STAGES } from './train-types';
export { trainMlp, type TrainMlpOptions } from './train-mlp';
export { DEFAULT_STEPS_PER_RUN } from './train-loop';
export type { StreamedData } from './train-streamed';
export type { CheckpointSettings } from './worker-protocol';
export {
  checkpointStep,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpointFile,
  removeCheckpointFile,
  writeCheckpointFile,
  type TrainingCheckpoint,
} from './checkpoint';
export type { EarlyStoppingConfig, ScheduleConfig } from './training-control';
export type { LossConfig } from './loss-weights';
export { exportInferenceModel, METADATA_KEYS } from './export-model';
export { InferenceModel } from './inference-model';
export { firstOutsideBox, inputBoxFromMetadata, type InputBox, type OutsideBox } from './input-box';
export { NnError, TrainingAbortedError, TrainingDivergedError, type NnErrorCode } from './nn-error';
export { trainingStepFlops, matmulPeakGflops } from './compute-throughput';
export { DEVICES, checkDevice, type Device } from './ort-session';
export { StreamBatchLoader, type StreamLoaderOptions } from './stream-batch-loader';
export { datasetShardSource, validateShardSource, sourceRows, shardOffsets, type ShardSource, type ShardFile, type ShardLayout } from './shard-source';
export { computeShardStats, computeTargetStats, type ShardStats, type TargetStats } from './shard-stats';
export { makeStreamPlan, DEFAULT_WINDOW_ROWS, type StreamPlan } from './shuffled-rows';
export { type TargetAdjustment } from './target-adjust';
export { stagedModelOnnx, type NormalizedStage } from './staged-model';
