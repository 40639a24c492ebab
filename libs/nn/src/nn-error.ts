import { SurrogateError } from '@surrogate/core';

/** Stable codes of the errors this package throws on purpose. */
export type NnErrorCode =
  | 'NN_INVALID_CONFIG'
  | 'NN_INVALID_DATA'
  | 'NN_INVALID_MODEL'
  | 'NN_MODEL_CLOSED'
  /** The requested execution provider (e.g. CUDA) is not installed. */
  | 'NN_DEVICE_UNAVAILABLE'
  /** A checkpoint file cannot be read back intact (torn, truncated, altered, not a checkpoint). */
  | 'CHECKPOINT_CORRUPT'
  /** A checkpoint belongs to another run (another spec or dataset) or does not fit this model. */
  | 'CHECKPOINT_MISMATCH'
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

/** The loss became NaN, infinite or absurdly large (DIVERGED_LOSS); `details.step` is the (0-based) optimizer step where it happened. */
export class TrainingDivergedError extends NnError {
  readonly step: number;

  constructor(step: number, loss: number, details: Record<string, unknown> = {}) {
    const lr = typeof details.learningRate === 'number' ? details.learningRate : undefined;
    const cause =
      lr === undefined
        ? ''
        : `; likely cause: a learning rate too high for this data (${lr.toPrecision(3)} at that step) — lower training.learningRate, or check the data for extreme values`;
    const size = Number.isFinite(loss) ? ` (normalized units, where predicting the mean scores about 1)` : '';
    super('TRAINING_DIVERGED', `training diverged: loss ${loss}${size} at step ${step}${cause}`, { details: { ...details, step, loss } });
    this.step = step;
  }
}
