import { EventEmitter } from 'node:events';
import {
  type Consumer,
  type ConsumerDeps,
  type ConsumerOptions,
  type NackOptions,
  SingleTopicConsumer,
  type BufferedCount,
  type LastMessageIds,
  ownerOf,
  payloadBytes,
} from './consumer';
import type { Message } from './message';
import type { MessageId } from './message-id';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { ReceiverQueue } from './receiver-queue';
import { partitionTopicName } from './topic-name';

/**
 * Consumer of every partition of a partitioned topic: one consumer per partition feeding one
 * queue; acks go to the partition the message came from. receiverQueueSize applies per
 * partition (0 is treated as 1).
 */
export class PartitionedConsumer extends EventEmitter implements Consumer {
  private readonly queue: ReceiverQueue<Message>;
  private consumers: SingleTopicConsumer[] = [];
  private closed = false;

  private constructor(
    readonly topic: string,
    readonly subscription: string,
  ) {
    super();
    this.queue = new ReceiverQueue<Message>((m) => ownerOf(m)?.messageDequeued(m), payloadBytes);
  }

  static async create(
    options: ConsumerOptions,
    deps: Omit<ConsumerDeps, 'queue' | 'partition' | 'parentTopic' | 'events'>,
    partitions: number,
  ): Promise<PartitionedConsumer> {
    const parent = new PartitionedConsumer(options.topic, options.subscription);
    const perPartition: ConsumerOptions = {
      ...options,
      receiverQueueSize: Math.max(1, options.receiverQueueSize ?? 1000),
    };
    const settled = await Promise.allSettled(
      Array.from({ length: partitions }, (_, i) =>
        SingleTopicConsumer.create(
          { ...perPartition, topic: partitionTopicName(options.topic, i) },
          { ...deps, queue: parent.queue, partition: i, parentTopic: options.topic, events: parent },
        ),
      ),
    );
    const created = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(created.map((c) => c.close().catch(() => undefined)));
      throw failed.reason;
    }
    parent.consumers = created;
    return parent;
  }

  get buffered(): BufferedCount {
    return { messages: this.queue.size, bytes: this.queue.bytes };
  }

  get partitions(): number {
    return this.consumers.length;
  }

  receive(timeoutMs?: number): Promise<Message> {
    if (this.closed)
      return Promise.reject(
        new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `consumer on ${this.topic} is closed`),
      );
    return this.queue.receive(timeoutMs);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof PulsarError && err.code === PulsarErrorCode.ALREADY_CLOSED) return;
        throw err;
      }
    }
  }

  private owner(message: Message): SingleTopicConsumer {
    const owner = ownerOf(message);
    if (!owner || !this.consumers.includes(owner)) {
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `message ${message.messageId.toString()} was not received by this consumer`,
      );
    }
    return owner;
  }

  ack(message: Message): Promise<void> {
    return this.owner(message).ack(message);
  }

  ackCumulative(message: Message): Promise<void> {
    return this.owner(message).ackCumulative(message);
  }

  nack(message: Message, options?: NackOptions): void {
    this.owner(message).nack(message, options);
  }

  deadLetter(message: Message, properties?: Record<string, string>): Promise<MessageId> {
    return this.owner(message).deadLetter(message, properties);
  }

  async lastMessageIds(): Promise<LastMessageIds[]> {
    const perPartition = await Promise.all(this.consumers.map((c) => c.lastMessageIds()));
    return perPartition.flat();
  }

  async unsubscribe(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.unsubscribe()));
    this.closeQueue();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.consumers.map((c) => c.close()));
    this.closeQueue();
  }

  private closeQueue(): void {
    this.closed = true;
    this.queue.close();
  }
}
