export { Counter } from './counter';
export { Gauge } from './gauge';
export { Histogram, LATENCY_BUCKETS_SECONDS } from './histogram';
export type { Labels } from './exposition';
export type { Metric } from './metric';
export { MetricsRegistry, EXPOSITION_CONTENT_TYPE } from './metrics-registry';
export { registerProcessMetrics } from './process-metrics';
export { ObservabilityServer, type ObservabilityServerOptions, type ReadinessCheck } from './observability-server';
export { ObservabilityError } from './observability-error';
