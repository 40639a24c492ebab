import { PulsarError, PulsarErrorCode } from './pulsar-error';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
  timer?: NodeJS.Timeout;
}

/**
 * FIFO of received messages with waiting receivers: `push` hands a message to the oldest waiting
 * `receive`, or queues it. Bounded by the flow permits the consumer grants, not by this class;
 * it counts what it holds (`size`, and `bytes` as weighed by `weigh`).
 */
export class ReceiverQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: Waiter<T>[] = [];
  private closedWith: unknown;
  private queuedBytes = 0;

  constructor(
    private readonly onDequeue: (item: T) => void = () => undefined,
    private readonly weigh: (item: T) => number = () => 0,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Sum of `weigh` over the queued items. */
  get bytes(): number {
    return this.queuedBytes;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      this.onDequeue(item);
      waiter.resolve(item);
      return;
    }
    this.items.push(item);
    this.queuedBytes += this.weigh(item);
  }

  /** The next item; waits for one if none is queued (at most `timeoutMs` if given). */
  receive(timeoutMs?: number): Promise<T> {
    if (this.closed) return Promise.reject(this.closedWith);
    if (this.size > 0) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined as unknown as T;
      this.queuedBytes -= this.weigh(item);
      this.compact();
      this.onDequeue(item);
      return Promise.resolve(item);
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new PulsarError(PulsarErrorCode.OPERATION_TIMEOUT, `no message within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Removes queued items matching `predicate`; returns them. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const live = this.items.slice(this.head);
    const removed = live.filter(predicate);
    if (removed.length > 0) {
      this.items = live.filter((item) => !predicate(item));
      this.head = 0;
      for (const item of removed) this.queuedBytes -= this.weigh(item);
    }
    return removed;
  }

  /** Rejects waiting and future receives with `err`; drops queued items. */
  close(err: unknown = new PulsarError(PulsarErrorCode.ALREADY_CLOSED, 'consumer closed')): void {
    if (this.closed) return;
    this.closedWith = err;
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
