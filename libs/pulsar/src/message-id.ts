import { PulsarError, PulsarErrorCode } from './pulsar-error';
import type { MessageIdData } from './wire';

/**
 * Identity of a message on a topic: the BookKeeper ledger and entry, the partition (-1 for a
 * non-partitioned topic) and, for a message that travelled inside a batch, its index in the
 * batch (-1 otherwise). The same message has the same id in its send receipt and on delivery.
 */
export class MessageId {
  constructor(
    readonly ledgerId: number,
    readonly entryId: number,
    readonly partition = -1,
    readonly batchIndex = -1,
    /** Number of messages in the batch (0 when not batched). Not part of the identity. */
    readonly batchSize = 0,
  ) {}

  /** From a decoded MessageIdData, with the partition and batch index the client knows. */
  static fromData(
    data: MessageIdData,
    partition?: number,
    batchIndex?: number,
    batchSize?: number,
  ): MessageId {
    return new MessageId(
      data.ledgerId,
      data.entryId,
      partition ?? data.partition ?? -1,
      batchIndex ?? data.batchIndex ?? -1,
      batchSize ?? data.batchSize ?? 0,
    );
  }

  /** "ledger:entry:partition" or, for a batched message, "ledger:entry:partition:batchIndex" (as the Java client prints ids). */
  toString(): string {
    const base = `${this.ledgerId}:${this.entryId}:${this.partition}`;
    return this.batchIndex >= 0 ? `${base}:${this.batchIndex}` : base;
  }

  static parse(text: string): MessageId {
    const parts = text.split(':');
    const nums = parts.map((p) => Number(p));
    if (parts.length < 2 || parts.length > 4 || nums.some((n) => !Number.isSafeInteger(n))) {
      throw new PulsarError(PulsarErrorCode.INVALID_ARGUMENT, `not a message id: "${text}"`);
    }
    return new MessageId(nums[0], nums[1], nums[2] ?? -1, nums[3] ?? -1);
  }

  /** The entry this message is stored in (the batch as a whole), as the broker knows it. */
  entryKey(): string {
    return `${this.ledgerId}:${this.entryId}`;
  }

  /** Wire form for ACK/REDELIVER of the whole entry. The partition is implied by the consumer. */
  toEntryData(): MessageIdData {
    return { ledgerId: this.ledgerId, entryId: this.entryId };
  }

  equals(other: MessageId): boolean {
    return this.compareTo(other) === 0 && this.partition === other.partition;
  }

  /** Order on one partition: ledger, entry, batch index. */
  compareTo(other: MessageId): number {
    return (
      this.ledgerId - other.ledgerId || this.entryId - other.entryId || this.batchIndex - other.batchIndex
    );
  }
}
