import { SurrogateError } from '@surrogate/core';

/** Process exit codes: 0 ok, 1 the run failed (or did not pass validation), 2 bad input. */
export const ExitCode = { ok: 0, failed: 1, badInput: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the command line reports as is and exits with. */
export class CliError extends SurrogateError {
  constructor(
    code: string,
    message: string,
    readonly exitCode: ExitCode,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}

export function badInput(code: string, message: string, details?: Record<string, unknown>): CliError {
  return new CliError(code, message, ExitCode.badInput, { details });
}
