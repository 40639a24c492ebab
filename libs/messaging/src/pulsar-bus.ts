import { randomBytes } from 'node:crypto';
import { createLogger, errorMessage, safeUrl, type Logger } from '@surrogate/core';
import {
  PulsarClient,
  type BatchingOptions,
  type CompressionName,
  type Producer,
  type TlsOptions,
  type TokenSource,
} from '@surrogate/pulsar';
import type { Bus, EnsureSubscriptionOptions, InitialPosition, OutgoingMessage, PublishReceipt, SubscribeOptions, Subscription, SubscriptionType } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { keylessKey } from './keyless-key';
import { checkOutgoingMessage, checkTopic } from './message-validation';
import { toBusError } from './pulsar-error-mapping';
import { PulsarSubscription, type PulsarSubscriptionContext } from './pulsar-subscription';
import { RedeliveryMemory } from './redelivery-memory';
import { resolveSubscribeOptions, resolveSubscriptionTarget } from './subscribe-options';

/** Name of the subscription the pulsar bus creates on a dead-letter topic so that Pulsar keeps its messages. */
export const DEFAULT_DEAD_LETTER_SUBSCRIPTION = 'dead-letters';

export interface PulsarBusOptions {
  /** pulsar://host:6650 or pulsar+ssl://host:6651. */
  serviceUrl: string;
  /** JWT for token authentication (or a function returning the current one). Never logged. */
  token?: TokenSource;
  /** TLS settings for pulsar+ssl://. */
  tls?: TlsOptions;
  /** Default: a pino logger named `messaging.pulsar`. The client logs through it as well. */
  logger?: Logger;
  /** Bound on opening a connection (client default 10000 ms). */
  connectTimeoutMs?: number;
  /** Bound on each broker request and on creating a producer or consumer (client default 30000 ms). */
  operationTimeoutMs?: number;
  /**
   * Producer batching. Default false: every message is sent on its own, so `publish` resolves as
   * soon as the broker has stored it. With batching on, keyless messages (which get a random
   * routing key, see KEYLESS_KEY_PREFIX) are not batched together, because batches are per key.
   */
  batching?: BatchingOptions | false;
  /** Payload compression of published messages (default none). */
  compression?: CompressionName;
  /**
   * Pulsar keeps a message only while a subscription has not acked it, so a dead letter published to
   * a topic without a subscription is lost. Before the first dead letter to a topic, the bus therefore
   * creates this durable subscription on it (like the Java client's
   * DeadLetterPolicy.initialSubscriptionName); it keeps every dead letter until someone consumes or
   * clears it. false: create none. Default `dead-letters`.
   */
  deadLetterSubscription?: string | false;
  /** Failed deliveries remembered per bus for redelivery counts and dead-letter reasons (default 10000). */
  redeliveryMemorySize?: number;
}

type State = 'open' | 'closing' | 'closed';

/** The priority level of the consumer `ensureSubscription` attaches for an instant (Pulsar's levels are int32, lower first). */
const LOWEST_FAILOVER_PRIORITY = 2 ** 31 - 1;

/** 2024-01-01T00:00:00Z: origin of the failover priority levels (see `failoverPriority`). */
const FAILOVER_PRIORITY_EPOCH_MS = Date.UTC(2024, 0, 1);

/**
 * The bus port on Apache Pulsar, through the pure-TypeScript client `@surrogate/pulsar`.
 *
 * - `publish` resolves once the broker has stored the message; the receipt's id is
 *   `MessageId.toString()`, the same string the delivery carries. Producers are created lazily per
 *   topic and cached. A message without a key gets a random routing key, so that key-shared
 *   subscriptions spread keyless messages; consumers of the bus strip it again.
 * - `subscribe` attaches a consumer with `receiverQueueSize: 0` and `concurrency` receive loops
 *   (flow permits = idle handlers). The ack timeout and nack delay are the client's; the dead-letter
 *   decision and properties are the bus's (see PulsarSubscription).
 * - Redelivery counts: the broker counts redeliveries of shared and key-shared subscriptions only,
 *   and forgets them when a subscription's last consumer leaves; the client counts its own. The bus
 *   adds what it remembers of failed deliveries on the same subscription (RedeliveryMemory), so a
 *   consumer that takes over within this process sees the count go on. Across processes, a count on
 *   an exclusive or failover subscription starts again at 0 after a change of consumer.
 * - `close` closes the subscriptions (in-flight handlers finish and may still publish), then the
 *   producers and the client.
 */
