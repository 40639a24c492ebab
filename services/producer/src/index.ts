export { Producer, type ProducerOptions } from './producer';
export { ExperimentTracker, type ExperimentStatus } from './experiment-tracker';
export {
  encodeHeldChunks,
  HELD_CHUNKS_PROPERTY,
  HeldChunksError,
  parseHeldChunks,
  type HeldChunks,
} from './held-chunks';
