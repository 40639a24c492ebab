/**
 * Non-durable consumers against the real broker: the subscription goes with its consumer (closed,
 * or its process killed), a rollback replays only what was published within the window, and a
 * reconnect resumes right after the last message handed to the application.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { PulsarClient } from './client';
import type { ConnectionPool } from './connection-pool';
import type { Consumer } from './consumer';
import { PulsarErrorCode } from './pulsar-error';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
  sleep,
  testLogger,
  topicStats,
  uniqueTopic,
  unloadTopic,
  waitFor,
} from './test-support/broker';

let url: string;
const clients: PulsarClient[] = [];

beforeAll(() => {
  url = brokerUrl();
}, BROKER_START_TIMEOUT_MS);

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

async function connect(options: { initialBackoffMs?: number } = {}): Promise<PulsarClient> {
  const client = await PulsarClient.connect({
    serviceUrl: url,
    logger: testLogger(),
    initialBackoffMs: options.initialBackoffMs ?? 50,
    maxBackoffMs: Math.max(500, options.initialBackoffMs ?? 0),
  });
  clients.push(client);
  return client;
}

async function subscriptionsOf(topic: string): Promise<Record<string, { isDurable?: boolean }>> {
  const stats = await topicStats(topic);
  return (stats.subscriptions ?? {}) as Record<string, { isDurable?: boolean }>;
}

async function receiveTexts(consumer: Consumer, count: number): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = await consumer.receive(10_000);
    texts.push(m.payload.toString());
    await consumer.ack(m);
  }
  return texts;
}

/** Drops the client's connection to the broker (its consumers and producers reconnect). */
async function dropConnection(client: PulsarClient): Promise<void> {
  const pool = (client as unknown as { pool: ConnectionPool }).pool;
  (await pool.get(url)).close();
}

