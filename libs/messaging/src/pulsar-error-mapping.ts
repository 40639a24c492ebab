import { errorMessage } from '@surrogate/core';
import { PulsarErrorCode } from '@surrogate/pulsar';
import { BusError, BusErrorCode } from './bus-error';

/** Codes of the client's own errors that mean the caller passed something invalid. */
const INVALID_ARGUMENT_CODES = new Set<string>([
  PulsarErrorCode.INVALID_ARGUMENT,
  PulsarErrorCode.INVALID_URL,
  PulsarErrorCode.MESSAGE_TOO_LARGE,
  'InvalidTopicName',
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Translates an error of the Pulsar client into the bus port's BusError, keeping it as `cause`:
 * the broker's ConsumerBusy becomes SUBSCRIPTION_TYPE_MISMATCH ("Subscription is of different type")
 * or SUBSCRIPTION_BUSY (an exclusive consumer is connected); invalid names and oversized messages
 * INVALID_ARGUMENT; anything else BROKER_ERROR.
 */
export function toBusError(err: unknown, what: string, details: Record<string, unknown> = {}): BusError {
  if (err instanceof BusError) return err;
  const code = codeOf(err);
  const reason = errorMessage(err);
  const options = { cause: err, details: { ...details, ...(code === undefined ? {} : { adapterCode: code }) } };
  if (code === 'ConsumerBusy') {
    return /different type/i.test(reason)
      ? new BusError(BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH, `${what}: ${reason}`, options)
      : new BusError(BusErrorCode.SUBSCRIPTION_BUSY, `${what}: ${reason}`, options);
  }
  if (code === 'NotAllowedError' && /subscription with the same name already exists/i.test(reason)) {
    // A durable subscription asked for under a non-durable one's name, or the other way round.
    return new BusError(BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH, `${what}: ${reason}`, options);
  }
  if (code !== undefined && INVALID_ARGUMENT_CODES.has(code)) return new BusError(BusErrorCode.INVALID_ARGUMENT, `${what}: ${reason}`, options);
  return new BusError(BusErrorCode.BROKER_ERROR, `${what}: ${reason}`, options);
}
