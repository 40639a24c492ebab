import { SurrogateError } from '@surrogate/core';

export const MESSAGE_REJECTED = 'MESSAGE_REJECTED';

/**
 * Thrown by a handler for a message that can never succeed (undecodable, invalid). The bus
 * dead-letters the message at once, with this error's message as the reason, instead of retrying.
 */
export class RejectMessageError extends SurrogateError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(MESSAGE_REJECTED, message, options);
  }
}

/** True for a RejectMessageError, also one from another copy of this package. */
export function isRejectMessageError(err: unknown): boolean {
  if (err instanceof RejectMessageError) return true;
  return err instanceof Error && (err as { code?: unknown }).code === MESSAGE_REJECTED;
}
