import { randomBytes } from 'node:crypto';

/**
 * Prefix of the routing key the pulsar adapter gives a message published without a key. Pulsar hashes
 * every keyless message to the same Key_Shared consumer; a random key per message spreads them over
 * the consumers instead (by hash, not by load). Consumers of the bus strip it again, so handlers see
 * `key: undefined`. A key of your own must not start with this prefix.
 */
export const KEYLESS_KEY_PREFIX = 'surrogate-keyless:';

/** A fresh random routing key for a keyless message. */
export function keylessKey(): string {
  return `${KEYLESS_KEY_PREFIX}${randomBytes(8).toString('hex')}`;
}

/** The key as the publisher gave it: undefined for a synthetic keyless key. */
export function publishedKey(key: string | undefined): string | undefined {
  return key === undefined || key.startsWith(KEYLESS_KEY_PREFIX) ? undefined : key;
}
