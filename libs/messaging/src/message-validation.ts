import { BusError, BusErrorCode } from './bus-error';
import type { OutgoingMessage } from './bus';

/** Returns the topic if it is a non-empty string; throws BusError INVALID_ARGUMENT otherwise. */
export function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic.trim().length === 0) {
    throw new BusError(BusErrorCode.INVALID_ARGUMENT, `topic must be a non-empty string, got ${JSON.stringify(topic)}`, { details: { topic } });
  }
  return topic;
}

/** Checks an outgoing message's shape: Uint8Array payload, string key, string-to-string properties. */
export function checkOutgoingMessage(message: OutgoingMessage): void {
  const fail = (why: string): never => {
    throw new BusError(BusErrorCode.INVALID_ARGUMENT, `invalid message: ${why}`);
  };
  if (typeof message !== 'object' || message === null) fail('not an object');
  if (!(message.payload instanceof Uint8Array)) fail('payload must be a Uint8Array');
  if (message.key !== undefined && typeof message.key !== 'string') fail('key must be a string');
  const properties: unknown = message.properties;
  if (properties === undefined) return;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) fail('properties must be an object');
  for (const [name, value] of Object.entries(properties as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`property "${name}" must be a string`);
  }
}
