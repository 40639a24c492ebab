import { SurrogateError } from '@surrogate/core';

export type BenchErrorCode =
  /** The reference tool (pulsar-perf, g++, …) could not be found or run. */
  | 'BENCH_REFERENCE_UNAVAILABLE'
  /** A benchmark option is out of range. */
  | 'BENCH_BAD_OPTION'
  /** The benchmark itself failed (a send failed, a process exited non-zero, …). */
  | 'BENCH_FAILED';

export class BenchError extends SurrogateError {
  constructor(
    code: BenchErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}
