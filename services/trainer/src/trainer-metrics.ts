import type { Counter, Histogram, MetricsRegistry } from '@surrogate/observability';

/** Buckets for a whole training, in seconds: 1 s to 1 day. */
const TRAINING_SECONDS_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400];

/** What the trainer counts, for Prometheus (`surrogate trainer --metrics HOST:PORT`). */
export class TrainerMetrics {
  /** Chunks received, by purpose and result (stored, duplicate). */
  readonly chunks: Counter;
  /** Trainings finished, by outcome: passed, failed_validation (a model, but over its limits), failed, aborted. */
  readonly trainings: Counter;
  readonly trainingSeconds: Histogram;

  constructor(registry: MetricsRegistry, slots: { readonly running: number; readonly queued: number }) {
    this.chunks = registry.counter('surrogate_trainer_chunks_total', 'Data chunks received, by purpose and result (stored, duplicate).', ['purpose', 'result']);
    this.trainings = registry.counter('surrogate_trainer_trainings_total', 'Trainings finished, by outcome (passed, failed_validation, failed, aborted).', ['outcome']);
    this.trainingSeconds = registry.histogram('surrogate_trainer_training_seconds', 'Time from a complete dataset to the model and report, in seconds (trainings that finished).', TRAINING_SECONDS_BUCKETS);
    registry.gauge('surrogate_trainer_trainings_running', 'Trainings running now.', [], (g) => g.set(slots.running));
    registry.gauge('surrogate_trainer_trainings_queued', 'Complete datasets waiting for a training slot (--max-trainings).', [], (g) => g.set(slots.queued));
  }
}
