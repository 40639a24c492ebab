export { Producer, type ProducerOptions } from './producer';
export { ExperimentTracker } from './experiment-tracker';
export { EXPERIMENT_STATUSES, isEnded, type ExperimentStatus } from './experiment-status';
export { HELD_CHUNKS_FIELD, HeldChunksError, heldChunksFromWire, heldChunksToWire, type HeldChunks } from './held-chunks';
export type { ChunkState, ExperimentRecord } from './experiment-record';
export { DEFAULT_ENDED_TTL_MS, type ExperimentStore } from './experiment-store';
export { ExperimentStoreError } from './experiment-store-error';
export { MemoryExperimentStore, type MemoryExperimentStoreOptions } from './memory-experiment-store';
export {
  openRedisExperimentStore,
  RedisExperimentStore,
  type ExperimentKeys,
  type RedisExperimentStoreOptions,
} from './redis-experiment-store';
export { checkRedisUrl, redactRedisUrl } from './redis-url';
export { ExperimentApiServer, type ExperimentApiServerOptions } from './experiment-api-server';
export {
  DEFAULT_ANSWER_TIMEOUT_MS,
  DEFAULT_PAGE_SIZE,
  ExperimentApi,
  isTerminal,
  MAX_EXPERIMENT_ID_LENGTH,
  MAX_PAGE_SIZE,
  type ExperimentApiOptions,
  type ExperimentWatch,
} from './experiment-api';
export { ExperimentApiError, type ExperimentApiErrorCode } from './experiment-api-error';
export { EXPERIMENT_SERVICE, EXPERIMENT_SERVICE_NAME } from './experiment-service-definition';
export { experimentServiceClient, type ExperimentServiceClient, type UnaryCall } from './experiment-service-client';
export { experimentInfo, statusFromWire, statusToWire } from './experiment-info';
export type { ExperimentListQuery, ExperimentPage } from './experiment-store';
