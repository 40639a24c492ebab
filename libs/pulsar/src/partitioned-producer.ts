import type { ClientContext } from './client-context';
import type { HashingScheme } from './key-hash';
import type { MessageId } from './message-id';
import { MessageRouter } from './message-router';
import { type Producer, type ProducerMessage, type ProducerOptions, SingleTopicProducer } from './producer';
import { partitionTopicName } from './topic-name';

export interface PartitionedProducerOptions extends ProducerOptions {
  /** Key hash used to pick a partition (default java-string, as the Java client). */
  hashingScheme?: HashingScheme;
}

/** Producer on a partitioned topic: one producer per partition, messages routed by key. */
export class PartitionedProducer implements Producer {
  private readonly router: MessageRouter;

  private constructor(
    readonly topic: string,
    private readonly producers: SingleTopicProducer[],
    scheme: HashingScheme,
  ) {
    this.router = new MessageRouter(producers.length, scheme);
  }

  static async create(
    ctx: ClientContext,
    options: PartitionedProducerOptions,
    partitions: number,
  ): Promise<PartitionedProducer> {
    const settled = await Promise.allSettled(
      Array.from({ length: partitions }, (_, i) =>
        SingleTopicProducer.create(ctx, { ...options, topic: partitionTopicName(options.topic, i) }, i),
      ),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const created = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(created.map((p) => p.close().catch(() => undefined)));
      throw failed.reason;
    }
    return new PartitionedProducer(options.topic, created, options.hashingScheme ?? 'java-string');
  }

  get producerName(): string {
    return this.producers[0].producerName;
  }

  get partitions(): number {
    return this.producers.length;
  }

  send(message: ProducerMessage): Promise<MessageId> {
    return this.producers[this.router.choose(message.key)].send(message);
  }

  async flush(): Promise<void> {
    await Promise.all(this.producers.map((p) => p.flush()));
  }

  async close(): Promise<void> {
    await Promise.all(this.producers.map((p) => p.close()));
  }
}
