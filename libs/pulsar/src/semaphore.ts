import { PulsarError, PulsarErrorCode } from './pulsar-error';

/** Counting semaphore with FIFO waiters: bounds the messages a producer holds (backpressure). */
export class Semaphore {
  private waiters: { resolve(): void; reject(err: unknown): void }[] = [];
  private inUse = 0;
  private closedWith: unknown;

  constructor(private readonly permits: number) {}

  get used(): number {
    return this.inUse;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Takes a permit if one is free and nobody is waiting; never waits. */
  tryAcquire(): boolean {
    if (this.closedWith !== undefined || this.inUse >= this.permits || this.waiters.length > 0) return false;
    this.inUse++;
    return true;
  }

  /** Resolves once a permit is available (immediately if one is). */
  acquire(): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.inUse < this.permits && this.waiters.length === 0) {
      this.inUse++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(count = 1): void {
    this.inUse -= count;
    while (this.inUse < this.permits && this.waiters.length > 0) {
      this.inUse++;
      this.waiters.shift()?.resolve();
    }
  }

  /** Rejects waiting and future acquires. */
  close(err: unknown = new PulsarError(PulsarErrorCode.ALREADY_CLOSED, 'closed')): void {
    this.closedWith = err;
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }
}
