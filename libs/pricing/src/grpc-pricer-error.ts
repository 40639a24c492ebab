import { SurrogateError } from '@surrogate/core';

/**
 * Error codes of gRPC pricers (client, server helper, URLs and TLS settings).
 *
 * - `INVALID_PRICER_URL`: not a `grpc://host:port/name` or `grpcs://host:port/name` URL.
 * - `GRPC_CONFIG_INVALID`: a TLS file that cannot be read, a bad deadline or retry count.
 * - `REMOTE_UNAVAILABLE`, `REMOTE_DEADLINE_EXCEEDED`, `REMOTE_RESOURCE_EXHAUSTED`: the pricer is
 *   down, too slow or overloaded, still so after every retry (transient: worth a later retry).
 * - `REMOTE_UNKNOWN_PRICER`: the server has no pricer of that name (NOT_FOUND).
 * - `REMOTE_INVALID_ARGUMENT`: the server refused a parameter value; details
 *   `{ pricer, parameter, value, rule, row }`.
 * - `REMOTE_UNAUTHENTICATED`: the server refused the credentials (UNAUTHENTICATED, PERMISSION_DENIED).
 * - `REMOTE_BAD_RESPONSE`: the answer is malformed: the wrong number of values, a description
 *   that is not a valid pricer, another pricer's name.
 * - `REMOTE_NON_FINITE`: the pricer returned NaN or ±∞; details `{ pricer, row, output, value }`.
 * - `REMOTE_FAILED`: any other gRPC status (INTERNAL, UNKNOWN, UNIMPLEMENTED…).
 * - `REMOTE_CANCELLED`: the caller gave up (abort signal, client closed).
 * - `PRICER_NOT_ALLOWED`: the URL's host and port are not among those the client may call
 *   (`allow`): it is not called, and gets no credentials.
 */
export type GrpcPricerErrorCode =
  | 'INVALID_PRICER_URL'
  | 'GRPC_CONFIG_INVALID'
  | 'REMOTE_UNAVAILABLE'
  | 'REMOTE_DEADLINE_EXCEEDED'
  | 'REMOTE_RESOURCE_EXHAUSTED'
  | 'REMOTE_UNKNOWN_PRICER'
  | 'REMOTE_INVALID_ARGUMENT'
  | 'REMOTE_UNAUTHENTICATED'
  | 'REMOTE_BAD_RESPONSE'
  | 'REMOTE_NON_FINITE'
  | 'REMOTE_FAILED'
  | 'REMOTE_CANCELLED'
  | 'PRICER_NOT_ALLOWED';

/** The typed error of gRPC pricers. */
export class GrpcPricerError extends SurrogateError {
  declare readonly code: GrpcPricerErrorCode;

  constructor(
    code: GrpcPricerErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}

const PERMANENT: ReadonlySet<string> = new Set([
  'INVALID_PRICER_URL',
  'PRICER_NOT_ALLOWED',
  'REMOTE_UNKNOWN_PRICER',
  'REMOTE_INVALID_ARGUMENT',
  'REMOTE_NON_FINITE',
]);

/**
 * Whether retrying the same request later cannot help: the request itself is wrong (a parameter
 * out of range, an unknown pricer) or the pricer's answer for these inputs is non-finite. Every
 * other failure (down, slow, overloaded, a malformed answer, a refused token) may pass on a later
 * attempt, so a job that meets one is redelivered.
 */
export function isPermanentGrpcPricerError(err: unknown): boolean {
  return err instanceof GrpcPricerError && PERMANENT.has(err.code);
}
