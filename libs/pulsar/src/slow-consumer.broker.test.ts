/**
 * A consumer that falls behind does not grow without bound: with far more published than its
 * receiver queue, what the client holds (messages and bytes) stays within receiverQueueSize (plus
 * the rest of one batch), and the broker dispatches more only as the application receives —
 * checked on both sides: the client's `buffered` count, and the broker's own counters of what it
 * sent to the consumer (msgOutCounter) and the permits it holds (availablePermits).
 */
import { PulsarClient } from './client';
import type { Consumer } from './consumer';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
  createPartitionedTopic,
  sleep,
  testLogger,
  topicStats,
  uniqueTopic,
  waitFor,
} from './test-support/broker';

let client: PulsarClient;
beforeAll(async () => {
  client = await PulsarClient.connect({ serviceUrl: brokerUrl(), logger: testLogger() });
}, BROKER_START_TIMEOUT_MS);
afterAll(() => client?.close());

interface ConsumerView {
  msgOutCounter: number;
  availablePermits: number;
}

async function brokerView(
  topic: string,
  subscription: string,
): Promise<ConsumerView & { msgBacklog: number }> {
  const stats = await topicStats(topic);
  const sub = (stats.subscriptions as Record<string, { msgBacklog: number; consumers: ConsumerView[] }>)[
    subscription
  ];
  const [consumer] = sub.consumers;
  return {
    msgBacklog: sub.msgBacklog,
    msgOutCounter: consumer.msgOutCounter,
    availablePermits: consumer.availablePermits,
  };
}

async function publish(topic: string, count: number, size: number, batch: number): Promise<void> {
  const producer = await client.createProducer({
    topic,
    batching:
      batch > 1 ? { maxMessages: batch, maxPublishDelayMs: 1000, maxBytes: 8 << 20, keyBased: false } : false,
    maxPendingMessages: 1000,
  });
  const payload = Buffer.alloc(size, 7);
  await Promise.all(Array.from({ length: count }, () => producer.send({ payload })));
  await producer.close();
}

/** Receives `n` messages, acking them, checking the bound after each. */
async function consume(consumer: Consumer, n: number, bound: number, size: number): Promise<number> {
  let peak = 0;
  for (let i = 0; i < n; i++) {
    await consumer.ack(await consumer.receive(10_000));
    const { messages, bytes } = consumer.buffered;
    peak = Math.max(peak, messages);
    expect(messages).toBeLessThanOrEqual(bound);
    expect(bytes).toBe(messages * size);
  }
  return peak;
}

it('holds exactly receiverQueueSize unbatched messages while idle; permits follow what the application receives', async () => {
  const topic = uniqueTopic('slow-consumer');
  const size = 10 * 1024;
  const queue = 20;
  const consumer = await client.subscribe({ topic, subscription: 's', receiverQueueSize: queue });
  await publish(topic, 500, size, 1);

  await waitFor(() => consumer.buffered.messages === queue, 10_000, 'the receiver queue to fill');
  await sleep(500); // time for anything beyond the permits to arrive (nothing may)
  expect(consumer.buffered).toEqual({ messages: queue, bytes: queue * size });
  expect(await brokerView(topic, 's')).toEqual({
    msgBacklog: 500,
    msgOutCounter: queue,
    availablePermits: 0,
  });

  // Below half the queue, received messages are not re-granted yet: the broker sends nothing.
  for (let i = 0; i < queue / 2 - 1; i++) await consumer.ack(await consumer.receive(5000));
  await sleep(300);
  expect(consumer.buffered.messages).toBe(queue / 2 + 1);
  expect((await brokerView(topic, 's')).msgOutCounter).toBe(queue);

  // The next one makes half the queue: those permits go to the broker, which sends that many more.
  await consumer.ack(await consumer.receive(5000));
  await waitFor(
    async () => (await brokerView(topic, 's')).msgOutCounter === queue + queue / 2,
    5000,
    'a refill',
  );
  await waitFor(() => consumer.buffered.messages === queue, 5000, 'the queue to be full again');

  // Draining everything never holds more than the queue.
  const peak = await consume(consumer, 500 - queue / 2, queue, size);
  expect(peak).toBeGreaterThanOrEqual(queue / 2);
  await waitFor(async () => (await brokerView(topic, 's')).msgBacklog === 0, 10_000, 'an empty backlog');
});

it('with batches larger than the queue, holds at most the queue plus the rest of one batch', async () => {
  const topic = uniqueTopic('slow-consumer-batched');
  const size = 1024;
  const queue = 20;
  const batch = 50;
  // The backlog is complete before the consumer comes (the subscription is made by a consumer
  // that asks for nothing): a broker that reads one entry per permit could send all 20 batches.
  await (await client.subscribe({ topic, subscription: 's', receiverQueueSize: 0 })).close();
  await publish(topic, 1000, size, batch);
  const consumer = await client.subscribe({ topic, subscription: 's', receiverQueueSize: queue });
  await waitFor(() => consumer.buffered.messages > 0, 10_000, 'the first batch');
  await sleep(500);
  // The consumer asks for one entry until it knows the batch size; then for as many entries as fit.
  expect(consumer.buffered.messages).toBe(batch);
  expect((await brokerView(topic, 's')).msgOutCounter).toBe(batch);
  const bound = queue + batch - 1;
  const peak = await consume(consumer, 1000, bound, size);
  expect(peak).toBeLessThanOrEqual(bound);
});

it('a partitioned consumer holds at most receiverQueueSize per partition', async () => {
  const topic = uniqueTopic('slow-consumer-partitioned');
  await createPartitionedTopic(topic, 3);
  const queue = 10;
  const consumer = await client.subscribe({ topic, subscription: 's', receiverQueueSize: queue });
  await publish(topic, 300, 512, 1);
  await waitFor(() => consumer.buffered.messages === 3 * queue, 10_000, 'every partition queue to fill');
  await sleep(500);
  expect(consumer.buffered).toEqual({ messages: 3 * queue, bytes: 3 * queue * 512 });
  const peak = await consume(consumer, 300, 3 * queue, 512);
  expect(peak).toBeGreaterThan(0);
});
