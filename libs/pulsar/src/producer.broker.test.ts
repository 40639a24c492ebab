/** Producing (and reading back) against the real broker. */
import { PulsarClient } from './client';
import type { Consumer } from './consumer';
import type { Message } from './message';
import { MAX_METADATA_BYTES, SingleTopicProducer } from './producer';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
  testLogger,
  topicStats,
  uniqueTopic,
} from './test-support/broker';

let client: PulsarClient;
beforeAll(async () => {
  client = await PulsarClient.connect({ serviceUrl: brokerUrl(), logger: testLogger() });
}, BROKER_START_TIMEOUT_MS);
afterAll(() => client?.close());

async function receiveAll(consumer: Consumer, n: number): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    const m = await consumer.receive(5000);
    out.push(m);
    await consumer.ack(m);
  }
  return out;
}

const text = (m: Message): string => m.payload.toString();

describe('producer', () => {
  it('round-trips payload, key, properties and event time; the receipt id equals the delivered id', async () => {
    const topic = uniqueTopic('round-trip');
    const consumer = await client.subscribe({ topic, subscription: 'reader' });
    const producer = await client.createProducer({ topic, batching: false });
    const before = Date.now();
    const id = await producer.send({
      payload: Uint8Array.from([0, 1, 2, 254, 255]),
      key: 'key-1',
      properties: { a: '1', 'x-y': 'z' },
      eventTime: 1_700_000_000_000,
    });
    const [m] = await receiveAll(consumer, 1);
    expect([...m.payload]).toEqual([0, 1, 2, 254, 255]);
    expect(m.key).toBe('key-1');
    expect(m.properties).toEqual({ a: '1', 'x-y': 'z' });
    expect(m.eventTime).toBe(1_700_000_000_000);
    expect(m.messageId.toString()).toBe(id.toString());
    expect(id.batchIndex).toBe(-1);
    expect(m.redeliveryCount).toBe(0);
    expect(m.topic).toBe(topic);
    expect(m.producerName).toBe(producer.producerName);
    expect(m.publishTime).toBeGreaterThanOrEqual(before - 1000);
    expect(m.publishTime).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('numbers messages with consecutive sequence ids and preserves order', async () => {
    const topic = uniqueTopic('order');
    const consumer = await client.subscribe({ topic, subscription: 'reader' });
    const producer = await client.createProducer({ topic, batching: false, producerName: `p-${Date.now()}` });
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => producer.send({ payload: Buffer.from(`m${i}`) })),
    );
    const got = await receiveAll(consumer, 20);
    expect(got.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(got.map((m) => m.sequenceId)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(got.map((m) => m.messageId.toString())).toEqual(ids.map(String));
    expect(got.every((m) => m.producerName === producer.producerName)).toBe(true);
  });

  it('batches messages: one entry, per-message metadata, batch indexes in receipts and deliveries', async () => {
    const topic = uniqueTopic('batch');
    const consumer = await client.subscribe({ topic, subscription: 'reader' });
    const producer = await client.createProducer({
      topic,
      batching: { maxMessages: 5, maxPublishDelayMs: 50, keyBased: false },
    });
    const ids = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        producer.send({ payload: Buffer.from(`b${i}`), key: `k${i}`, properties: { i: String(i) } }),
      ),
    );
    expect(new Set(ids.map((id) => id.entryKey())).size).toBe(1);
    expect(ids.map((id) => id.batchIndex)).toEqual([0, 1, 2, 3, 4]);
    const got = await receiveAll(consumer, 5);
    expect(got.map(text)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(got.map((m) => m.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(got.map((m) => m.properties.i)).toEqual(['0', '1', '2', '3', '4']);
    expect(got.map((m) => m.messageId.toString())).toEqual(ids.map(String));
  });

  it('key-based batching (default): a batch holds one key, a key change starts a new batch', async () => {
    const topic = uniqueTopic('batch-keys');
    const consumer = await client.subscribe({ topic, subscription: 'reader' });
    const producer = await client.createProducer({ topic, batching: { maxPublishDelayMs: 50 } });
    const keys = ['a', 'a', 'a', 'b', 'b', undefined, undefined];
    const ids = await Promise.all(
      keys.map((key, i) =>
        producer.send({ payload: Buffer.from(`m${i}`), ...(key === undefined ? {} : { key }) }),
      ),
    );
    expect(ids.map((id) => id.batchIndex)).toEqual([0, 1, 2, 0, 1, 0, 1]);
    expect(new Set(ids.map((id) => id.entryKey())).size).toBe(3);
    const got = await receiveAll(consumer, 7);
    expect(got.map((m) => m.key)).toEqual(keys);
    expect(got.map((m) => m.messageId.toString())).toEqual(ids.map(String));
  });

  it('flushes a batch after maxPublishDelayMs, sends a batch of one as a plain message, and splits at maxBytes', async () => {
    const topic = uniqueTopic('batch-delay');
    const consumer = await client.subscribe({ topic, subscription: 'reader' });
    const producer = await client.createProducer({
      topic,
      batching: { maxMessages: 1000, maxPublishDelayMs: 20, maxBytes: 1000 },
    });
    const started = Date.now();
    const lone = await producer.send({ payload: Buffer.from('alone') });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(lone.batchIndex).toBe(-1);
    const big = await Promise.all(
      [0, 1, 2].map((i) => producer.send({ payload: Buffer.alloc(600, 97 + i) })),
    );
    expect(new Set(big.map((id) => id.entryKey())).size).toBeGreaterThanOrEqual(2);
    const got = await receiveAll(consumer, 4);
    expect(got.map((m) => m.messageId.toString())).toEqual([lone, ...big].map(String));
    expect(got[3].payload).toEqual(Buffer.alloc(600, 99));
  });

  it.each(['zlib', 'lz4'] as const)(
    'compresses with %s, batched and not, and reads it back',
    async (compression) => {
      const topic = uniqueTopic(`compress-${compression}`);
      const consumer = await client.subscribe({ topic, subscription: 'reader' });
      const payload = Buffer.from(JSON.stringify({ values: Array.from({ length: 500 }, (_, i) => i % 7) }));
      const plain = await client.createProducer({ topic, batching: false, compression });
      const batched = await client.createProducer({
        topic,
        batching: { maxPublishDelayMs: 30, keyBased: false },
        compression,
      });
      await plain.send({ payload });
      await Promise.all([
        batched.send({ payload, key: 'a' }),
        batched.send({ payload: Buffer.from('small'), key: 'b' }),
      ]);
      const got = await receiveAll(consumer, 3);
      expect(got[0].payload).toEqual(payload);
      expect(got[1].payload).toEqual(payload);
      expect(got[2].payload.toString()).toBe('small');
      expect(got[2].key).toBe('b');
      const stats = await topicStats(topic);
      // Compressed on the wire: the topic stores far fewer bytes than were published.
      expect(stats.bytesInCounter as number).toBeLessThan(payload.length);
    },
  );

  it('rejects a message larger than the broker max message size before sending, naming both sizes', async () => {
    const topic = uniqueTopic('oversize');
    for (const batching of [false, undefined] as const) {
      const producer = await client.createProducer({ topic, ...(batching === false ? { batching } : {}) });
      const size = 5 * 1024 * 1024 + 1;
      const err = await producer.send({ payload: Buffer.alloc(size) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PulsarError);
      expect((err as PulsarError).code).toBe(PulsarErrorCode.MESSAGE_TOO_LARGE);
      expect((err as PulsarError).message).toContain(String(size));
      expect((err as PulsarError).message).toContain(String(5 * 1024 * 1024));
      expect((err as PulsarError).details).toMatchObject({ size, maxMessageSize: 5 * 1024 * 1024 });
      // The producer is still usable.
      await producer.send({ payload: Buffer.from('fine') });
    }
    const stats = await topicStats(topic);
    expect(stats.msgInCounter).toBe(2);
  });

  it('rejects a message whose key and properties are too large, instead of having the broker reset the connection', async () => {
    const topic = uniqueTopic('big-key');
    const consumer = await client.subscribe({ topic, subscription: 'r' });
    for (const batching of [false, undefined] as const) {
      const producer = await client.createProducer({ topic, ...(batching === false ? { batching } : {}) });
      const err = await producer.send({ payload: Buffer.from('x'), key: 'k'.repeat(3_000_000) }).catch((e: unknown) => e);
      expect((err as PulsarError).code).toBe(PulsarErrorCode.MESSAGE_TOO_LARGE);
      expect((err as PulsarError).message).toContain('key and properties take 3000000 bytes');
      const props = await producer.send({ payload: Buffer.from('x'), properties: { big: 'v'.repeat(MAX_METADATA_BYTES) } }).catch((e: unknown) => e);
      expect((props as PulsarError).code).toBe(PulsarErrorCode.MESSAGE_TOO_LARGE);
      // nothing was sent, and the connection carries on
      await producer.send({ payload: Buffer.from('fine'), key: 'k'.repeat(1000) });
    }
    const got = await receiveAll(consumer, 2);
    expect(got.map((m) => m.payload.toString())).toEqual(['fine', 'fine']);
  });

  it('a message just below the limit is accepted', async () => {
    const topic = uniqueTopic('near-limit');
    const consumer = await client.subscribe({ topic, subscription: 'r' });
    const producer = await client.createProducer({ topic, batching: false });
    const payload = Buffer.alloc(5 * 1024 * 1024 - 1024, 7);
    await producer.send({ payload });
    const [m] = await receiveAll(consumer, 1);
    expect(m.payload.length).toBe(payload.length);
  });

  it('applies backpressure: at most maxPendingMessages in flight, send waits for room', async () => {
    const topic = uniqueTopic('backpressure');
    const producer = (await client.createProducer({
      topic,
      batching: false,
      maxPendingMessages: 3,
    })) as SingleTopicProducer;
    let maxSeen = 0;
    const sends = Array.from({ length: 30 }, (_, i) => {
      const p = producer.send({ payload: Buffer.from(`m${i}`) });
      maxSeen = Math.max(maxSeen, producer.pendingCount);
      return p;
    });
    const timer = setInterval(() => (maxSeen = Math.max(maxSeen, producer.pendingCount)), 1);
    await Promise.all(sends);
    clearInterval(timer);
    expect(maxSeen).toBe(3);
    expect(producer.pendingCount).toBe(0);
    expect((await topicStats(topic)).msgInCounter).toBe(30);
  });

  it('flush waits for the receipts of everything sent; close flushes and then refuses sends', async () => {
    const topic = uniqueTopic('flush');
    const producer = await client.createProducer({
      topic,
      batching: { maxPublishDelayMs: 10_000, maxMessages: 1000 },
    });
    const sends = [
      producer.send({ payload: Buffer.from('a') }),
      producer.send({ payload: Buffer.from('b') }),
    ];
    await producer.flush();
    const ids = await Promise.all(sends);
    expect(ids.map((id) => id.batchIndex)).toEqual([0, 1]);
    const late = producer.send({ payload: Buffer.from('c') });
    await producer.close();
    await expect(late).resolves.toBeDefined();
    await expect(producer.send({ payload: Buffer.from('d') })).rejects.toMatchObject({
      code: PulsarErrorCode.ALREADY_CLOSED,
    });
    await producer.close();
  });

  it('fails with the broker error name when the producer name is taken (ProducerBusy)', async () => {
    const topic = uniqueTopic('busy');
    const name = `dup-${Date.now()}`;
    await client.createProducer({ topic, producerName: name });
    await expect(client.createProducer({ topic, producerName: name })).rejects.toMatchObject({
      code: 'ProducerBusy',
    });
  });
});
