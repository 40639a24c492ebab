import { SurrogateError } from '@surrogate/core';

export type ExperimentApiErrorCode =
  /** A request field that cannot be used (the message names field, value and rule); INVALID_ARGUMENT. */
  | 'BAD_REQUEST'
  /** The spec of a Submit is invalid (the SpecError's message), or the producer refused it; INVALID_ARGUMENT. */
  | 'SPEC_INVALID'
  /** The producer holds no such experiment (never submitted, or forgotten after its retention); NOT_FOUND. */
  | 'UNKNOWN_EXPERIMENT'
  /** Submit of an id the producer holds running or succeeded; ALREADY_EXISTS. */
  | 'EXPERIMENT_EXISTS'
  /** Cancel or Watch of an experiment that has ended; FAILED_PRECONDITION. */
  | 'EXPERIMENT_ENDED'
  /** The command was published but the producer did not answer in time; DEADLINE_EXCEEDED. */
  | 'NO_ANSWER'
  /** The API server is stopping; UNAVAILABLE. */
  | 'API_STOPPING'
  /** The API server could not listen (address in use, bad TLS material…). */
  | 'SERVER_START_FAILED';

/** A refusal of the ExperimentService (the gRPC server maps each code to a status). */
export class ExperimentApiError extends SurrogateError {
  declare readonly code: ExperimentApiErrorCode;

  constructor(
    code: ExperimentApiErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}
