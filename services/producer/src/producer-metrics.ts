import type { Counter, MetricsRegistry } from '@surrogate/observability';
import { EXPERIMENT_STATUSES, type ExperimentStatus } from './experiment-status';

/** What the producer counts, for Prometheus (`surrogate producer --metrics HOST:PORT`). */
export class ProducerMetrics {
  /** Commands handled, by kind (submit, cancel, invalid). */
  readonly commands: Counter;
  /** Jobs published, by kind: first (attempt 1) or reissue. */
  readonly jobs: Counter;
  readonly chunksLanded: Counter;

  constructor(registry: MetricsRegistry, statuses: () => Iterable<ExperimentStatus>) {
    this.commands = registry.counter('surrogate_producer_commands_total', 'Experiment commands handled, by kind (submit, cancel, invalid).', ['command']);
    this.jobs = registry.counter('surrogate_producer_jobs_published_total', 'Data-generation jobs published, by kind (first, reissue).', ['kind']);
    this.chunksLanded = registry.counter('surrogate_producer_chunks_landed_total', 'Chunks the trainer confirmed stored (duplicates not counted).');
    registry.gauge('surrogate_producer_experiments', 'Experiments this producer holds in memory, by status (an ended one for 10 min by default).', ['status'], (g) => {
      const counts = new Map<ExperimentStatus, number>(EXPERIMENT_STATUSES.map((s) => [s, 0]));
      for (const s of statuses()) counts.set(s, (counts.get(s) ?? 0) + 1);
      for (const [status, n] of counts) g.set(n, { status });
    });
  }
}
