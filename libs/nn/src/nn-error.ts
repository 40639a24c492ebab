import { SurrogateError } from '@surrogate/core';

/** Stable codes of the errors this package throws on purpose. */
export type NnErrorCode =
  | 'NN_INVALID_CONFIG'
  | 'NN_INVALID_DATA'
  | 'NN_INVALID_MODEL'
  | 'NN_MODEL_CLOSED'
  /** The requested execution provider (e.g. CUDA) is not installed. */
  | 'NN_DEVICE_UNAVAILABLE'
  | 'TRAINING_ABORTED'
  | 'TRAINING_DIVERGED'
  | 'TRAINING_FAILED';

/** Base class of every error @surrogate/nn throws on purpose; `code` says which rule broke. */
export class NnError extends SurrogateError {
  declare readonly code: NnErrorCode;

  constructor(code: NnErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}

/** Training was stopped through its AbortSignal; the worker was terminated. */
export class TrainingAbortedError extends NnError {
  constructor(message = 'training aborted', options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('TRAINING_ABORTED', message, options);
  }
}

/** The loss became NaN or infinite; `details.step` is the (0-based) optimizer step where it happened. */
export class TrainingDivergedError extends NnError {
  readonly step: number;

  constructor(step: number, loss: number, details: Record<string, unknown> = {}) {
    super('TRAINING_DIVERGED', `training diverged: loss ${loss} at step ${step}`, { details: { ...details, step, loss } });
    this.step = step;
  }
}
