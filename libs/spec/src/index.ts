export type {
  ExperimentSpec,
  InputRange,
  InputTransform,
  TrainingSettings,
  ValidationSettings,
  OutputThreshold,
  Activation,
  SamplerName,
} from './experiment-spec';
export { ACTIVATIONS, INPUT_TRANSFORMS, SAMPLERS } from './experiment-spec';
export { SpecError, formatIssue, type SpecIssue, type SpecErrorCode } from './spec-error';
export { DEFAULTS, MAX_SAMPLES, MAX_MESSAGE_BYTES, maxChunkSize, defaultEpochs } from './defaults';
export { resolveSpec } from './resolve-spec';
export { parseSpec, parseSpecDocument, loadSpecFile } from './parse-spec';
export { specToWire, specFromWire } from './wire-spec';
export { chunkCounts, planChunk, planChunks, type PlannedChunk, type ChunkPurposeName } from './chunk-plan';
