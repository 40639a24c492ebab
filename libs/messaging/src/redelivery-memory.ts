/** What a bus remembers of one message's failed deliveries on one subscription. */
export interface RememberedFailure {
  /** Deliveries that ended without an ack (handler failure, ack timeout): the next redeliveryCount. */
  failures: number;
  /** Message of the last failure. */
  lastError: string;
}

/**
 * Failed deliveries per (topic, subscription, message id), kept by one bus process and bounded
 * (least recently touched entries go first). The broker does not count redeliveries of exclusive and
 * failover subscriptions, and forgets the counts of a shared subscription when its last consumer
 * leaves; this memory bridges those gaps for consumers of the same bus, and gives a message
 * dead-lettered at delivery the reason of its last failure.
 */
export class RedeliveryMemory {
  private readonly entries = new Map<string, RememberedFailure>();

  constructor(private readonly capacity = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  get(topic: string, subscription: string, messageId: string): RememberedFailure | undefined {
    return this.entries.get(RedeliveryMemory.key(topic, subscription, messageId));
  }

  /** Records a failed delivery; never lowers the count already remembered. */
  recordFailure(topic: string, subscription: string, messageId: string, failures: number, lastError: string): void {
    const key = RedeliveryMemory.key(topic, subscription, messageId);
    const known = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, { failures: Math.max(failures, known?.failures ?? 0), lastError });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** The message was acked or dead-lettered. */
  forget(topic: string, subscription: string, messageId: string): void {
    this.entries.delete(RedeliveryMemory.key(topic, subscription, messageId));
  }

  private static key(topic: string, subscription: string, messageId: string): string {
    return `${topic}\n${subscription}\n${messageId}`;
  }
}
