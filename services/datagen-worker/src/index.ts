export { DatagenWorker, type DatagenWorkerOptions } from './datagen-worker';
export { PricingPool, PricingPoolError } from './pricing-pool';
export type { ChunkTask, ChunkSlice } from './chunk-task';
