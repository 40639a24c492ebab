export { TrainerService, type TrainerOptions } from './trainer-service';
export { DatasetStore, DatasetStoreError, type DatasetStatus, type Samples } from './dataset-store';
export { validationMetrics, type ValidationResult, type OutputMetrics } from './validation-metrics';
export { runTraining, streamsTrainingSetOf, TrainingRunError, type TrainingRunResult } from './training-run';
export { checkpointFingerprint, CHECKPOINT_FILE } from './checkpoint-fingerprint';
export { sameTraining, trainingIdentity, withRunSettings } from './training-identity';
export { trainingRefusal, type TrainingRefusal } from './training-refusal';
export { DataDirLock, DataDirLockedError, LOCK_FILE } from './data-dir-lock';
