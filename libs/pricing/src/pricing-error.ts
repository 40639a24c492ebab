import { SurrogateError } from '@surrogate/core';

/**
 * Error codes raised by `@surrogate/pricing`.
 *
 * - `UNKNOWN_PRICER`: no pricer of that name is registered (the message lists the known ones).
 * - `DUPLICATE_PRICER`: a different pricer object is already registered under that name.
 * - `INVALID_PRICER`: a pricer handed to `registerPricer` is malformed.
 * - `PRICER_MODULE_FAILED`: a pricer module could not be loaded (the message names the path).
 * - `UNKNOWN_PARAMETER`, `MISSING_PARAMETER`, `INVALID_PARAMETER`: parameter validation;
 *   `details` is `{ parameter, value, rule }`.
 * - `UNKNOWN_OUTPUT`: a requested output is not one the pricer produces.
 * - `PRICER_FAILED`: a pricer threw while evaluating a point.
 * - `INDEX_OUT_OF_RANGE`: a sequence index beyond what a sampler can produce.
 * - `INVALID_ARGUMENT`: any other malformed argument (seeds, dimensions, columns, boxes).
 */
export type PricingErrorCode =
  | 'UNKNOWN_PRICER'
  | 'DUPLICATE_PRICER'
  | 'INVALID_PRICER'
  | 'PRICER_MODULE_FAILED'
  | 'UNKNOWN_PARAMETER'
  | 'MISSING_PARAMETER'
  | 'INVALID_PARAMETER'
  | 'UNKNOWN_OUTPUT'
  | 'PRICER_FAILED'
  | 'INDEX_OUT_OF_RANGE'
  | 'INVALID_ARGUMENT';

/** The typed error of this package. */
export class PricingError extends SurrogateError {
  declare readonly code: PricingErrorCode;

  constructor(
    code: PricingErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}
