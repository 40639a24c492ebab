import { errorMessage, type Logger } from '@surrogate/core';
import type { Consumer, Message, MessageId } from '@surrogate/pulsar';
import type { DeadLetterInfo, IncomingMessage, Subscription } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { deadLetterProperties } from './dead-letter';
import { publishedKey } from './keyless-key';
import { toBusError } from './pulsar-error-mapping';
import type { RedeliveryMemory } from './redelivery-memory';
import { isRejectMessageError } from './reject-message-error';
import type { ResolvedSubscribeOptions } from './subscribe-options';

/** What a subscription needs from its bus. */
export interface PulsarSubscriptionContext {
  readonly log: Logger;
  readonly memory: RedeliveryMemory;
  /** Makes sure the dead-letter topic has a subscription that keeps what is published to it. */
  ensureDeadLetterRetention(deadLetterTopic: string): Promise<void>;
  /** The subscription has closed its consumer. */
  detached(subscription: PulsarSubscription): void;
}

/**
 * One consumer of the pulsar bus: a client consumer with `receiverQueueSize: 0` and `concurrency`
 * receive loops, so it holds one flow permit per idle loop and never more messages than it has
 * handlers for. A handler's success acks; a failure nacks (redelivery after nackRedeliveryDelayMs)
 * or, on the last allowed delivery, dead-letters; `RejectMessageError` dead-letters at once. The
 * dead-letter decision is the bus's (the client's own policy is never reached), so every dead letter
 * carries the port's properties and is reported to `onDeadLetter`.
 */
export class PulsarSubscription implements Subscription {
  readonly topic: string;
  readonly subscription: string;
  private readonly log: Logger;
  private readonly loops: Promise<void>[];
  private closing = false;
  private closed: Promise<void> | undefined;
  private unsubscribing = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** The furthest message whose handler has finished, per partition (-1: a non-partitioned topic). */
  private readonly handledUpTo = new Map<number, MessageId>();
  private catchUpWaiters: { targets: MessageId[]; resolve(): void; reject(err: unknown): void }[] = [];

  constructor(
    private readonly consumer: Consumer,
    private readonly options: ResolvedSubscribeOptions,
    private readonly context: PulsarSubscriptionContext,
    readonly consumerName: string,
  ) {
    this.topic = options.topic;
    this.subscription = options.subscription;
    this.log = context.log.child({ topic: this.topic, subscription: this.subscription, consumerName });
    this.loops = Array.from({ length: options.concurrency }, () => this.receiveLoop());
  }

  /**
   * Stops taking messages, lets the in-flight handlers finish (their outcome acks or nacks), then
   * closes the consumer: the broker hands whatever it did not ack to the other consumers. Idempotent.
   */
  close(): Promise<void> {
    if (this.closed === undefined) this.closed = this.shutdown(false);
    return this.closed.catch(() => undefined);
  }

  /**
   * Like `close`, but the consumer leaves by unsubscribing: the broker deletes the subscription.
   * When the broker refuses (other consumers attached), the consumer is closed instead.
   */
  unsubscribe(): Promise<void> {
    if (this.closed === undefined) {
      this.closed = this.shutdown(true);
      this.unsubscribing = true;
    } else if (!this.unsubscribing) {
      return Promise.reject(
        new BusError(BusErrorCode.CONSUMER_CLOSED, `consumer ${this.consumerName} of "${this.subscription}" on ${this.topic} is closed; unsubscribe needs an open one`, {
          details: { topic: this.topic, subscription: this.subscription, consumer: this.consumerName },
        }),
      );
    }
    return this.closed;
  }

  /** Asks the broker where the topic ends, then waits for the handler to finish the message there. */
  async caughtUp(): Promise<void> {
    if (this.closing) throw this.closedError();
    let ends;
    try {
      ends = await this.consumer.lastMessageIds();
    } catch (err) {
      if (this.closing) throw this.closedError();
      throw toBusError(err, `caughtUp on "${this.subscription}" of ${this.topic} failed`, { topic: this.topic, subscription: this.subscription });
    }
    // Nothing to wait for on a partition that holds no message, or where everything up to its last one is acked.
    const targets = ends
      .filter(({ lastMessageId, markDeletePosition }) => lastMessageId.entryId >= 0 && !(markDeletePosition && markDeletePosition.compareTo(lastMessageId) >= 0))
      .map(({ lastMessageId }) => lastMessageId);
    if (this.reached(targets)) return;
    await new Promise<void>((resolve, reject) => this.catchUpWaiters.push({ targets, resolve, reject }));
  }

