export { Producer, type ProducerOptions } from './producer';
export { ExperimentTracker, type ExperimentStatus } from './experiment-tracker';
