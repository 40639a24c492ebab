/**
 * Messages a consumer cannot decode (unknown codec, corrupt compressed data, malformed batch,
 * an uncompressed size beyond the broker's limit), published as raw entries to the real broker:
 * never thrown at the application, dead-lettered with the reason when there is a dead-letter
 * policy, else discarded; either way acked, and the consumer goes on with the next message.
 */
import { PulsarClient } from './client';
import type { UndecodableEvent } from './consumer';
import { PulsarErrorCode } from './pulsar-error';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
  testLogger,
  topicStats,
  uniqueTopic,
  waitFor,
} from './test-support/broker';
import { RawProducer } from './test-support/raw-producer';
import { proto } from './wire';

let client: PulsarClient;
beforeAll(async () => {
  client = await PulsarClient.connect({ serviceUrl: brokerUrl(), logger: testLogger() });
}, BROKER_START_TIMEOUT_MS);
afterAll(() => client?.close());

const C = proto.CompressionType;

interface BadEntry {
  what: string;
  metadata: Record<string, unknown>;
  payload: Buffer;
  code: string;
  reason: RegExp;
}

const BAD: BadEntry[] = [
  {
    what: 'unknown codec 9',
    metadata: { compression: 9, uncompressedSize: 2 },
    payload: Buffer.from('??'),
    code: PulsarErrorCode.UNSUPPORTED_COMPRESSION,
    reason: /unknown compression codec 9/,
  },
  {
    what: 'ZSTD garbage',
    metadata: { compression: C.ZSTD, uncompressedSize: 50 },
    payload: Buffer.from('this is not a zstd frame at all'),
    code: PulsarErrorCode.COMPRESSION_ERROR,
    reason: /malformed ZSTD payload/,
  },
  {
    what: 'LZ4 inflating beyond the limit',
    metadata: { compression: C.LZ4, uncompressedSize: 6 * 1024 * 1024 },
    payload: Buffer.from([0x1f, 0x61, 0x01, 0x00]),
    code: PulsarErrorCode.COMPRESSION_ERROR,
    reason: /uncompressed size 6291456 exceeds the maximum message size 5242880/,
  },
  {
    what: 'batch of 3 holding garbage',
    metadata: { numMessagesInBatch: 3, uncompressedSize: 5 },
    payload: Buffer.from([0, 0, 0, 200, 1]),
    code: PulsarErrorCode.PROTOCOL_ERROR,
    reason: /malformed batch/,
  },
];

async function publishMix(topic: string): Promise<{ ids: string[] }> {
  const raw = await RawProducer.create(brokerUrl(), topic, testLogger());
  const ids = [await raw.send({ uncompressedSize: 5 }, Buffer.from('first'))];
  for (const bad of BAD) ids.push(await raw.send(bad.metadata, bad.payload));
  ids.push(await raw.send({ uncompressedSize: 4 }, Buffer.from('last')));
  raw.close();
  return { ids };
}

function backlog(stats: Record<string, unknown>, subscription: string): number {
  return (stats.subscriptions as Record<string, { msgBacklog: number }>)[subscription].msgBacklog;
}

it.each(['exclusive', 'shared'] as const)(
  '%s, no dead-letter policy: undecodable messages are discarded with a reason, the good ones delivered',
  async (type) => {
    const topic = uniqueTopic(`undecodable-discard-${type}`);
    const { ids } = await publishMix(topic);
    const consumer = await client.subscribe({ topic, subscription: 's', type, initialPosition: 'earliest' });
    const events: UndecodableEvent[] = [];
    consumer.on('undecodable', (e) => events.push(e));
    const first = await consumer.receive(10_000);
    const last = await consumer.receive(10_000);
    expect([first.payload.toString(), last.payload.toString()]).toEqual(['first', 'last']);
    await consumer.ack(first);
    await consumer.ack(last);
    await waitFor(() => events.length === BAD.length, 5000, 'an event per undecodable message');
    BAD.forEach((bad, i) => {
      expect({ what: bad.what, code: events[i].code, id: events[i].messageId.toString() }).toEqual({
        what: bad.what,
        code: bad.code,
        id: `${ids[i + 1]}:-1`,
      });
      expect(events[i].reason).toMatch(bad.reason);
      expect(events[i].deadLetterTopic).toBeUndefined();
    });
    // All acked on the broker (the undecodable ones with their validation error).
    await waitFor(async () => backlog(await topicStats(topic), 's') === 0, 10_000, 'an empty backlog');
    await consumer.close();
  },
);

it('with a dead-letter policy: the raw entries go to the dead-letter topic with the reason', async () => {
  const topic = uniqueTopic('undecodable-dlq');
  const deadLetterTopic = `${topic}-s-DLQ`;
  const dlqReader = await client.subscribe({
    topic: deadLetterTopic,
    subscription: 'inspect',
    initialPosition: 'earliest',
  });
  const { ids } = await publishMix(topic);
  const consumer = await client.subscribe({
    topic,
    subscription: 's',
    type: 'shared',
    initialPosition: 'earliest',
    deadLetter: { maxRedeliverCount: 3 },
  });
  const events: UndecodableEvent[] = [];
  consumer.on('undecodable', (e) => events.push(e));
  const good = [await consumer.receive(10_000), await consumer.receive(10_000)];
  expect(good.map((m) => m.payload.toString()).sort()).toEqual(['first', 'last']);
  for (const m of good) await consumer.ack(m);

  const letters = [];
  for (let i = 0; i < BAD.length; i++) letters.push(await dlqReader.receive(10_000));
  const byOrigin = new Map(letters.map((m) => [m.properties.ORIGIN_MESSAGE_ID, m]));
  BAD.forEach((bad, i) => {
    const letter = byOrigin.get(`${ids[i + 1]}:-1`);
    expect({ what: bad.what, found: letter !== undefined }).toEqual({ what: bad.what, found: true });
    if (!letter) return;
    expect(letter.payload.equals(bad.payload)).toBe(true);
    expect(letter.properties.DEAD_LETTER_REASON).toMatch(bad.reason);
    expect(letter.properties.DEAD_LETTER_REASON.startsWith(bad.code)).toBe(true);
    expect(letter.properties.REAL_TOPIC).toBe(topic);
    expect(letter.properties.REAL_SUBSCRIPTION).toBe('s');
    expect(letter.properties.PULSAR_UNCOMPRESSED_SIZE).toBe(String(bad.metadata.uncompressedSize));
  });
  expect(byOrigin.get(`${ids[1]}:-1`)?.properties.PULSAR_COMPRESSION).toBe('codec 9');
  expect(byOrigin.get(`${ids[2]}:-1`)?.properties.PULSAR_COMPRESSION).toBe('ZSTD');
  expect(byOrigin.get(`${ids[4]}:-1`)?.properties.PULSAR_NUM_MESSAGES_IN_BATCH).toBe('3');
  await waitFor(() => events.length === BAD.length, 5000, 'an event per dead letter');
  expect(events.every((e) => e.deadLetterTopic === deadLetterTopic && e.deadLetterMessageId)).toBe(true);
  await waitFor(async () => backlog(await topicStats(topic), 's') === 0, 10_000, 'an empty backlog');
  await consumer.close();
  await dlqReader.close();
});
