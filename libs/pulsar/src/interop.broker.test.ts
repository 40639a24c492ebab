/**
 * Interoperability with the official Java client (deploy/pulsar/pulsar.sh classpath client):
 * what Java writes (every codec it has that we read, batched or not) we read, and the other way
 * round; message ids print the same on both sides.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { PulsarClient } from './client';
import type { CompressionName } from './compression';
import type { BatchingOptions } from './producer';
import {
  BROKER_START_TIMEOUT_MS,
  PULSAR_SCRIPT,
  brokerUrl,
  testLogger,
  topicStats,
  uniqueTopic,
} from './test-support/broker';

const JAVA_SOURCE = path.resolve(__dirname, '../src/test-support/java-interop.java');
const N = 20;
let url: string;
let classpath: string;
let client: PulsarClient;

beforeAll(async () => {
  url = brokerUrl();
  classpath = execFileSync(PULSAR_SCRIPT, ['classpath', 'client'], {
    encoding: 'utf8',
    timeout: BROKER_START_TIMEOUT_MS,
  }).trim();
  client = await PulsarClient.connect({ serviceUrl: url, logger: testLogger() });
}, BROKER_START_TIMEOUT_MS);
afterAll(() => client?.close());

/** Runs the Java program; returns its result lines (its own logs are dropped). */
function java(args: string[]): string[] {
  const out = execFileSync('java', ['-cp', classpath, JAVA_SOURCE, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  return out
    .split('\n')
    .filter((line) => line.startsWith('ID ') || line.startsWith('MSG ') || line.startsWith('TIMEOUT '));
}

const javaPayload = (i: number): string => `java-${i}-${'x'.repeat(i * 10)}`;

/** java-interop.java's bigPayload(i), recomputed (Java int arithmetic: Math.imul, wrap-around). */
function bigPayload(i: number): Buffer {
  const b = Buffer.alloc(1000 + 3001 * i);
  let x = 7919 * i + 1;
  for (let k = 0; k < b.length; k++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    b[k] = k % 64 < 32 ? 97 + (Math.floor(k / 64) % 26) : x >>> 24;
  }
  return b;
}

it('reads what the Java client writes: NONE, LZ4, ZLIB, SNAPPY, ZSTD, batched and not', async () => {
  const specs = [
    ['NONE', 'false'],
    ['NONE', 'true'],
    ['LZ4', 'false'],
    ['LZ4', 'true'],
    ['ZLIB', 'true'],
    ['SNAPPY', 'true'],
    ['ZSTD', 'false'],
    ['ZSTD', 'true'],
    ['ZSTD', 'false', 'big'],
    ['ZSTD', 'true', 'big'],
  ].map(([codec, batching, big]) => ({
    topic: uniqueTopic(`from-java-${codec}-${batching}${big ? '-big' : ''}`),
    codec,
    batching,
    big: big === 'big',
  }));
  const lines = java([
    'produce',
    url,
    String(N),
    ...specs.map((s) => `${s.topic}=${s.codec}=${s.batching}${s.big ? '=big' : ''}`),
  ]);
  for (const spec of specs) {
    const javaIds = lines.filter((l) => l.startsWith(`ID ${spec.topic} `)).map((l) => l.split(' ')[2]);
    expect(javaIds).toHaveLength(N);
    if (spec.batching === 'true') expect(javaIds.some((id) => id.split(':').length === 4)).toBe(true);
    const consumer = await client.subscribe({
      topic: spec.topic,
      subscription: 'ts',
      initialPosition: 'earliest',
    });
    for (let i = 0; i < N; i++) {
      const m = await consumer.receive(10_000);
      const expected = spec.big ? bigPayload(i) : Buffer.from(javaPayload(i));
      // Byte-exact: same length and same bytes.
      expect({
        codec: spec.codec,
        big: spec.big,
        i,
        length: m.payload.length,
        same: m.payload.equals(expected),
      }).toEqual({ codec: spec.codec, big: spec.big, i, length: expected.length, same: true });
      expect(m.key).toBe(`k${i}`);
      expect(m.properties).toEqual({ i: String(i) });
      expect(m.eventTime).toBe(1000 + i);
      expect(m.messageId.toString()).toBe(javaIds[i]);
      await consumer.ack(m);
    }
    await consumer.close();
    if (spec.big) {
      // Compressed on the wire: the broker stored far fewer bytes than the payloads hold.
      const total = Array.from({ length: N }, (_, i) => bigPayload(i).length).reduce((a, b) => a + b, 0);
      expect((await topicStats(spec.topic)).bytesInCounter as number).toBeLessThan(0.8 * total);
    }
  }
}, 240_000);

it('the Java client reads what we write: none, zlib, lz4, batched (key-based and mixed) and not', async () => {
  const specs: { compression: CompressionName; batching: BatchingOptions | false }[] = [
    { compression: 'none', batching: false },
    { compression: 'lz4', batching: false },
    { compression: 'lz4', batching: { keyBased: false, maxPublishDelayMs: 20 } },
    { compression: 'zlib', batching: { keyBased: false, maxPublishDelayMs: 20 } },
    { compression: 'none', batching: { maxPublishDelayMs: 20 } },
  ];
  const topics: string[] = [];
  const sent: string[][] = [];
  for (const spec of specs) {
    const topic = uniqueTopic(`to-java-${spec.compression}`);
    topics.push(topic);
    const producer = await client.createProducer({
      topic,
      compression: spec.compression,
      batching: spec.batching,
    });
    // Key-based batches group equal keys: two messages per key.
    const ids = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        producer.send({
          payload: Buffer.from(`ts-${i}-${'y'.repeat(i * 10)}`),
          key: `k${Math.floor(i / 2)}`,
          properties: { i: String(i) },
        }),
      ),
    );
    sent.push(ids.map(String));
    await producer.close();
  }
  const lines = java(['consume', url, String(N), 'java-reader', ...topics]);
  expect(lines.filter((l) => l.startsWith('TIMEOUT'))).toEqual([]);
  topics.forEach((topic, t) => {
    const got = lines
      .filter((l) => l.startsWith(`MSG ${topic} `))
      .map((l) => l.slice(`MSG ${topic} `.length).split('\t'));
    expect(got).toHaveLength(N);
    got.forEach(([id, key, i, payload], n) => {
      expect({ topic: t, id, key, i, payload }).toEqual({
        topic: t,
        id: sent[t][n],
        key: `k${Math.floor(n / 2)}`,
        i: String(n),
        payload: `ts-${n}-${'y'.repeat(n * 10)}`,
      });
    });
  });
}, 180_000);