const texts = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('non-durable consumer', () => {
  it('refuses types other than exclusive, and a rollback on a durable subscription, with INVALID_ARGUMENT', async () => {
    const client = await connect();
    const topic = uniqueTopic('nd-types');
    for (const type of ['shared', 'failover', 'key-shared'] as const) {
      await expect(client.subscribe({ topic, subscription: 's', type, durable: false })).rejects.toMatchObject({
        code: PulsarErrorCode.INVALID_ARGUMENT,
        message: expect.stringContaining(`got ${type}`),
      });
    }
    await expect(client.subscribe({ topic, subscription: 's', startRollbackMs: 1000 })).rejects.toMatchObject({
      code: PulsarErrorCode.INVALID_ARGUMENT,
      message: expect.stringContaining('needs durable: false'),
    });
    await expect(
      client.subscribe({ topic, subscription: 's', durable: false, startRollbackMs: -1 }),
    ).rejects.toMatchObject({ code: PulsarErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('-1') });
  });

  it('leaves no subscription on the topic once closed; unsubscribe just closes it', async () => {
    const client = await connect();
    const topic = uniqueTopic('nd-close');
    const consumer = await client.subscribe({ topic, subscription: 'follow', durable: false });
    expect((await subscriptionsOf(topic)).follow).toMatchObject({ isDurable: false });
    await consumer.close();
    await waitFor(async () => (await subscriptionsOf(topic)).follow === undefined, 10_000, 'the subscription to go');

    const again = await client.subscribe({ topic, subscription: 'again', durable: false });
    expect((await subscriptionsOf(topic)).again).toBeDefined();
    await again.unsubscribe();
    await waitFor(async () => (await subscriptionsOf(topic)).again === undefined, 10_000, 'the subscription to go');
  });

  it('leaves no subscription behind when its process is killed (SIGKILL); a durable one stays', async () => {
    const topic = uniqueTopic('nd-kill');
    // A child process subscribes (one durable, one non-durable subscription), says so, then waits.
    const script = `
      const { PulsarClient } = require(${JSON.stringify(path.join(__dirname, 'index.js'))});
      (async () => {
        const client = await PulsarClient.connect({ serviceUrl: ${JSON.stringify(url)} });
        await client.subscribe({ topic: ${JSON.stringify(topic)}, subscription: 'kept', durable: true });
        await client.subscribe({ topic: ${JSON.stringify(topic)}, subscription: 'gone', durable: false });
        process.stdout.write('subscribed\\n');
        setInterval(() => undefined, 1000);
      })().catch((err) => { console.error(err); process.exit(3); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('subscribed') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited with ${code} before subscribing`)));
      });
      const before = await subscriptionsOf(topic);
      expect(before.gone).toMatchObject({ isDurable: false });
      expect(before.kept).toMatchObject({ isDurable: true });
    } finally {
      child.kill('SIGKILL');
    }
    await waitFor(async () => (await subscriptionsOf(topic)).gone === undefined, 15_000, 'the non-durable subscription to go');
    expect((await subscriptionsOf(topic)).kept).toBeDefined();
  }, 30_000);

  it('with startRollbackMs, starts at the messages published within the window, not older ones', async () => {
    const client = await connect();
    const topic = uniqueTopic('nd-rollback');
    // A durable subscription keeps the messages on the topic (as a retention policy would).
    const keeper = await client.subscribe({ topic, subscription: 'keeper' });
    const producer = await client.createProducer({ topic, batching: false });
    await producer.send({ payload: Buffer.from('old') });
    await sleep(3500);
    await producer.send({ payload: Buffer.from('recent-1') });
    await producer.send({ payload: Buffer.from('recent-2') });
    const consumer = await client.subscribe({ topic, subscription: 'follow', durable: false, startRollbackMs: 2000 });
    expect(await receiveTexts(consumer, 2)).toEqual(['recent-1', 'recent-2']);
    await producer.send({ payload: Buffer.from('later') });
    expect(await receiveTexts(consumer, 1)).toEqual(['later']);
    // Without a rollback it starts at the end (initialPosition latest).
    const fresh = await client.subscribe({ topic, subscription: 'fresh', durable: false });
    await producer.send({ payload: Buffer.from('last') });
    expect(await receiveTexts(fresh, 1)).toEqual(['last']);
    await keeper.close();
  }, 30_000);

  it('after a lost connection resumes right after the last message received, in the middle of a batch: none lost, none twice', async () => {
    const client = await connect();
    const topic = uniqueTopic('nd-reconnect-batch');
    const consumer = await client.subscribe({ topic, subscription: 'follow', durable: false, receiverQueueSize: 1 });
    const producer = await client.createProducer({ topic, batching: { maxMessages: 10, maxPublishDelayMs: 50 } });
    await Promise.all(texts('m', 0, 50).map((t) => producer.send({ payload: Buffer.from(t) })));
    const first = await receiveTexts(consumer, 15);
    expect(first).toEqual(texts('m', 0, 15));
    // The consumer holds the rest of the second batch: dropped with the connection, and the broker
    // restarts the re-created subscription at that batch.
    await dropConnection(client);
    const rest = await receiveTexts(consumer, 35);
    expect(rest).toEqual(texts('m', 15, 50));
    await expect(consumer.receive(500)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  }, 30_000);

  it('after the broker unloads the topic (subscription dropped) resumes after the last message, with later ones', async () => {
    const client = await connect();
    const topic = uniqueTopic('nd-unload');
    const consumer = await client.subscribe({ topic, subscription: 'follow', durable: false, receiverQueueSize: 5 });
    const producer = await client.createProducer({ topic, batching: false });
    for (const t of texts('m', 0, 10)) await producer.send({ payload: Buffer.from(t) });
    expect(await receiveTexts(consumer, 4)).toEqual(texts('m', 0, 4));
    await unloadTopic(topic);
    for (const t of texts('m', 10, 15)) await producer.send({ payload: Buffer.from(t) });
    expect(await receiveTexts(consumer, 11)).toEqual(texts('m', 4, 15));
    await expect(consumer.receive(500)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  }, 30_000);

  it('loses nothing published while it reconnects before it received anything', async () => {
    // Slow reconnects (2 to 4 s): the messages below are published while the consumer is away.
    const slow = await connect({ initialBackoffMs: 4000 });
    const topic = uniqueTopic('nd-reconnect-empty');
    const consumer = await slow.subscribe({ topic, subscription: 'follow', durable: false });
    const publisher = await connect();
    const producer = await publisher.createProducer({ topic, batching: false });
    await dropConnection(slow);
    await waitFor(async () => (await subscriptionsOf(topic)).follow === undefined, 2000, 'the subscription to go');
    for (const t of texts('m', 0, 3)) await producer.send({ payload: Buffer.from(t) });
    expect(await receiveTexts(consumer, 3)).toEqual(texts('m', 0, 3));
  }, 30_000);
});
