import { errorMessage, type Logger } from '@surrogate/core';
import type { IncomingMessage, OutgoingMessage, SubscriptionType } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { deadLetterProperties } from './dead-letter';
import { Fifo } from './fifo';
import { KeyHashRing } from './key-hash-ring';
import { MemoryConsumer, type Delivery } from './memory-consumer';
import type { StoredMessage } from './memory-topic';
import { isRejectMessageError } from './reject-message-error';
import type { ResolvedSubscribeOptions } from './subscribe-options';

/** A message a subscription has taken out of its backlog and not acked yet. */
export interface PendingMessage {
  readonly message: StoredMessage;
  /** Of the next (or current) delivery. */
  redeliveryCount: number;
  /** Deliveries started so far; tells a current delivery from a stale one. */
  attempt: number;
  lastError?: string;
  acked: boolean;
  /** Waiting in `replay` for a consumer. */
  inReplay: boolean;
  /** Waiting out the nack delay. */
  delayTimer?: NodeJS.Timeout;
}

/** What a subscription needs from its bus. */
export interface MemorySubscriptionContext {
  isOpen(): boolean;
  /** Appends to a topic even while the bus is closing (dead letters of handlers that finish then). */
  append(topic: string, message: OutgoingMessage): StoredMessage;
  nextConsumerId(): number;
  /** Forgets a subscription that was unsubscribed: the topic keeps nothing more for it. */
  remove(subscription: MemorySubscription): void;
  readonly log: Logger;
}

export interface MemorySubscriptionStats {
  /** Type of the attached consumers; undefined while none is attached. */
  type: SubscriptionType | undefined;
  consumers: number;
  /** Messages not acked yet, whether delivered or not (Pulsar's msgBacklog). */
  backlog: number;
  /** Messages in handlers right now. */
  inFlight: number;
}

/**
 * How many never-delivered messages a key-shared subscription sets aside, waiting for their key's
 * busy consumer, before it stops reading further (Pulsar bounds this look-ahead too).
 */
const KEY_SHARED_LOOKAHEAD = 1000;

/**
 * A subscription of the memory bus (durable, or non-durable: gone with its last consumer): a cursor on a topic (messages not taken yet wait in
 * `backlog`, in topic order), the messages taken but not acked, and the dispatcher that hands them to
 * the attached consumers according to the subscription type. Consumers only ever hold what is in their
 * handlers (no prefetch), so the backlog stays here however slow they are.
 */
export class MemorySubscription {
  private type: SubscriptionType | undefined;
  private readonly consumers: MemoryConsumer[] = [];
  private ring = new KeyHashRing<MemoryConsumer>([]);
  private roundRobin = 0;
  private readonly backlog = new Fifo<StoredMessage>();
  /** Taken messages waiting for a consumer (redeliveries, key-shared set-asides), in topic order. */
  private readonly replay: PendingMessage[] = [];
  private readonly unacked = new Map<number, PendingMessage>();
  private dispatchScheduled = false;
  /** Highest topic position whose handler has finished (-1: none yet). */
  private handledUpTo = -1;
  private catchUpWaiters: { consumer: MemoryConsumer; mark: number; resolve(): void; reject(err: unknown): void }[] = [];

  constructor(
    readonly topic: string,
    readonly name: string,
    private readonly context: MemorySubscriptionContext,
    initial: readonly StoredMessage[],
    /** false: the subscription goes when its last consumer detaches. */
    readonly durable = true,
  ) {
    for (const message of initial) this.backlog.push(message);
  }

  /** A message published on the topic. */
  enqueue(message: StoredMessage): void {
    this.backlog.push(message);
    if (this.consumers.length > 0) this.scheduleDispatch();
  }

  /** Every message this subscription has not acked. */
  *held(): Iterable<StoredMessage> {
    yield* this.backlog;
    for (const pending of this.unacked.values()) yield pending.message;
  }

  attach(options: ResolvedSubscribeOptions): MemoryConsumer {
    if (this.consumers.length > 0) {
      if (options.type !== this.type) {
        throw new BusError(
          BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH,
          `subscription "${this.name}" on ${this.topic} has ${String(this.type)} consumers; cannot attach a ${options.type} consumer`,
          { details: { topic: this.topic, subscription: this.name, existing: this.type, requested: options.type } },
        );
      }
      if (this.type === 'exclusive') {
        throw new BusError(BusErrorCode.SUBSCRIPTION_BUSY, `exclusive subscription "${this.name}" on ${this.topic} already has a consumer`, {
          details: { topic: this.topic, subscription: this.name },
        });
      }
    }
    this.type = options.type;
    const consumer = new MemoryConsumer(this.context.nextConsumerId(), options, this);
    this.consumers.push(consumer);
    this.refreshRing();
    this.scheduleDispatch();
    return consumer;
  }

