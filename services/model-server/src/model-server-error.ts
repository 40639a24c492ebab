import { SurrogateError } from '@surrogate/core';

export type ModelServerErrorCode =
  /** The model file is missing, not ONNX, or not a Surrogate model (metadata missing). */
  | 'MODEL_INVALID'
  /** The server could not listen (address in use, bad TLS material…). */
  | 'SERVER_START_FAILED';

export class ModelServerError extends SurrogateError {
  constructor(code: ModelServerErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}
