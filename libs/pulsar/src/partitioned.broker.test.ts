/** Partitioned topics against the real broker. */
import { PulsarClient } from './client';
import { javaStringHash } from './key-hash';
import type { Message } from './message';
import type { MessageId } from './message-id';
import { PartitionedConsumer } from './partitioned-consumer';
import { PartitionedProducer } from './partitioned-producer';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
  createPartitionedTopic,
  testLogger,
  uniqueTopic,
} from './test-support/broker';

let client: PulsarClient;
beforeAll(async () => {
  client = await PulsarClient.connect({ serviceUrl: brokerUrl(), logger: testLogger() });
}, BROKER_START_TIMEOUT_MS);
afterAll(() => client?.close());

describe('partitioned topics', () => {
  it('routes by key hash (as the Java client) and round-robin without a key; one consumer reads all partitions', async () => {
    const topic = uniqueTopic('partitioned');
    await createPartitionedTopic(topic, 3);
    expect(await client.partitionsOf(topic)).toBe(3);
    const consumer = await client.subscribe({
      topic,
      subscription: 'all',
      type: 'shared',
      receiverQueueSize: 10,
    });
    expect(consumer).toBeInstanceOf(PartitionedConsumer);
    const producer = await client.createProducer({ topic, batching: false });
    expect(producer).toBeInstanceOf(PartitionedProducer);

    const keyed: MessageId[] = [];
    for (const key of ['alpha', 'beta', 'gamma', 'delta']) {
      for (let i = 0; i < 3; i++)
        keyed.push(await producer.send({ payload: Buffer.from(`${key}-${i}`), key }));
    }
    ['alpha', 'beta', 'gamma', 'delta'].forEach((key, k) => {
      for (let i = 0; i < 3; i++) expect(keyed[k * 3 + i].partition).toBe(javaStringHash(key) % 3);
    });
    const unkeyed = await Promise.all(
      Array.from({ length: 6 }, (_, i) => producer.send({ payload: Buffer.from(`free-${i}`) })),
    );
    expect(new Set(unkeyed.map((id) => id.partition))).toEqual(new Set([0, 1, 2]));

    const received: Message[] = [];
    for (let i = 0; i < 18; i++) {
      const m = await consumer.receive(5000);
      received.push(m);
      await consumer.ack(m);
    }
    const sentIds = new Set([...keyed, ...unkeyed].map(String));
    expect(new Set(received.map((m) => m.messageId.toString()))).toEqual(sentIds);
    for (const m of received) expect(m.topic).toBe(`${topic}-partition-${m.messageId.partition}`);
    await consumer.close();
    await producer.close();
  });

  it('nacks and dead-letters through the partition a message came from', async () => {
    const topic = uniqueTopic('partitioned-dlq');
    await createPartitionedTopic(topic, 2);
    const consumer = await client.subscribe({
      topic,
      subscription: 's',
      type: 'shared',
      nackRedeliveryDelayMs: 50,
      deadLetter: { maxRedeliverCount: 1 },
    });
    const dlq = await client.subscribe({
      topic: `${topic}-s-DLQ`,
      subscription: 'inspect',
      initialPosition: 'earliest',
    });
    const producer = await client.createProducer({ topic, batching: false });
    const id = await producer.send({ payload: Buffer.from('bad'), key: 'k' });
    for (let i = 0; i < 2; i++) consumer.nack(await consumer.receive(5000));
    const dead = await dlq.receive(5000);
    expect(dead.payload.toString()).toBe('bad');
    expect(dead.properties.ORIGIN_MESSAGE_ID).toBe(id.toString());
    expect(dead.properties.REAL_TOPIC).toBe(topic);
  });
});