  /**
   * A consumer stopped taking messages. It keeps its place (failover activity, key-shared keys) until
   * its in-flight handlers have finished and it detaches, so a standby or a new key owner never
   * overtakes a message still in its handler.
   */
  consumerClosing(_consumer: MemoryConsumer): void {
    this.scheduleDispatch();
  }

  /** A closing consumer's handlers have all finished: remove it (and a non-durable subscription with its last one). */
  detach(consumer: MemoryConsumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
    if (this.consumers.length === 0) this.type = undefined;
    this.refreshRing();
    if (!this.durable && this.consumers.length === 0) {
      this.drop();
      return;
    }
    this.scheduleDispatch();
  }

  /** The consumer asks when the handler has finished what the subscription holds now. */
  caughtUp(consumer: MemoryConsumer): Promise<void> {
    let mark = -1;
    for (const message of this.held()) mark = Math.max(mark, message.seq);
    if (mark <= this.handledUpTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.catchUpWaiters.push({ consumer, mark, resolve, reject }));
  }

  /** A closing consumer will not catch up. */
  rejectCatchUps(consumer: MemoryConsumer, err: unknown): void {
    const keep = this.catchUpWaiters.filter((waiter) => waiter.consumer !== consumer);
    for (const waiter of this.catchUpWaiters) if (waiter.consumer === consumer) waiter.reject(err);
    this.catchUpWaiters = keep;
  }

  private noteHandled(seq: number): void {
    if (seq <= this.handledUpTo) return;
    this.handledUpTo = seq;
    if (this.catchUpWaiters.length === 0) return;
    const waiting = this.catchUpWaiters;
    this.catchUpWaiters = [];
    for (const waiter of waiting) {
      if (waiter.mark <= seq) waiter.resolve();
      else this.catchUpWaiters.push(waiter);
    }
  }

  /**
   * A consumer that has detached asked to delete the subscription: refused while others are
   * attached; otherwise everything it holds is dropped and the topic forgets it.
   */
  unsubscribe(consumer: MemoryConsumer): void {
    if (this.consumers.length > 0) {
      throw new BusError(
        BusErrorCode.SUBSCRIPTION_BUSY,
        `cannot unsubscribe "${this.name}" on ${this.topic}: ${this.consumers.length} other consumer(s) attached`,
        { details: { topic: this.topic, subscription: this.name, consumer: consumer.consumerName, consumers: this.consumers.length } },
      );
    }
    this.drop();
  }

  /** Drops everything the subscription holds; the topic forgets it. */
  private drop(): void {
    for (const pending of this.unacked.values()) {
      if (pending.delayTimer !== undefined) clearTimeout(pending.delayTimer);
      pending.delayTimer = undefined;
    }
    this.unacked.clear();
    this.replay.length = 0;
    this.backlog.clear();
    this.context.remove(this);
  }

  /** The bus is closing: no more timers; messages waiting out a nack delay stay with the subscription. */
  stop(): void {
    for (const pending of this.unacked.values()) {
      if (pending.delayTimer !== undefined) {
        clearTimeout(pending.delayTimer);
        pending.delayTimer = undefined;
        this.insertReplay(pending);
      }
    }
  }

  /** Closes every consumer; resolves once their handlers have finished. */
  async closeConsumers(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
  }

  stats(): MemorySubscriptionStats {
    let inFlight = 0;
    for (const consumer of this.consumers) inFlight += consumer.inFlightCount;
    return { type: this.type, consumers: this.consumers.length, backlog: this.backlog.length + this.unacked.size, inFlight };
  }

  private refreshRing(): void {
    this.ring = new KeyHashRing(this.consumers);
  }

