import type { Counter, Gauge, Histogram, MetricsRegistry } from '@surrogate/observability';

/** Buckets for one chunk's pricing, in seconds: 10 ms to 30 min. */
const CHUNK_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** What a datagen worker counts, for Prometheus (`surrogate datagen-worker --metrics HOST:PORT`). */
export class DatagenMetrics {
  /** Jobs finished, by outcome: priced, skipped (experiment ended), failed (retried or final), non_finite. */
  readonly jobs: Counter;
  readonly samples: Counter;
  readonly chunkSeconds: Histogram;
  readonly inProgress: Gauge;
  /** Ended experiments this worker knows of (bounded). */
  readonly endedKnown: Gauge;

  constructor(registry: MetricsRegistry, endedKnown: () => number) {
    this.jobs = registry.counter('surrogate_datagen_jobs_total', 'Data-generation jobs finished, by outcome (priced, skipped, failed, non_finite) and pricer.', ['outcome', 'pricer']);
    this.samples = registry.counter('surrogate_datagen_samples_total', 'Samples priced and published, by pricer.', ['pricer']);
    this.chunkSeconds = registry.histogram('surrogate_datagen_chunk_seconds', 'Time to price a chunk (sampling and pricing, not publishing), in seconds, by pricer.', CHUNK_SECONDS_BUCKETS, ['pricer']);
    this.inProgress = registry.gauge('surrogate_datagen_jobs_in_progress', 'Jobs being priced now.');
    this.endedKnown = registry.gauge('surrogate_datagen_ended_experiments_known', 'Cancelled or failed experiments this worker remembers, whose queued jobs it skips.', [], (g) =>
      g.set(endedKnown()),
    );
  }
}
