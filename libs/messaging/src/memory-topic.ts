import type { OutgoingMessage } from './bus';
import type { MemorySubscription } from './memory-subscription';

/** A message as the memory bus keeps it: an immutable copy of what was published. */
export interface StoredMessage {
  readonly topic: string;
  /** Position in the topic, increasing with publish order. */
  readonly seq: number;
  readonly messageId: string;
  readonly payload: Uint8Array;
  readonly key?: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly publishTime: number;
}

/**
 * A topic of the memory bus: a sequence of messages and the subscriptions on it. A message is kept by
 * the subscriptions that have not acked it yet, and for `retentionMs` after it was published (Pulsar's
 * retention policy); otherwise it is dropped (Pulsar without retention).
 */
export class MemoryTopic {
  readonly subscriptions = new Map<string, MemorySubscription>();
  private nextSeq = 0;
  /** Messages published within the last `retentionMs`, oldest first. */
  private readonly recent: StoredMessage[] = [];

  constructor(
    readonly name: string,
    /** Number of the topic within its bus; the first part of its message ids. */
    readonly index: number,
    /** How long the topic keeps a message whether or not a subscription holds it (0 = not at all). */
    readonly retentionMs = 0,
  ) {}

  append(message: OutgoingMessage): StoredMessage {
    const seq = this.nextSeq;
    this.nextSeq += 1;
    const stored: StoredMessage = Object.freeze({
      topic: this.name,
      seq,
      messageId: `${this.index}:${seq}`,
      payload: new Uint8Array(message.payload), // a copy: the publisher may reuse its buffer
      ...(message.key === undefined ? {} : { key: message.key }),
      properties: Object.freeze({ ...(message.properties ?? {}) }),
      publishTime: Date.now(),
    });
    if (this.retentionMs > 0) {
      this.recent.push(stored);
      this.expire();
    }
    for (const subscription of this.subscriptions.values()) subscription.enqueue(stored);
    return stored;
  }

  /**
   * Every message the topic still holds (some subscription has not acked it, or it is within the
   * retention time), in topic order: where an `earliest` subscription starts, and what a rollback reads.
   */
  retained(): StoredMessage[] {
    const bySeq = new Map<number, StoredMessage>();
    this.expire();
    for (const message of this.recent) bySeq.set(message.seq, message);
    for (const subscription of this.subscriptions.values()) {
      for (const message of subscription.held()) bySeq.set(message.seq, message);
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Forgets the messages published more than `retentionMs` ago. */
  private expire(): void {
    const keepFrom = Date.now() - this.retentionMs;
    let expired = 0;
    while (expired < this.recent.length && this.recent[expired].publishTime < keepFrom) expired += 1;
    if (expired > 0) this.recent.splice(0, expired);
  }
}
