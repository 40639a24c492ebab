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
export { DEFAULTS, MAX_SAMPLES, MAX_STAGES, MAX_MESSAGE_BYTES, maxChunkSize, defaultEpochs } from './defaults';
export { MIN_RELATIVE_BOX_WIDTH, resolveSpec, type ResolveSpecOptions, type SpecPricer } from './resolve-spec';
export { parseSpec, parseSpecDocument, loadSpecDocument, loadSpecFile } from './parse-spec';
export {
  boxProbe,
  MAX_CORNER_INPUTS,
  PROBE_SEQUENCE_POINTS,
  type BoxProbe,
  type BoxProbeSpec,
} from './box-probe';
export { boxIssues, type PricerRules } from './box-check';
export {
  describeSpecPricer,
  checkBoxRemotely,
  resolveSpecReachingPricer,
  loadSpecFileReachingPricer,
} from './remote-pricer-check';
export { specToWire, specFromWire } from './wire-spec';
export { chunkCounts, planChunk, planChunks, type PlannedChunk, type ChunkPurposeName } from './chunk-plan';
export { specToDocument } from './spec-document';
