import { SurrogateError } from '@surrogate/core';

/**
 * A failure of the producer's experiment store. Codes: STORE_UNAVAILABLE (the store cannot be
 * reached or failed a command), STORE_BAD_URL (a Redis URL that cannot be used),
 * STORE_UNKNOWN_EXPERIMENT (an update of an experiment the store does not hold, or no longer),
 * STORE_CORRUPT_RECORD (a stored record that cannot be read back).
 */
export class ExperimentStoreError extends SurrogateError {}
