export { Producer, type ProducerOptions } from './producer';
export { ExperimentTracker, type ExperimentStatus } from './experiment-tracker';
export { HELD_CHUNKS_FIELD, HeldChunksError, heldChunksFromWire, heldChunksToWire, type HeldChunks } from './held-chunks';
