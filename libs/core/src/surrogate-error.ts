/**
 * Base class of every error the project throws on purpose.
 *
 * `code` is a stable, machine-readable identifier (SCREAMING_SNAKE_CASE) that callers branch on;
 * the message is for people. `cause` keeps the underlying error so nothing is lost when an error
 * crosses a layer. `details` carries the structured facts behind the message (the field, the value,
 * the rule) for logs and for JSON output.
 */
export class SurrogateError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** A plain object for logs and JSON output; includes the cause chain's messages. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    if (Object.keys(this.details).length > 0) out.details = this.details;
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof SurrogateError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return String(cause);
}

/** The message of anything thrown, for logs and events. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