export class PulsarBus implements Bus {
  private state: State = 'open';
  private closing: Promise<void> | undefined;
  private readonly producers = new Map<string, Promise<Producer>>();
  private readonly subscriptions = new Set<PulsarSubscription>();
  private readonly retention = new Map<string, Promise<void>>();
  private lastFailoverPriority = 0;
  private readonly log: Logger;
  private readonly context: PulsarSubscriptionContext;

  constructor(
    private readonly client: PulsarClient,
    private readonly options: PulsarBusOptions,
    log: Logger,
  ) {
    this.log = log;
    this.context = {
      log,
      memory: new RedeliveryMemory(options.redeliveryMemorySize ?? 10_000),
      ensureDeadLetterRetention: (topic) => this.ensureDeadLetterRetention(topic),
      detached: (subscription) => this.subscriptions.delete(subscription),
    };
  }

  /** Resolves once the broker has stored the message. Still allowed while `close()` waits for handlers. */
  async publish(topic: string, message: OutgoingMessage): Promise<PublishReceipt> {
    if (this.isClosed()) throw this.closedError();
    checkTopic(topic);
    checkOutgoingMessage(message);
    try {
      const producer = await this.producer(topic);
      const id = await producer.send({
        payload: message.payload,
        key: message.key ?? keylessKey(),
        properties: message.properties ?? {},
      });
      return { messageId: id.toString() };
    } catch (err) {
      if (this.isClosed()) throw this.closedError(err);
      throw toBusError(err, `publish to ${topic} failed`, { topic });
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (!this.isOpen()) throw this.closedError();
    const resolved = resolveSubscribeOptions(options);
    const consumerName = resolved.consumerName ?? `${resolved.subscription}-${randomBytes(4).toString('hex')}`;
    let consumer;
    try {
      const priorityLevel = resolved.type === 'failover' ? await this.failoverPriority(resolved.topic) : undefined;
      consumer = await this.client.subscribe({
        topic: resolved.topic,
        subscription: resolved.subscription,
        type: resolved.type,
        consumerName,
        receiverQueueSize: 0,
        ackTimeoutMs: resolved.ackTimeoutMs,
        nackRedeliveryDelayMs: resolved.nackRedeliveryDelayMs,
        initialPosition: resolved.initialPosition,
        durable: resolved.durable,
        ...(resolved.startRollbackMs > 0 ? { startRollbackMs: resolved.startRollbackMs } : {}),
        ...(priorityLevel === undefined ? {} : { priorityLevel }),
        // The bus dead-letters by itself (with the port's properties and reason) before this count is
        // reached; the policy only names the topic the client's `deadLetter` publishes to.
        deadLetter: { maxRedeliverCount: Number.MAX_SAFE_INTEGER, deadLetterTopic: resolved.deadLetterTopic },
      });
    } catch (err) {
      if (!this.isOpen()) throw this.closedError(err);
      throw toBusError(err, `subscribe to ${resolved.topic} as "${resolved.subscription}" failed`, {
        topic: resolved.topic,
        subscription: resolved.subscription,
        type: resolved.type,
      });
    }
    if (!this.isOpen()) {
      // The bus began closing while the consumer was being created.
      await consumer.close().catch(() => undefined);
      throw this.closedError();
    }
    const subscription = new PulsarSubscription(consumer, resolved, this.context, consumerName);
    this.subscriptions.add(subscription);
    this.log.debug({ topic: resolved.topic, subscription: resolved.subscription, type: resolved.type, consumerName }, 'subscribed');
    return subscription;
  }

  async ensureSubscription(options: EnsureSubscriptionOptions): Promise<void> {
    if (!this.isOpen()) throw this.closedError();
    const target = resolveSubscriptionTarget(options);
    try {
      await this.createSubscription(target.topic, target.subscription, target.type, target.initialPosition);
    } catch (err) {
      if (!this.isOpen()) throw this.closedError(err);
      throw toBusError(err, `creating subscription "${target.subscription}" on ${target.topic} failed`, {
        topic: target.topic,
        subscription: target.subscription,
      });
    }
    this.log.debug({ topic: target.topic, subscription: target.subscription }, 'subscription ensured');
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.state = 'closing';
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.state = 'closed';
    const producers = [...this.producers.values()];
    this.producers.clear();
    await Promise.allSettled(producers.map(async (producer) => (await producer).close()));
    await this.client.close();
    this.log.debug('pulsar bus closed');
  }

  /**
   * The priority level of a new failover consumer on a non-partitioned topic: later attached, lower
   * priority (higher number). Pulsar makes the highest-priority consumer active and breaks ties by a
   * hash of the topic name over the consumer names, so without this a consumer that joins later could
   * take the active role. With it, the first attached consumer stays active until it leaves (as the
   * port specifies), and the next oldest takes over. Seconds since 2024 (int32 until 2092), strictly
   * increasing within this bus; consumers of other processes attached in the same second tie.
   * Partitioned topics keep Pulsar's own spreading of the partitions over the consumers.
   */
  private async failoverPriority(topic: string): Promise<number | undefined> {
    if ((await this.client.partitionsOf(topic)) > 0) return undefined;
    const seconds = Math.floor((Date.now() - FAILOVER_PRIORITY_EPOCH_MS) / 1000);
    this.lastFailoverPriority = Math.max(this.lastFailoverPriority + 1, seconds);
    return this.lastFailoverPriority;
  }

  /** The cached producer of a topic; a failed creation is not cached. */
  private producer(topic: string): Promise<Producer> {
    let producer = this.producers.get(topic);
    if (producer === undefined) {
      producer = this.client.createProducer({
        topic,
        batching: this.options.batching ?? false,
        ...(this.options.compression === undefined ? {} : { compression: this.options.compression }),
      });
      this.producers.set(topic, producer);
      producer.catch(() => {
        if (this.producers.get(topic) === producer) this.producers.delete(topic);
      });
    }
    return producer;
  }

  /**
   * Creates durable subscription `name` on `topic` unless it exists: a consumer of the type its
   * consumers use, without permits (so nothing is dispatched to it) and, for failover, at the lowest
   * priority (so it never takes the active role from one of them), closed at once. The broker
   * refuses it with ConsumerBusy only when the subscription exists with consumers attached, which is
   * all this needs to know.
   */
  private async createSubscription(topic: string, name: string, type: SubscriptionType, initialPosition: InitialPosition): Promise<void> {
    let consumer;
    try {
      consumer = await this.client.subscribe({
        topic,
        subscription: name,
        type,
        receiverQueueSize: 0,
        initialPosition,
        durable: true,
        ...(type === 'failover' ? { priorityLevel: LOWEST_FAILOVER_PRIORITY } : {}),
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ConsumerBusy') return;
      throw err;
    }
    await consumer.close();
  }

  /** Creates the retention subscription of a dead-letter topic once per bus (see `deadLetterSubscription`). */
  private ensureDeadLetterRetention(topic: string): Promise<void> {
    const name = this.options.deadLetterSubscription ?? DEFAULT_DEAD_LETTER_SUBSCRIPTION;
    if (name === false) return Promise.resolve();
    let done = this.retention.get(topic);
    if (done === undefined) {
      done = (async () => {
        await this.createSubscription(topic, name, 'shared', 'earliest');
      })().catch((err: unknown) => {
        this.retention.delete(topic);
        // The dead letter is still published; without a subscription Pulsar may not keep it.
        this.log.warn({ err: errorMessage(err), topic, subscription: name }, 'could not create the dead-letter retention subscription');
      });
      this.retention.set(topic, done);
    }
    return done;
  }

  // Methods, so that TypeScript does not narrow the state across awaits.
  private isOpen(): boolean {
    return this.state === 'open';
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private closedError(cause?: unknown): BusError {
    return new BusError(BusErrorCode.BUS_CLOSED, 'pulsar bus is closed', {
      ...(cause === undefined ? {} : { cause }),
      details: { serviceUrl: safeUrl(this.client.serviceUrl) },
    });
  }
}

/** Connects to Pulsar and returns the bus; fails with BusError (BROKER_ERROR, or INVALID_ARGUMENT for a bad URL). */
export async function createPulsarBus(options: PulsarBusOptions): Promise<PulsarBus> {
  const log = options.logger ?? createLogger({ name: 'messaging.pulsar' });
  let client: PulsarClient;
  try {
    client = await PulsarClient.connect({
      serviceUrl: options.serviceUrl,
      logger: log,
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.operationTimeoutMs }),
    });
  } catch (err) {
    throw toBusError(err, `cannot connect to Pulsar at ${safeUrl(options.serviceUrl)}`, { serviceUrl: safeUrl(options.serviceUrl) });
  }
  return new PulsarBus(client, options, log.child({ component: 'pulsar-bus' }));
}
