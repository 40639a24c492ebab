/** Reconnection against the real broker: a lost connection, and the broker closing a topic. */
import { PulsarClient } from './client';
import type { ConnectionPool } from './connection-pool';
import type { Consumer } from './consumer';
import type { Message } from './message';
import type { SingleTopicProducer } from './producer';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
  capturingLogger,
  unloadTopic,
  uniqueTopic,
  waitFor,
} from './test-support/broker';

let url: string;
beforeAll(() => {
  url = brokerUrl();
}, BROKER_START_TIMEOUT_MS);

function collect(consumer: Consumer): Message[] {
  const messages: Message[] = [];
  void (async () => {
    for await (const m of consumer) {
      messages.push(m);
      await consumer.ack(m);
    }
  })();
  return messages;
}

describe('reconnect', () => {
  it('after the connection is lost: producer resends its pending messages, consumer re-subscribes, nothing is lost', async () => {
    const { logger, records } = capturingLogger('info');
    const client = await PulsarClient.connect({
      serviceUrl: url,
      logger,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
    });
    const pool = (client as unknown as { pool: ConnectionPool }).pool;
    const topic = uniqueTopic('conn-lost');
    const consumer = await client.subscribe({
      topic,
      subscription: 's',
      type: 'shared',
      receiverQueueSize: 10,
    });
    const received = collect(consumer);
    const producer = (await client.createProducer({
      topic,
      batching: { maxPublishDelayMs: 5 },
    })) as SingleTopicProducer;
    const sends = [];
    for (let i = 0; i < 200; i++) {
      sends.push(producer.send({ payload: Buffer.from(`m${i}`) }));
      if (i === 100) (await pool.get(url)).close();
    }
    await Promise.all(sends);
    await waitFor(
      () => new Set(received.map((m) => m.payload.toString())).size === 200,
      10_000,
      'all 200 messages',
    );
    // Sequence ids continued across the reconnect: every id 0..199 arrived.
    expect(new Set(received.map((m) => m.sequenceId))).toEqual(
      new Set(Array.from({ length: 200 }, (_, i) => i)),
    );
    const lines = records.map((r) => JSON.parse(r) as { msg: string; cause?: string });
    const attempts = lines.filter((l) => l.msg === 'connection lost: reconnecting');
    expect(attempts.length).toBeGreaterThanOrEqual(2); // the producer and the consumer
    expect(attempts.every((l) => typeof l.cause === 'string' && l.cause.length > 0)).toBe(true);
    expect(lines.filter((l) => l.msg === 'reconnected').length).toBeGreaterThanOrEqual(2);
    // Messages without a receipt when the connection dropped were sent again.
    expect(lines.some((l) => l.msg === 'resent pending messages')).toBe(true);
    await client.close();
  });

  it('after the broker unloads the topic (CLOSE_PRODUCER / CLOSE_CONSUMER), both come back', async () => {
    const { logger } = capturingLogger('info');
    const client = await PulsarClient.connect({
      serviceUrl: url,
      logger,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
    });
    const topic = uniqueTopic('unload');
    const consumer = await client.subscribe({
      topic,
      subscription: 's',
      type: 'exclusive',
      receiverQueueSize: 5,
    });
    const received = collect(consumer);
    const producer = await client.createProducer({ topic, batching: false });
    await producer.send({ payload: Buffer.from('before') });
    await waitFor(() => received.length === 1, 5000, 'the first message');
    await unloadTopic(topic);
    await producer.send({ payload: Buffer.from('after') });
    await waitFor(
      () => received.some((m) => m.payload.toString() === 'after'),
      10_000,
      'the message sent after the unload',
    );
    await client.close();
  });
});
