import { SurrogateError } from '@surrogate/core';

/** Codes: METRIC_INVALID (a name, label or value that breaks the exposition rules), METRICS_LISTEN_FAILED. */
export class ObservabilityError extends SurrogateError {}
