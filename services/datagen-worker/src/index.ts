export { DatagenWorker, DEFAULT_EVENTS_LOOKBACK_MS, type DatagenWorkerOptions } from './datagen-worker';
export { PricingPool, PricingPoolError } from './pricing-pool';
export type { ChunkTask, ChunkSlice } from './chunk-task';
export { EndedExperiments, EndedExperimentsError, type EndKind, type EndedSubmission, type EndedExperimentsOptions } from './ended-experiments';
