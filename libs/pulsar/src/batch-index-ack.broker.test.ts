/**
 * Batch-index acknowledgements against the real broker (which runs with
 * acknowledgmentAtBatchIndexLevelEnabled=true, deploy/pulsar/standalone.conf): after acking some
 * messages of a batch, a NEW client (no local state) gets only the unacked ones back.
 */
import { PulsarClient } from './client';
import type { Consumer, ConsumerOptions } from './consumer';
import type { Message } from './message';
import { PulsarErrorCode } from './pulsar-error';
import {
  BROKER_START_TIMEOUT_MS,
  admin,
  brokerUrl,
  sleep,
  testLogger,
  topicStats,
  uniqueTopic,
  waitFor,
} from './test-support/broker';

const BATCH = 10;
let url: string;
let producerClient: PulsarClient;

beforeAll(async () => {
  url = brokerUrl();
  const config = (await admin('GET', '/admin/v2/brokers/configuration/runtime')) as Record<string, string>;
  if (config.acknowledgmentAtBatchIndexLevelEnabled !== 'true')
    throw new Error(
      `the broker at ${url} runs with acknowledgmentAtBatchIndexLevelEnabled=${config.acknowledgmentAtBatchIndexLevelEnabled}; ` +
        'these tests need true (deploy/pulsar/standalone.conf sets it: restart a broker started from an older checkout)',
    );
  producerClient = await PulsarClient.connect({ serviceUrl: url, logger: testLogger() });
}, BROKER_START_TIMEOUT_MS);
afterAll(() => producerClient?.close());

/** Publishes BATCH messages as ONE batch; returns their ids. */
async function publishBatch(topic: string): Promise<string[]> {
  const producer = await producerClient.createProducer({
    topic,
    batching: { maxMessages: BATCH, maxPublishDelayMs: 1000, keyBased: false },
  });
  const ids = await Promise.all(
    Array.from({ length: BATCH }, (_, i) => producer.send({ payload: Buffer.from(`m${i}`) })),
  );
  await producer.close();
  const strings = ids.map(String);
  // One entry, indexes 0..9.
  expect(new Set(ids.map((id) => id.entryKey())).size).toBe(1);
  expect(ids.map((id) => id.batchIndex)).toEqual(Array.from({ length: BATCH }, (_, i) => i));
  return strings;
}

/** A fresh client (fresh connection, no client-side ack state) receiving everything that is left. */
async function drain(
  options: ConsumerOptions,
  expected: number,
): Promise<{ got: Message[]; consumer: Consumer; client: PulsarClient }> {
  const client = await PulsarClient.connect({ serviceUrl: url, logger: testLogger() });
  const consumer = await client.subscribe(options);
  const got: Message[] = [];
  for (let i = 0; i < expected; i++) got.push(await consumer.receive(10_000));
  await expect(consumer.receive(500)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  return { got, consumer, client };
}

function subscriptionStats(
  stats: Record<string, unknown>,
  subscription: string,
): { msgBacklog: number; consumers: { unackedMessages: number }[] } {
  return (
    stats.subscriptions as Record<string, { msgBacklog: number; consumers: { unackedMessages: number }[] }>
  )[subscription];
}

/** Receives the batch on a first client, acks some (individually or cumulatively), closes the client. */
async function firstPass(
  options: ConsumerOptions,
  ack: (consumer: Consumer, batch: Message[]) => Promise<void>,
): Promise<string[]> {
  const client = await PulsarClient.connect({ serviceUrl: url, logger: testLogger() });
  const consumer = await client.subscribe(options);
  const ids = await publishBatch(options.topic);
  const batch: Message[] = [];
  for (let i = 0; i < BATCH; i++) batch.push(await consumer.receive(10_000));
  expect(batch.map((m) => m.messageId.toString())).toEqual(ids);
  await ack(consumer, batch);
  await sleep(300); // acks go out on the next tick; let the broker apply them
  await client.close();
  return ids;
}

it.each(['shared', 'key-shared', 'exclusive', 'failover'] as const)(
  '%s: after a restart only the unacked messages of a batch come back, with their ids',
  async (type) => {
    const topic = uniqueTopic(`batch-index-${type}`);
    const options: ConsumerOptions = { topic, subscription: 's', type, initialPosition: 'earliest' };
    const acked = [0, 2, 3, 7];
    const ids = await firstPass(options, async (consumer, batch) => {
      for (const i of acked) await consumer.ack(batch[i]);
      if (type === 'shared' || type === 'key-shared') {
        // The broker counted the partial acks: 6 of the 10 are still unacked by this consumer.
        await waitFor(
          async () => subscriptionStats(await topicStats(topic), 's').consumers[0]?.unackedMessages === 6,
          10_000,
          'the broker to count the batch-index acks',
        );
      }
    });
    const left = [1, 4, 5, 6, 8, 9];
    const { got, consumer, client } = await drain(options, left.length);
    expect(got.map((m) => m.payload.toString())).toEqual(left.map((i) => `m${i}`));
    expect(got.map((m) => m.messageId.toString())).toEqual(left.map((i) => ids[i]));
    // Acking the rest completes the batch: nothing left on the broker.
    for (const m of got) await consumer.ack(m);
    await waitFor(
      async () => subscriptionStats(await topicStats(topic), 's').msgBacklog === 0,
      10_000,
      'an empty backlog',
    );
    await client.close();
  },
);

it('a cumulative ack inside a batch keeps the messages after it', async () => {
  const topic = uniqueTopic('batch-index-cumulative');
  const options: ConsumerOptions = {
    topic,
    subscription: 's',
    type: 'failover',
    initialPosition: 'earliest',
  };
  const ids = await firstPass(options, (consumer, batch) => consumer.ackCumulative(batch[4]));
  const { got, client } = await drain(options, 5);
  expect(got.map((m) => m.messageId.toString())).toEqual(ids.slice(5));
  await client.close();
});

it('with batchIndexAck false a partly acked batch comes back whole (the entry is acked only when complete)', async () => {
  const topic = uniqueTopic('batch-index-off');
  const options: ConsumerOptions = {
    topic,
    subscription: 's',
    type: 'shared',
    initialPosition: 'earliest',
    batchIndexAck: false,
  };
  const ids = await firstPass(options, async (consumer, batch) => {
    for (const i of [0, 1, 2]) await consumer.ack(batch[i]);
  });
  const { got, client } = await drain(options, BATCH);
  expect(got.map((m) => m.messageId.toString())).toEqual(ids);
  await client.close();
});

it('a redelivery (nack) on the same consumer hands out only the unacked messages of the batch', async () => {
  const topic = uniqueTopic('batch-index-nack');
  const client = await PulsarClient.connect({ serviceUrl: url, logger: testLogger() });
  const consumer = await client.subscribe({
    topic,
    subscription: 's',
    type: 'shared',
    initialPosition: 'earliest',
    nackRedeliveryDelayMs: 100,
  });
  const ids = await publishBatch(topic);
  const batch: Message[] = [];
  for (let i = 0; i < BATCH; i++) batch.push(await consumer.receive(10_000));
  for (let i = 0; i < BATCH; i++) if (i !== 5 && i !== 6) await consumer.ack(batch[i]);
  consumer.nack(batch[5]);
  consumer.nack(batch[6]);
  const again = [await consumer.receive(10_000), await consumer.receive(10_000)];
  expect(again.map((m) => m.messageId.toString())).toEqual([ids[5], ids[6]]);
  expect(again.map((m) => m.redeliveryCount)).toEqual([1, 1]);
  await expect(consumer.receive(500)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  await client.close();
});
