/** Subscriptions, flow control, acks, redelivery and dead letters against the real broker. */
import { PulsarClient } from './client';
import type { Consumer, SingleTopicConsumer } from './consumer';
import type { Message } from './message';
import type { Producer } from './producer';
import { PulsarErrorCode } from './pulsar-error';
import type { ReceiverQueue } from './receiver-queue';
import {
  BROKER_START_TIMEOUT_MS,
  brokerUrl,
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

const text = (m: Message): string => m.payload.toString();

async function publish(producer: Producer, texts: string[], key?: string): Promise<string[]> {
  const ids = await Promise.all(
    texts.map((t) => producer.send({ payload: Buffer.from(t), ...(key === undefined ? {} : { key }) })),
  );
  return ids.map(String);
}

/** Runs a receive loop, recording (and optionally acking) everything. */
function collect(consumer: Consumer, options: { ack?: boolean } = {}): { messages: Message[]; stop(): void } {
  const messages: Message[] = [];
  let stopped = false;
  void (async () => {
    for await (const m of consumer) {
      if (stopped) return;
      messages.push(m);
      if (options.ack !== false) await consumer.ack(m);
    }
  })();
  return { messages, stop: () => (stopped = true) };
}

function queueOf(consumer: Consumer): ReceiverQueue<Message> {
  return (consumer as unknown as { queue: ReceiverQueue<Message> }).queue;
}

describe('subscriptions', () => {
  it('initialPosition earliest reads what was published before the subscription; latest does not', async () => {
    const topic = uniqueTopic('initial');
    const producer = await client.createProducer({ topic, batching: false });
    await publish(producer, ['old']);
    const earliest = await client.subscribe({ topic, subscription: 'e', initialPosition: 'earliest' });
    const latest = await client.subscribe({ topic, subscription: 'l' });
    await publish(producer, ['new']);
    expect(text(await earliest.receive(5000))).toBe('old');
    expect(text(await earliest.receive(5000))).toBe('new');
    expect(text(await latest.receive(5000))).toBe('new');
  });

  it('shared: messages are spread over two consumers, each delivered once', async () => {
    const topic = uniqueTopic('shared');
    const a = await client.subscribe({
      topic,
      subscription: 'workers',
      type: 'shared',
      receiverQueueSize: 5,
    });
    const b = await client.subscribe({
      topic,
      subscription: 'workers',
      type: 'shared',
      receiverQueueSize: 5,
    });
    const ra = collect(a);
    const rb = collect(b);
    const producer = await client.createProducer({ topic, batching: false });
    const texts = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await publish(producer, texts);
    await waitFor(() => ra.messages.length + rb.messages.length === 40, 5000, 'all messages');
    expect(ra.messages.length).toBeGreaterThan(0);
    expect(rb.messages.length).toBeGreaterThan(0);
    expect([...ra.messages, ...rb.messages].map(text).sort()).toEqual([...texts].sort());
  });

  it('exclusive: a second consumer is refused with ConsumerBusy', async () => {
    const topic = uniqueTopic('exclusive');
    await client.subscribe({ topic, subscription: 'only', type: 'exclusive' });
    await expect(client.subscribe({ topic, subscription: 'only', type: 'exclusive' })).rejects.toMatchObject({
      code: 'ConsumerBusy',
    });
  });

  it('failover: one active consumer; when it closes the standby takes over with the unacked messages', async () => {
    const topic = uniqueTopic('failover');
    const active = new Map<string, boolean>();
    const changes: string[] = [];
    const consumers: Record<string, Consumer> = {};
    for (const name of ['a', 'b']) {
      consumers[name] = await client.subscribe({
        topic,
        subscription: 'fo',
        type: 'failover',
        consumerName: name,
      });
      consumers[name].on('activeChange', (isActive) => {
        active.set(name, isActive);
        changes.push(`${name}:${isActive}`);
      });
    }
    // The broker picks the active consumer (by a hash of the topic name for non-partitioned topics).
    await waitFor(
      () =>
        active.get('a') !== undefined && active.get('b') !== undefined && active.get('a') !== active.get('b'),
      5000,
      'one active consumer',
    );
    const [leader, standby] = active.get('a') ? ['a', 'b'] : ['b', 'a'];
    const producer = await client.createProducer({ topic, batching: false });
    await publish(producer, ['1', '2', '3']);
    const m1 = await consumers[leader].receive(5000);
    expect(text(m1)).toBe('1');
    await consumers[leader].ack(m1);
    await expect(consumers[standby].receive(300)).rejects.toMatchObject({
      code: PulsarErrorCode.OPERATION_TIMEOUT,
    });
    await consumers[leader].close();
    const rest = [await consumers[standby].receive(5000), await consumers[standby].receive(5000)];
    expect(rest.map(text)).toEqual(['2', '3']);
    await waitFor(() => active.get(standby) === true, 3000, 'the standby to become active');
    expect(changes).toContain(`${standby}:false`);
  });

  it.each([
    ['off', false],
    ['on, key-based', undefined],
  ] as const)(
    'key-shared (batching %s): all messages of a key go to the same consumer',
    async (_label, batching) => {
      const topic = uniqueTopic('key-shared');
      const a = await client.subscribe({ topic, subscription: 'ks', type: 'key-shared' });
      const b = await client.subscribe({ topic, subscription: 'ks', type: 'key-shared' });
      const ra = collect(a);
      const rb = collect(b);
      const producer = await client.createProducer({
        topic,
        ...(batching === false ? { batching } : { batching: { maxPublishDelayMs: 20 } }),
      });
      const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
      // All at once, three of a key in a row: batching (key-based by default) makes one entry per key.
      await Promise.all(
        keys.flatMap((key) =>
          [0, 1, 2].map((round) => producer.send({ payload: Buffer.from(`${key}/${round}`), key })),
        ),
      );
      await waitFor(() => ra.messages.length + rb.messages.length === 36, 5000, 'all messages');
      expect(ra.messages.length).toBeGreaterThan(0);
      expect(rb.messages.length).toBeGreaterThan(0);
      if (batching === undefined) expect(ra.messages.some((m) => m.messageId.batchIndex === 2)).toBe(true);
      const keysOf = (ms: Message[]): Set<string | undefined> => new Set(ms.map((m) => m.key));
      const inA = keysOf(ra.messages);
      for (const key of keysOf(rb.messages)) expect(inA.has(key)).toBe(false);
      // Per key, order is kept.
      for (const key of keys) {
        const all = [...ra.messages, ...rb.messages].filter((m) => m.key === key).map(text);
        expect(all).toEqual([0, 1, 2].map((r) => `${key}/${r}`));
      }
    },
  );

  it('unsubscribe deletes the subscription (a new one with the same name starts over)', async () => {
    const topic = uniqueTopic('unsub');
    const producer = await client.createProducer({ topic, batching: false });
    const c = await client.subscribe({ topic, subscription: 'gone', initialPosition: 'earliest' });
    await publish(producer, ['x']);
    await c.ack(await c.receive(5000));
    await c.unsubscribe();
    await expect(c.receive()).rejects.toMatchObject({ code: PulsarErrorCode.ALREADY_CLOSED });
    const again = await client.subscribe({ topic, subscription: 'gone', initialPosition: 'earliest' });
    expect(text(await again.receive(5000))).toBe('x');
  });
});

describe('flow control', () => {
  it('holds at most receiverQueueSize messages for a slow consumer and re-grants permits as it receives', async () => {
    const topic = uniqueTopic('bounded');
    const consumer = await client.subscribe({ topic, subscription: 'slow', receiverQueueSize: 4 });
    const producer = await client.createProducer({ topic, batching: false });
    await publish(
      producer,
      Array.from({ length: 30 }, (_, i) => `m${i}`),
    );
    await waitFor(() => queueOf(consumer).size === 4, 3000, 'the receiver queue to fill');
    await sleep(300);
    expect(queueOf(consumer).size).toBe(4);
    const got: string[] = [];
    for (let i = 0; i < 30; i++) {
      const m = await consumer.receive(5000);
      got.push(text(m));
      await consumer.ack(m);
      expect(queueOf(consumer).size).toBeLessThanOrEqual(4);
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
  });

  it('receiverQueueSize 0 prefetches nothing: a busy consumer does not hold messages another could take', async () => {
    const topic = uniqueTopic('zero-queue');
    const busy = await client.subscribe({ topic, subscription: 'w', type: 'shared', receiverQueueSize: 0 });
    const producer = await client.createProducer({ topic, batching: false });
    await publish(producer, ['1', '2', '3', '4']);
    const held = await busy.receive(5000);
    await sleep(200);
    expect(queueOf(busy).size).toBe(0);
    const idle = await client.subscribe({ topic, subscription: 'w', type: 'shared', receiverQueueSize: 0 });
    const others = [await idle.receive(5000), await idle.receive(5000), await idle.receive(5000)];
    expect([held, ...others].map(text).sort()).toEqual(['1', '2', '3', '4']);
  });
});

describe('acknowledgements and redelivery', () => {
  it('acked messages are not redelivered to the next consumer of the subscription', async () => {
    const topic = uniqueTopic('acked');
    const producer = await client.createProducer({ topic, batching: false });
    const c1 = await client.subscribe({ topic, subscription: 's' });
    await publish(producer, ['a', 'b', 'c']);
    await c1.ack(await c1.receive(5000));
    await c1.receive(5000); // b: not acked
    await c1.ack(await c1.receive(5000));
    await sleep(100); // acks are sent on the next tick
    await c1.close();
    const c2 = await client.subscribe({ topic, subscription: 's' });
    const m = await c2.receive(5000);
    expect(text(m)).toBe('b');
    await expect(c2.receive(300)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  });

  it('without batch-index acks, a batch is acked on the broker once all its messages are acked', async () => {
    const topic = uniqueTopic('batch-ack');
    const producer = await client.createProducer({ topic, batching: { maxPublishDelayMs: 50 } });
    const c1 = await client.subscribe({ topic, subscription: 's', batchIndexAck: false });
    await publish(producer, ['p', 'q', 'r']);
    const batch = [await c1.receive(5000), await c1.receive(5000), await c1.receive(5000)];
    await c1.ack(batch[0]);
    await c1.ack(batch[1]);
    await sleep(100);
    await c1.close();
    // Not fully acked: the whole batch comes back (at-least-once).
    const c2 = await client.subscribe({ topic, subscription: 's', batchIndexAck: false });
    const again = [await c2.receive(5000), await c2.receive(5000), await c2.receive(5000)];
    expect(again.map(text)).toEqual(['p', 'q', 'r']);
    for (const m of again) await c2.ack(m);
    await sleep(100);
    await c2.close();
    const c3 = await client.subscribe({ topic, subscription: 's' });
    await expect(c3.receive(300)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
    expect(
      ((await topicStats(topic)).subscriptions as Record<string, { msgBacklog: number }>).s.msgBacklog,
    ).toBe(0);
  });

  it('cumulative ack acknowledges everything up to the message', async () => {
    const topic = uniqueTopic('cumulative');
    const producer = await client.createProducer({ topic, batching: false });
    const c1 = await client.subscribe({ topic, subscription: 's', type: 'failover' });
    await publish(producer, ['1', '2', '3', '4', '5']);
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await c1.receive(5000));
    await c1.ackCumulative(got[2]);
    await sleep(100);
    await c1.close();
    const c2 = await client.subscribe({ topic, subscription: 's', type: 'failover' });
    expect([text(await c2.receive(5000)), text(await c2.receive(5000))]).toEqual(['4', '5']);
    const shared = await client.subscribe({
      topic: uniqueTopic('cum-shared'),
      subscription: 's',
      type: 'shared',
    });
    await expect(shared.ackCumulative(got[0])).rejects.toMatchObject({
      code: PulsarErrorCode.INVALID_ARGUMENT,
    });
  });

  it.each(['shared', 'exclusive'] as const)(
    '%s: a nacked message is redelivered after the delay with its redelivery count',
    async (type) => {
      const topic = uniqueTopic(`nack-${type}`);
      const consumer = await client.subscribe({ topic, subscription: 's', type, nackRedeliveryDelayMs: 200 });
      const producer = await client.createProducer({ topic, batching: false });
      await publish(producer, ['once', 'retry']);
      const first = await consumer.receive(5000);
      await consumer.ack(first);
      const m = await consumer.receive(5000);
      expect(m.redeliveryCount).toBe(0);
      const nackedAt = Date.now();
      consumer.nack(m);
      const again = await consumer.receive(5000);
      expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(180);
      expect(text(again)).toBe('retry');
      expect(again.messageId.toString()).toBe(m.messageId.toString());
      expect(again.redeliveryCount).toBe(1);
      consumer.nack(again);
      const third = await consumer.receive(5000);
      expect(third.redeliveryCount).toBe(2);
      await consumer.ack(third);
    },
  );

  it('a message in a batch can be nacked and is redelivered; its acked siblings are not handed out again', async () => {
    const topic = uniqueTopic('nack-batch');
    const consumer = await client.subscribe({
      topic,
      subscription: 's',
      type: 'shared',
      nackRedeliveryDelayMs: 100,
    });
    const producer = await client.createProducer({ topic, batching: { maxPublishDelayMs: 50 } });
    await publish(producer, ['a', 'b', 'c']);
    const batch = [await consumer.receive(5000), await consumer.receive(5000), await consumer.receive(5000)];
    await consumer.ack(batch[0]);
    await consumer.ack(batch[2]);
    consumer.nack(batch[1]);
    const again = await consumer.receive(5000);
    expect(text(again)).toBe('b');
    expect(again.redeliveryCount).toBe(1);
    await consumer.ack(again);
    await expect(consumer.receive(300)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  });

  it('ack timeout redelivers a message that was received but never acked', async () => {
    const topic = uniqueTopic('ack-timeout');
    const consumer = await client.subscribe({ topic, subscription: 's', type: 'shared', ackTimeoutMs: 300 });
    const producer = await client.createProducer({ topic, batching: false });
    await publish(producer, ['forgotten']);
    const m = await consumer.receive(5000);
    const at = Date.now();
    const again = await consumer.receive(5000);
    expect(Date.now() - at).toBeGreaterThanOrEqual(250);
    expect(again.messageId.toString()).toBe(m.messageId.toString());
    expect(again.redeliveryCount).toBe(1);
    await consumer.ack(again);
    await expect(consumer.receive(600)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
  });

  it.each(['shared', 'exclusive'] as const)(
    '%s: after maxRedeliverCount redeliveries the message goes to the dead-letter topic, then is acked',
    async (type) => {
      const topic = uniqueTopic(`dlq-${type}`);
      const dlqTopic = `${topic}-s-DLQ`;
      const dlqReader = await client.subscribe({
        topic: dlqTopic,
        subscription: 'inspect',
        initialPosition: 'earliest',
      });
      const consumer = await client.subscribe({
        topic,
        subscription: 's',
        type,
        nackRedeliveryDelayMs: 50,
        deadLetter: { maxRedeliverCount: 2 },
      });
      const events: string[] = [];
      consumer.on('deadLetter', (e) => events.push(e.deadLetterTopic));
      const producer = await client.createProducer({ topic, batching: false });
      const [id] = await publish(producer, ['poison']);
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await consumer.receive(5000);
        counts.push(m.redeliveryCount);
        consumer.nack(m, { deadLetterProperties: { REASON: 'boom' } });
      }
      expect(counts).toEqual([0, 1, 2]);
      const dead = await dlqReader.receive(5000);
      expect(text(dead)).toBe('poison');
      expect(dead.properties).toMatchObject({ REAL_TOPIC: topic, ORIGIN_MESSAGE_ID: id, REASON: 'boom' });
      await waitFor(() => events.length === 1, 2000, 'the deadLetter event');
      expect(events).toEqual([dlqTopic]);
      // Acked on the original subscription: not delivered again.
      await expect(consumer.receive(400)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
    },
  );

  it('deadLetter() publishes to the dead-letter topic at once', async () => {
    const topic = uniqueTopic('dlq-now');
    const consumer = await client.subscribe({
      topic,
      subscription: 's',
      type: 'shared',
      deadLetter: { maxRedeliverCount: 5, deadLetterTopic: `${topic}-dead` },
    });
    const dlqReader = await client.subscribe({
      topic: `${topic}-dead`,
      subscription: 'inspect',
      initialPosition: 'earliest',
    });
    const producer = await client.createProducer({ topic, batching: false });
    await producer.send({ payload: Buffer.from('reject me'), key: 'k1', properties: { a: 'b' } });
    const m = await consumer.receive(5000);
    const deadId = await consumer.deadLetter(m, { WHY: 'rejected' });
    const dead = await dlqReader.receive(5000);
    expect(dead.messageId.toString()).toBe(deadId.toString());
    expect(dead.key).toBe('k1');
    expect(dead.properties).toMatchObject({ a: 'b', WHY: 'rejected' });
  });

  it('rejects acking a message received by another consumer', async () => {
    const topic = uniqueTopic('foreign');
    const c1 = await client.subscribe({ topic, subscription: 's1' });
    const c2 = await client.subscribe({ topic, subscription: 's2' });
    const producer = await client.createProducer({ topic, batching: false });
    await publish(producer, ['x']);
    const m = await c1.receive(5000);
    await expect(c2.ack(m)).rejects.toMatchObject({ code: PulsarErrorCode.INVALID_ARGUMENT });
    expect((c1 as SingleTopicConsumer).connected).toBe(true);
  });
});
