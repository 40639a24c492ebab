import { createLogger, type Logger } from '@surrogate/core';
import type { Bus, EnsureSubscriptionOptions, OutgoingMessage, PublishReceipt, SubscribeOptions, Subscription } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { checkOutgoingMessage, checkTopic } from './message-validation';
import { MemorySubscription, type MemorySubscriptionContext, type MemorySubscriptionStats } from './memory-subscription';
import { MemoryTopic } from './memory-topic';
import { resolveSubscribeOptions, resolveSubscriptionTarget } from './subscribe-options';

export interface MemoryBusOptions {
  /** Shown in errors and logs. Default `memory`. */
  name?: string;
  /** Default: a pino logger named `messaging.<name>`. */
  logger?: Logger;
  /**
   * How long every topic keeps a message after it was published, whether or not a subscription holds
   * it (Pulsar's retention policy): what an `earliest` subscription or a `startRollbackMs` can still
   * read. Default 0: only what some subscription has not acked (Pulsar without retention).
   */
  retentionMs?: number;
}

/**
 * The embedded adapter: topics, durable and non-durable subscriptions, redelivery and dead letters in one process,
 * with Pulsar's semantics (see the bus port and the conformance suite). Nothing survives `close()`.
 */
export class MemoryBus implements Bus {
  readonly name: string;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private readonly topics = new Map<string, MemoryTopic>();
  private closing: Promise<void> | undefined;
  private consumerIds = 0;
  private readonly context: MemorySubscriptionContext;
  private readonly retentionMs: number;

  constructor(options: MemoryBusOptions = {}) {
    this.name = options.name ?? 'memory';
    const retentionMs = options.retentionMs ?? 0;
    if (!Number.isSafeInteger(retentionMs) || retentionMs < 0) {
      throw new BusError(BusErrorCode.INVALID_ARGUMENT, `retentionMs must be a whole number >= 0, got ${String(options.retentionMs)}`, {
        details: { option: 'retentionMs', value: options.retentionMs },
      });
    }
    this.retentionMs = retentionMs;
    const log = options.logger ?? createLogger({ name: `messaging.${this.name}` });
    this.context = {
      isOpen: () => this.state === 'open',
      append: (topic, message) => this.topic(topic).append(message),
      nextConsumerId: () => ++this.consumerIds,
      remove: (subscription) => {
        const topic = this.topics.get(subscription.topic);
        if (topic?.subscriptions.get(subscription.name) === subscription) topic.subscriptions.delete(subscription.name);
      },
      log,
    };
  }

  /** Accepted at once. Still allowed while `close()` waits for handlers, which may publish before they ack. */
  async publish(topic: string, message: OutgoingMessage): Promise<PublishReceipt> {
    if (this.state === 'closed') throw this.closedError();
    checkTopic(topic);
    checkOutgoingMessage(message);
    return { messageId: this.topic(topic).append(message).messageId };
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.state !== 'open') throw this.closedError();
    const resolved = resolveSubscribeOptions(options);
    const topic = this.topic(resolved.topic);
    let subscription = topic.subscriptions.get(resolved.subscription);
    if (subscription !== undefined && subscription.durable !== resolved.durable) {
      const kind = (durable: boolean): string => (durable ? 'durable' : 'non-durable');
      throw new BusError(
        BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH,
        `subscription "${resolved.subscription}" on ${topic.name} is ${kind(subscription.durable)}; cannot attach a ${kind(resolved.durable)} consumer`,
        { details: { topic: topic.name, subscription: resolved.subscription, durable: subscription.durable, requested: resolved.durable } },
      );
    }
    if (subscription === undefined) {
      const since = Date.now() - resolved.startRollbackMs;
      const start =
        resolved.startRollbackMs > 0
          ? topic.retained().filter((message) => message.publishTime >= since)
          : resolved.initialPosition === 'earliest'
            ? topic.retained()
            : [];
      subscription = new MemorySubscription(topic.name, resolved.subscription, this.context, start, resolved.durable);
      topic.subscriptions.set(resolved.subscription, subscription);
    }
    return subscription.attach(resolved);
  }

  /** Creates the subscription object without a consumer; `type` takes effect when consumers attach. */
  async ensureSubscription(options: EnsureSubscriptionOptions): Promise<void> {
    if (this.state !== 'open') throw this.closedError();
    const target = resolveSubscriptionTarget(options);
    const topic = this.topic(target.topic);
    const existing = topic.subscriptions.get(target.subscription);
    if (existing === undefined) {
      const start = target.initialPosition === 'earliest' ? topic.retained() : [];
      topic.subscriptions.set(target.subscription, new MemorySubscription(topic.name, target.subscription, this.context, start, true));
    } else if (!existing.durable) {
      throw new BusError(
        BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH,
        `subscription "${target.subscription}" on ${topic.name} is non-durable; it cannot be kept for later consumers`,
        { details: { topic: topic.name, subscription: target.subscription, durable: false, requested: true } },
      );
    }
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.state = 'closing';
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** The state of one subscription (for tests and embedded-mode metrics); undefined if it does not exist. */
  stats(topic: string, subscription: string): MemorySubscriptionStats | undefined {
    return this.topics.get(topic)?.subscriptions.get(subscription)?.stats();
  }

  private async shutdown(): Promise<void> {
    const subscriptions = [...this.topics.values()].flatMap((topic) => [...topic.subscriptions.values()]);
    for (const subscription of subscriptions) subscription.stop();
    await Promise.all(subscriptions.map((subscription) => subscription.closeConsumers()));
    this.state = 'closed';
    this.topics.clear();
  }

  private topic(name: string): MemoryTopic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new MemoryTopic(name, this.topics.size, this.retentionMs);
      this.topics.set(name, topic);
    }
    return topic;
  }

  private closedError(): BusError {
    return new BusError(BusErrorCode.BUS_CLOSED, `bus "${this.name}" is closed`, { details: { bus: this.name } });
  }
}

export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  return new MemoryBus(options);
}
