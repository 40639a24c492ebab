import { errorMessage, type Logger } from '@surrogate/core';
import { BusError, BusErrorCode, type Bus, type LogicalTopic, type SubscriptionType, type Topics } from '@surrogate/messaging';

/** The durable subscriptions under which the services consume, by default. */
export const SERVICE_SUBSCRIPTIONS = {
  /** The producer: commands (`experiments`) and `events`, failover. */
  producer: 'producer',
  /** The datagen workers: `jobs` (or `jobs-<site>`), shared. */
  datagen: 'datagen',
  /** The trainer: `chunks`, failover. */
  trainer: 'trainer',
  /** The trainer: `events` (accepted, cancelled), failover. */
  trainerControl: 'trainer-control',
} as const;

export interface DurableConsumer {
  subscription: string;
  /** The type the service's consumers attach with. */
  type: SubscriptionType;
}

/** The durable subscriptions each logical topic is consumed under: what a publisher to it must not lose. */
export const DURABLE_CONSUMERS: Readonly<Record<LogicalTopic, readonly DurableConsumer[]>> = {
  experiments: [{ subscription: SERVICE_SUBSCRIPTIONS.producer, type: 'failover' }],
  jobs: [{ subscription: SERVICE_SUBSCRIPTIONS.datagen, type: 'shared' }],
  chunks: [{ subscription: SERVICE_SUBSCRIPTIONS.trainer, type: 'failover' }],
  events: [
    { subscription: SERVICE_SUBSCRIPTIONS.producer, type: 'failover' },
    { subscription: SERVICE_SUBSCRIPTIONS.trainerControl, type: 'failover' },
  ],
};

/**
 * Creates the consumers' durable subscriptions (DURABLE_CONSUMERS) on the topics a process is about
 * to publish to, where they do not exist yet. A topic keeps nothing for a subscription that does not
 * exist, so without this a command sent before any producer ever ran, the jobs of a producer started
 * before the first datagen worker, or the chunks priced before the first trainer would be lost or
 * wait for a re-issue. With it the services can start in any order. Existing subscriptions are left
 * as they are. A service given a subscription name of its own (an option of the library, not of the
 * CLI) receives only what is published while that subscription exists.
 *
 * A subscription that cannot be created (e.g. a client-site worker's role may produce to `chunks`
 * but not consume from it) is logged as a warning with the remedy, and the caller goes on: it
 * publishes as before, and only what it publishes before that consumer's first start is at risk.
 * A closed bus still rejects.
 */
export async function ensureServiceSubscriptions(bus: Bus, topics: Topics, published: readonly LogicalTopic[], log: Logger): Promise<void> {
  for (const logical of new Set(published)) {
    for (const consumer of DURABLE_CONSUMERS[logical]) {
      const topic = topics.get(logical);
      try {
        await bus.ensureSubscription({ topic, ...consumer });
      } catch (err) {
        if (err instanceof BusError && err.code === BusErrorCode.BUS_CLOSED) throw err;
        log.warn(
          { topic, subscription: consumer.subscription, err: errorMessage(err) },
          `could not create the subscription its consumers read under: what is published before they first start may be lost; create it with pulsar-admin topics create-subscription -s ${consumer.subscription} ${topic}`,
        );
      }
    }
  }
}