  private reached(targets: MessageId[]): boolean {
    return targets.every((target) => {
      const handled = this.handledUpTo.get(target.partition);
      return handled !== undefined && handled.compareTo(target) >= 0;
    });
  }

  private handled(id: MessageId): void {
    const before = this.handledUpTo.get(id.partition);
    if (before !== undefined && before.compareTo(id) >= 0) return;
    this.handledUpTo.set(id.partition, id);
    if (this.catchUpWaiters.length === 0) return;
    const waiting = this.catchUpWaiters;
    this.catchUpWaiters = [];
    for (const waiter of waiting) {
      if (this.reached(waiter.targets)) waiter.resolve();
      else this.catchUpWaiters.push(waiter);
    }
  }

  private closedError(): BusError {
    return new BusError(BusErrorCode.CONSUMER_CLOSED, `consumer ${this.consumerName} of "${this.subscription}" on ${this.topic} is closed`, {
      details: { topic: this.topic, subscription: this.subscription, consumer: this.consumerName },
    });
  }

  private async shutdown(unsubscribe: boolean): Promise<void> {
    this.closing = true;
    for (const waiter of this.catchUpWaiters.splice(0)) waiter.reject(this.closedError());
    await this.whenIdle();
    let refused: unknown;
    if (unsubscribe) {
      try {
        await this.consumer.unsubscribe();
      } catch (err) {
        refused = err;
      }
    }
    if (!unsubscribe || refused !== undefined) {
      try {
        await this.consumer.close();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'closing the consumer failed');
      }
    }
    await Promise.all(this.loops);
    this.context.detached(this);
    if (refused !== undefined) throw unsubscribeError(refused, this.topic, this.subscription);
    this.log.debug(unsubscribe ? 'consumer closed and subscription deleted' : 'consumer closed');
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** One of `concurrency` loops: each waiting `receive` is one flow permit. */
  private async receiveLoop(): Promise<void> {
    while (!this.closing) {
      let message: Message;
      try {
        message = await this.consumer.receive();
      } catch (err) {
        if (!this.closing) this.log.error({ err: errorMessage(err) }, 'consumer stopped receiving');
        return;
      }
      // Received while closing: not handled and not acked, so the broker redelivers it elsewhere.
      if (this.closing) return;
      this.inFlight += 1;
      try {
        await this.process(message);
      } catch (err) {
        this.log.error({ err: errorMessage(err), messageId: message.messageId.toString() }, 'settling a delivery failed');
      } finally {
        this.handled(message.messageId);
        this.inFlight -= 1;
        if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  private async process(message: Message): Promise<void> {
    const { options } = this;
    const memory = this.context.memory;
    const messageId = message.messageId.toString();
    const remembered = memory.get(this.topic, this.subscription, messageId);
    const redeliveryCount = Math.max(message.redeliveryCount, remembered?.failures ?? 0);
    if (redeliveryCount > options.maxRedeliveries) {
      // Failed more often than this consumer allows (an ack timeout on the last delivery, or a consumer
      // with a higher maxRedeliveries before): dead-letter without calling the handler.
      const reason = remembered?.lastError ?? this.exhaustedReason();
      await this.deadLetter(message, messageId, reason, redeliveryCount - 1);
      return;
    }
    const key = publishedKey(message.key);
    const incoming: IncomingMessage = Object.freeze({
      topic: this.topic,
      payload: new Uint8Array(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength),
      ...(key === undefined ? {} : { key }),
      properties: message.properties,
      messageId,
      redeliveryCount,
      publishTime: message.publishTime,
    });
    let timedOut = false;
    const timer =
      options.ackTimeoutMs > 0
        ? setTimeout(() => {
            // The client's ack timeout redelivers the message; remember why, for a later dead letter.
            timedOut = true;
            memory.recordFailure(this.topic, this.subscription, messageId, redeliveryCount + 1, this.ackTimeoutReason());
          }, options.ackTimeoutMs)
        : undefined;
    let failure: { error: unknown } | undefined;
    try {
      await options.handler(incoming);
    } catch (error) {
      failure = { error };
    }
    if (timer !== undefined) clearTimeout(timer);
    if (timedOut) {
      // Handed back already. A late success still acks (a late ack, as in Pulsar); a late failure changes nothing.
      if (failure === undefined) await this.ack(message, messageId);
      return;
    }
    if (failure === undefined) {
      await this.ack(message, messageId);
      return;
    }
    const reason = errorMessage(failure.error);
    if (isRejectMessageError(failure.error)) {
      await this.deadLetter(message, messageId, reason, redeliveryCount);
      return;
    }
    memory.recordFailure(this.topic, this.subscription, messageId, redeliveryCount + 1, reason);
    if (redeliveryCount >= options.maxRedeliveries) {
      await this.deadLetter(message, messageId, reason, redeliveryCount);
      return;
    }
    this.log.debug({ messageId, redeliveryCount, reason }, 'handler failed; message nacked');
    this.consumer.nack(message);
  }

  private async ack(message: Message, messageId: string): Promise<void> {
    this.context.memory.forget(this.topic, this.subscription, messageId);
    await this.consumer.ack(message);
  }

  /** Publishes the message to the dead-letter topic (the client acks it then) and tells onDeadLetter. */
  private async deadLetter(message: Message, messageId: string, reason: string, redeliveryCount: number): Promise<void> {
    const { deadLetterTopic } = this.options;
    const properties = deadLetterProperties({
      topic: this.topic,
      subscription: this.subscription,
      messageId,
      properties: message.properties,
      reason,
      redeliveryCount,
    });
    let deadLetterMessageId: string;
    try {
      await this.context.ensureDeadLetterRetention(deadLetterTopic);
      deadLetterMessageId = (await this.consumer.deadLetter(message, properties)).toString();
    } catch (err) {
      this.log.error({ err: errorMessage(err), messageId, deadLetterTopic }, 'could not publish the dead letter; message nacked instead');
      this.context.memory.recordFailure(this.topic, this.subscription, messageId, redeliveryCount + 1, reason);
      this.consumer.nack(message);
      return;
    }
    this.context.memory.forget(this.topic, this.subscription, messageId);
    const info: DeadLetterInfo = {
      topic: this.topic,
      subscription: this.subscription,
      deadLetterTopic,
      messageId,
      reason,
      redeliveryCount,
      deadLetterMessageId,
    };
    this.log.warn(info, 'message dead-lettered');
    const { onDeadLetter } = this.options;
    if (onDeadLetter === undefined) return;
    try {
      await onDeadLetter(info);
    } catch (err) {
      this.log.error({ err: errorMessage(err), ...info }, 'onDeadLetter callback failed');
    }
  }

  private ackTimeoutReason(): string {
    return `handler did not finish within ackTimeoutMs (${this.options.ackTimeoutMs} ms)`;
  }

  private exhaustedReason(): string {
    return this.options.ackTimeoutMs > 0 ? this.ackTimeoutReason() : `exceeded maxRedeliveries (${this.options.maxRedeliveries})`;
  }
}

/**
 * The broker refuses to unsubscribe a consumer that is not the subscription's only one ("Unconnected
 * or shared consumer attempting to unsubscribe"): the port calls that SUBSCRIPTION_BUSY.
 */
function unsubscribeError(err: unknown, topic: string, subscription: string): BusError {
  const what = `unsubscribe "${subscription}" on ${topic} failed`;
  if (/shared consumer attempting to unsubscribe|other consumers|has consumers/i.test(errorMessage(err)))
    return new BusError(BusErrorCode.SUBSCRIPTION_BUSY, `${what}: ${errorMessage(err)}`, { cause: err, details: { topic, subscription } });
  return toBusError(err, what, { topic, subscription });
}
