import type { Counter, Histogram, MetricsRegistry } from '@surrogate/observability';

/** What the model server counts, for Prometheus (`surrogate serve --metrics HOST:PORT`). */
export class ModelServerMetrics {
  readonly calls: Counter;
  readonly rows: Counter;
  readonly seconds: Histogram;

  constructor(registry: MetricsRegistry) {
    this.calls = registry.counter('surrogate_inference_calls_total', 'InferenceService calls answered, by method and gRPC status code.', ['method', 'code']);
    this.rows = registry.counter('surrogate_inference_predicted_rows_total', 'Rows predicted (successful Predict calls only).');
    this.seconds = registry.histogram(
      'surrogate_inference_call_seconds',
      'Time from a call reaching the handler to its answer, in seconds, by method.',
      undefined,
      ['method'],
    );
  }

  /** Registers the model's identity as an info-style gauge (value 1). */
  static describeModel(registry: MetricsRegistry, model: { spec: string; version: string; pricer: string }): void {
    registry.gauge('surrogate_model_info', 'The model served: spec name, version (experiment id), pricer replaced.', ['spec', 'version', 'pricer']).set(1, model);
  }
}
