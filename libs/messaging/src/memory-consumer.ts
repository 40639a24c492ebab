import type { Subscription } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import type { MemorySubscription, PendingMessage } from './memory-subscription';
import type { ResolvedSubscribeOptions } from './subscribe-options';

/** One handler invocation for one message. */
export interface Delivery {
  readonly consumer: MemoryConsumer;
  readonly pending: PendingMessage;
  /** The message's attempt number when this delivery started; a later attempt makes this one stale. */
  readonly attempt: number;
  /** The handler ran past ackTimeoutMs: the message has been handed back already. */
  timedOut: boolean;
}

/** A consumer attached to a memory subscription; it is the `Subscription` handle `subscribe` returns. */
export class MemoryConsumer implements Subscription {
  readonly topic: string;
  readonly subscription: string;
  readonly consumerName: string;
  private readonly inFlight = new Set<Delivery>();
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  private closed: Promise<void> | undefined;
  private unsubscribed: Promise<void> | undefined;

  constructor(
    readonly id: number,
    readonly options: ResolvedSubscribeOptions,
    private readonly owner: MemorySubscription,
  ) {
    this.topic = options.topic;
    this.subscription = options.subscription;
    this.consumerName = options.consumerName ?? `${options.subscription}-${id}`;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** May take one more message: not closing and fewer than `concurrency` handlers running. */
  hasCapacity(): boolean {
    return !this.closing && this.inFlight.size < this.options.concurrency;
  }

  track(delivery: Delivery): void {
    this.inFlight.add(delivery);
  }

  untrack(delivery: Delivery): void {
    this.inFlight.delete(delivery);
    if (this.inFlight.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once no handler of this consumer is running. */
  whenIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Closes this consumer, then deletes the subscription unless other consumers are attached. */
  unsubscribe(): Promise<void> {
    if (this.unsubscribed === undefined) {
      if (this.closed !== undefined) {
        return Promise.reject(
          new BusError(BusErrorCode.CONSUMER_CLOSED, `consumer ${this.consumerName} of "${this.subscription}" on ${this.topic} is closed; unsubscribe needs an open one`, {
            details: { topic: this.topic, subscription: this.subscription, consumer: this.consumerName },
          }),
        );
      }
      this.unsubscribed = this.close().then(() => this.owner.unsubscribe(this));
    }
    return this.unsubscribed;
  }

  caughtUp(): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.owner.caughtUp(this);
  }

  private closedError(): BusError {
    return new BusError(BusErrorCode.CONSUMER_CLOSED, `consumer ${this.consumerName} of "${this.subscription}" on ${this.topic} is closed`, {
      details: { topic: this.topic, subscription: this.subscription, consumer: this.consumerName },
    });
  }

  close(): Promise<void> {
    if (this.closed === undefined) {
      this.closing = true;
      this.owner.rejectCatchUps(this, this.closedError());
      this.owner.consumerClosing(this);
      this.closed = this.whenIdle().then(() => this.owner.detach(this));
    }
    return this.closed;
  }
}
