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
 * A topic of the memory bus: a sequence of messages and the durable subscriptions on it. A message is
 * kept only by the subscriptions that have not acked it yet; with no subscription it is dropped
 * (Pulsar without retention).
 */
export class MemoryTopic {
  readonly subscriptions = new Map<string, MemorySubscription>();
  private nextSeq = 0;

  constructor(
    readonly name: string,
    /** Number of the topic within its bus; the first part of its message ids. */
    readonly index: number,
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
    for (const subscription of this.subscriptions.values()) subscription.enqueue(stored);
    return stored;
  }

  /** Every message some subscription still holds, in topic order: where an `earliest` subscription starts. */
  retained(): StoredMessage[] {
    const bySeq = new Map<number, StoredMessage>();
    for (const subscription of this.subscriptions.values()) {
      for (const message of subscription.held()) bySeq.set(message.seq, message);
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
}
