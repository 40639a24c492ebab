import { randomBytes } from 'node:crypto';
import type { Bus } from '@surrogate/messaging';
import type { v1 } from '@surrogate/proto';
import { Codecs } from './wire-codec';

/** A caller's view of the events topic from the moment it subscribed; stop() ends it. */
export interface EventsFollower {
  /** Unsubscribes (the broker drops the subscription). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Follows the events topic from now on under a NON-DURABLE exclusive subscription of its own
 * (`<purpose>-<random>`): the broker keeps nothing for it once it is stopped, or once this
 * process's connection is gone, were the process killed. `handler` sees every event, of every
 * experiment, in order.
 */
export async function followEvents(
  bus: Bus,
  topic: string,
  purpose: string,
  handler: (event: v1.ExperimentEvent) => void,
): Promise<EventsFollower> {
  const name = `${purpose.slice(0, 120)}-${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9._-]+/g, '-');
  const subscription = await bus.subscribe({
    topic,
    subscription: name,
    type: 'exclusive',
    durable: false,
    initialPosition: 'latest',
    handler: (m) => handler(Codecs.event.decode(m.payload)),
  });
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= subscription.unsubscribe().catch(() => subscription.close().catch(() => undefined))),
  };
}