  /** Dispatches later, never inside the caller (so never inside `publish`). Coalesced. */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled || !this.context.isOpen()) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.context.isOpen()) {
      const next = this.type === 'key-shared' ? this.nextKeyShared() : this.nextInOrder();
      if (next === undefined) return;
      this.deliver(next.consumer, next.pending);
    }
  }

  /** exclusive, failover, shared: redeliveries first, then the backlog in order. */
  private nextInOrder(): { consumer: MemoryConsumer; pending: PendingMessage } | undefined {
    if (this.replay.length === 0 && this.backlog.length === 0) return undefined;
    // exclusive and failover: the first attached consumer is the active one, until it has detached.
    const consumer = this.type === 'shared' ? this.nextFreeConsumer() : this.consumers[0];
    if (consumer === undefined || !consumer.hasCapacity()) return undefined;
    const pending = this.replay.length > 0 ? this.removeReplayAt(0) : this.take(this.backlog.shift() as StoredMessage);
    return { consumer, pending };
  }

  /**
   * key-shared: a keyed message may only go to the consumer its key hashes to; when that one is full
   * the message is set aside (in order) and later messages for other consumers go ahead.
   */
  private nextKeyShared(): { consumer: MemoryConsumer; pending: PendingMessage } | undefined {
    if (!this.consumers.some((c) => c.hasCapacity())) return undefined;
    for (let i = 0; i < this.replay.length; i += 1) {
      const consumer = this.keySharedTarget(this.replay[i].message);
      if (consumer !== undefined) return { consumer, pending: this.removeReplayAt(i) };
    }
    while (this.backlog.length > 0 && this.replay.length < KEY_SHARED_LOOKAHEAD) {
      const pending = this.take(this.backlog.shift() as StoredMessage);
      const consumer = this.keySharedTarget(pending.message);
      if (consumer !== undefined) return { consumer, pending };
      this.insertReplay(pending);
    }
    return undefined;
  }

  /** The consumer that may take this message now, if any. Messages without a key are spread. */
  private keySharedTarget(message: StoredMessage): MemoryConsumer | undefined {
    if (message.key === undefined) return this.nextFreeConsumer();
    const owner = this.ring.lookup(message.key);
    return owner !== undefined && owner.hasCapacity() ? owner : undefined;
  }

  /** Round robin over the consumers with free capacity. */
  private nextFreeConsumer(): MemoryConsumer | undefined {
    const count = this.consumers.length;
    for (let i = 0; i < count; i += 1) {
      const index = (this.roundRobin + i) % count;
      const consumer = this.consumers[index];
      if (consumer.hasCapacity()) {
        this.roundRobin = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  private take(message: StoredMessage): PendingMessage {
    const pending: PendingMessage = { message, redeliveryCount: 0, attempt: 0, acked: false, inReplay: false };
    this.unacked.set(message.seq, pending);
    return pending;
  }

  private insertReplay(pending: PendingMessage): void {
    let lo = 0;
    let hi = this.replay.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.replay[mid].message.seq < pending.message.seq) lo = mid + 1;
      else hi = mid;
    }
    this.replay.splice(lo, 0, pending);
    pending.inReplay = true;
  }

  private removeReplayAt(index: number): PendingMessage {
    const [pending] = this.replay.splice(index, 1);
    pending.inReplay = false;
    return pending;
  }

  private deliver(consumer: MemoryConsumer, pending: PendingMessage): void {
    const options = consumer.options;
    if (pending.redeliveryCount > options.maxRedeliveries) {
      // Failed more often elsewhere than this consumer allows (consumers may differ in maxRedeliveries).
      this.deadLetter(pending, options, pending.lastError ?? `exceeded maxRedeliveries (${options.maxRedeliveries})`, pending.redeliveryCount - 1);
      return;
    }
    pending.attempt += 1;
    const delivery: Delivery = { consumer, pending, attempt: pending.attempt, timedOut: false };
    consumer.track(delivery);
    void this.run(delivery);
  }

  private async run(delivery: Delivery): Promise<void> {
    const { consumer, pending } = delivery;
    const { message } = pending;
    const options = consumer.options;
    const incoming: IncomingMessage = Object.freeze({
      topic: message.topic,
      payload: new Uint8Array(message.payload), // each delivery its own bytes, as from a broker
      ...(message.key === undefined ? {} : { key: message.key }),
      properties: message.properties,
      messageId: message.messageId,
      redeliveryCount: pending.redeliveryCount,
      publishTime: message.publishTime,
    });
    const timer = options.ackTimeoutMs > 0 ? setTimeout(() => this.onAckTimeout(delivery), options.ackTimeoutMs) : undefined;
    let failure: { error: unknown } | undefined;
    try {
      await options.handler(incoming);
    } catch (error) {
      failure = { error };
    }
    if (timer !== undefined) clearTimeout(timer);
    try {
      this.settle(delivery, failure);
    } catch (error) {
      this.context.log.error({ err: errorMessage(error), topic: this.topic, subscription: this.name }, 'settling a delivery failed');
    } finally {
      this.noteHandled(message.seq);
      consumer.untrack(delivery);
      this.scheduleDispatch();
    }
  }

  /** Applies a handler's outcome: ack, dead letter, or redelivery. */
  private settle(delivery: Delivery, failure: { error: unknown } | undefined): void {
    const { consumer, pending } = delivery;
    const options = consumer.options;
    const current = !pending.acked && !delivery.timedOut && delivery.attempt === pending.attempt;
    if (!current) {
      // The message was handed back already (ack timeout). A late success still acks it, as a late ack
      // does in Pulsar; a late failure changes nothing.
      if (failure === undefined && !pending.acked) this.ack(pending);
      return;
    }
    if (failure === undefined) {
      this.ack(pending);
      return;
    }
    const reason = errorMessage(failure.error);
    if (isRejectMessageError(failure.error)) {
      this.deadLetter(pending, options, reason, pending.redeliveryCount);
      return;
    }
    this.context.log.debug(
      { topic: this.topic, subscription: this.name, messageId: pending.message.messageId, redeliveryCount: pending.redeliveryCount, reason },
      'handler failed; message nacked',
    );
    this.fail(pending, options, reason, options.nackRedeliveryDelayMs);
  }

  private onAckTimeout(delivery: Delivery): void {
    const { consumer, pending } = delivery;
    if (pending.acked || delivery.attempt !== pending.attempt || !this.context.isOpen()) return;
    delivery.timedOut = true;
    const ms = consumer.options.ackTimeoutMs;
    this.fail(pending, consumer.options, `handler did not finish within ackTimeoutMs (${ms} ms)`, 0);
  }

  /** A failed delivery: redeliver after `delayMs`, or dead-letter once maxRedeliveries is used up. */
  private fail(pending: PendingMessage, options: ResolvedSubscribeOptions, reason: string, delayMs: number): void {
    pending.lastError = reason;
    if (pending.redeliveryCount >= options.maxRedeliveries) {
      this.deadLetter(pending, options, reason, pending.redeliveryCount);
      return;
    }
    pending.redeliveryCount += 1;
    if (delayMs <= 0 || !this.context.isOpen()) {
      this.insertReplay(pending);
      this.scheduleDispatch();
      return;
    }
    pending.delayTimer = setTimeout(() => {
      pending.delayTimer = undefined;
      this.insertReplay(pending);
      this.scheduleDispatch();
    }, delayMs);
  }

  private ack(pending: PendingMessage): void {
    pending.acked = true;
    this.unacked.delete(pending.message.seq);
    if (pending.delayTimer !== undefined) {
      clearTimeout(pending.delayTimer);
      pending.delayTimer = undefined;
    }
    if (pending.inReplay) this.removeReplayAt(this.replay.indexOf(pending));
  }

  /** Publishes the message to the dead-letter topic, then acks it. */
  private deadLetter(pending: PendingMessage, options: ResolvedSubscribeOptions, reason: string, redeliveryCount: number): void {
    const { message } = pending;
    const dead = this.context.append(options.deadLetterTopic, {
      payload: message.payload,
      ...(message.key === undefined ? {} : { key: message.key }),
      properties: deadLetterProperties({
        topic: message.topic,
        subscription: this.name,
        messageId: message.messageId,
        properties: message.properties,
        reason,
        redeliveryCount,
      }),
    });
    this.ack(pending);
    const info = {
      topic: message.topic,
      subscription: this.name,
      deadLetterTopic: options.deadLetterTopic,
      messageId: message.messageId,
      reason,
      redeliveryCount,
      deadLetterMessageId: dead.messageId,
    };
    this.context.log.warn(info, 'message dead-lettered');
    if (options.onDeadLetter === undefined) return;
    const report = (error: unknown): void => {
      this.context.log.error({ err: errorMessage(error), ...info }, 'onDeadLetter callback failed');
    };
    try {
      const result = options.onDeadLetter(info);
      if (result !== undefined && typeof (result as Promise<void>).catch === 'function') (result as Promise<void>).catch(report);
    } catch (error) {
      report(error);
    }
  }
}
