import { SurrogateError } from '@surrogate/core';

/** Stable codes of the errors the bus throws. */
export const BusErrorCode = {
  /** publish/subscribe after close. */
  BUS_CLOSED: 'BUS_CLOSED',
  /** A second consumer on an exclusive subscription; `unsubscribe` while other consumers are attached. */
  SUBSCRIPTION_BUSY: 'SUBSCRIPTION_BUSY',
  /** `unsubscribe` on a consumer that was closed already. */
  CONSUMER_CLOSED: 'CONSUMER_CLOSED',
  /**
   * A consumer of another type than the consumers already attached to the subscription, or a durable
   * subscription asked for under a non-durable one's name (or the other way round).
   */
  SUBSCRIPTION_TYPE_MISMATCH: 'SUBSCRIPTION_TYPE_MISMATCH',
  /** A malformed topic, message or subscribe option. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The broker (or the connection to it) failed the operation; `cause` holds the adapter's error. */
  BROKER_ERROR: 'BROKER_ERROR',
} as const;

export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

/** An error of the bus itself (as opposed to one thrown by a handler). */
export class BusError extends SurrogateError {
  declare readonly code: BusErrorCode;

  constructor(code: BusErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}
