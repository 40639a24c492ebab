import type { MessageId } from './message-id';

/** A message as delivered to a consumer. */
export interface Message {
  /** The topic (partition, for partitioned topics) the message was read from. */
  readonly topic: string;
  readonly messageId: MessageId;
  readonly payload: Buffer;
  /** Partition key set by the producer. */
  readonly key?: string;
  readonly properties: Readonly<Record<string, string>>;
  /** When the producer published it, ms since epoch (producer clock). */
  readonly publishTime: number;
  /** Application event time, if the producer set one. */
  readonly eventTime?: number;
  /** How many times it was delivered before (0 on first delivery). */
  readonly redeliveryCount: number;
  readonly producerName: string;
  readonly sequenceId: number;
}
