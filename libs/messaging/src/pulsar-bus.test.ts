import { createLogger } from '@surrogate/core';
import { PulsarClient } from '@surrogate/pulsar';
import type { IncomingMessage } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { describeBusConformance } from './conformance/bus-conformance';
import { sleep, waitFor } from './conformance/wait-for';
import { DeadLetterProperty, defaultDeadLetterTopic } from './dead-letter';
import { KEYLESS_KEY_PREFIX } from './keyless-key';
import { createPulsarBus, DEFAULT_DEAD_LETTER_SUBSCRIPTION, type PulsarBus } from './pulsar-bus';
import { RejectMessageError } from './reject-message-error';
import { BROKER_START_TIMEOUT_MS, brokerUrl, uniqueTopic } from '@surrogate/testing';

const logger = createLogger({ name: 'pulsar-bus-test', level: process.env.LOG_LEVEL ?? 'silent' });
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

let serviceUrl: string;
beforeAll(() => {
  serviceUrl = brokerUrl();
}, BROKER_START_TIMEOUT_MS);

describeBusConformance('pulsar', async () => {
  const bus = await createPulsarBus({ serviceUrl, logger });
  return { bus, uniqueTopic, dispose: () => bus.close() };
});

describe('PulsarBus specifics', () => {
  let bus: PulsarBus;

  beforeEach(async () => {
    bus = await createPulsarBus({ serviceUrl, logger });
  });

  afterEach(() => bus.close());

  it('keeps dead letters in the dead-letter subscription when nobody subscribed to the dead-letter topic', async () => {
    const topic = uniqueTopic('retained-dead-letter');
    let deadLettered = 0;
    await bus.subscribe({
      topic,
      subscription: 'worker',
      type: 'shared',
      handler: () => {
        throw new RejectMessageError('unreadable');
      },
      onDeadLetter: () => void (deadLettered += 1),
    });
    await bus.publish(topic, { payload: encode('poison'), properties: { origin: 'test' } });
    await waitFor(() => deadLettered === 1, 5000, 'the dead letter to be published');
    // Published before anyone subscribed to the dead-letter topic: only the retention subscription keeps it.
    const dead: IncomingMessage[] = [];
    await bus.subscribe({
      topic: defaultDeadLetterTopic(topic, 'worker'),
      subscription: DEFAULT_DEAD_LETTER_SUBSCRIPTION,
      type: 'shared',
      handler: (m) => void dead.push(m),
    });
    await waitFor(() => dead.length === 1, 5000, 'the retained dead letter');
    expect(decode(dead[0].payload)).toBe('poison');
    expect(dead[0].key).toBeUndefined();
    expect(dead[0].properties).toMatchObject({ origin: 'test', [DeadLetterProperty.DEAD_LETTER_REASON]: 'unreadable' });
  });

  it('gives a keyless message a synthetic routing key that only other clients see', async () => {
    const topic = uniqueTopic('keyless-raw');
    const client = await PulsarClient.connect({ serviceUrl, logger });
    try {
      const raw = await client.subscribe({ topic, subscription: 'raw', type: 'exclusive', receiverQueueSize: 0 });
      const seen: IncomingMessage[] = [];
      await bus.subscribe({ topic, subscription: 'bus', type: 'exclusive', initialPosition: 'earliest', handler: (m) => void seen.push(m) });
      const receipt = await bus.publish(topic, { payload: encode('no key') });
      const message = await raw.receive(5000);
      expect(message.key?.startsWith(KEYLESS_KEY_PREFIX)).toBe(true);
      expect(message.messageId.toString()).toBe(receipt.messageId);
      await raw.ack(message);
      await waitFor(() => seen.length === 1, 5000, 'the bus delivery');
      expect(seen[0].key).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('dead-letters at delivery a message whose last allowed delivery ran past the ack timeout', async () => {
    const topic = uniqueTopic('ack-timeout-dead-letter');
    const dead: IncomingMessage[] = [];
    await bus.subscribe({ topic: defaultDeadLetterTopic(topic, 's'), subscription: 'watch', type: 'shared', handler: (m) => void dead.push(m) });
    const counts: number[] = [];
    await bus.subscribe({
      topic,
      subscription: 's',
      type: 'shared',
      concurrency: 2,
      maxRedeliveries: 0,
      ackTimeoutMs: 100,
      // The handler outlives the ack timeout by far: the broker's redelivery must arrive before the
      // handler's late ack, even on a loaded machine.
      handler: async (m) => {
        counts.push(m.redeliveryCount);
        await sleep(3000);
      },
    });
    await bus.publish(topic, { payload: encode('slow') });
    await waitFor(() => dead.length === 1, 10_000, 'the dead letter');
    expect(counts).toEqual([0]);
    expect(dead[0].properties).toMatchObject({
      [DeadLetterProperty.DEAD_LETTER_REASON]: 'handler did not finish within ackTimeoutMs (100 ms)',
      [DeadLetterProperty.REDELIVERY_COUNT]: '0',
      [DeadLetterProperty.REAL_SUBSCRIPTION]: 's',
    });
  });

  it('counts redeliveries on across consumers of a failover subscription in one bus', async () => {
    const topic = uniqueTopic('failover-count');
    const seen: number[] = [];
    const first = await bus.subscribe({
      topic,
      subscription: 'pair',
      type: 'failover',
      handler: (m) => {
        seen.push(m.redeliveryCount);
        throw new Error('fails');
      },
    });
    await bus.publish(topic, { payload: encode('m') });
    await waitFor(() => seen.length === 1, 5000, 'the first delivery');
    await first.close();
    await bus.subscribe({
      topic,
      subscription: 'pair',
      type: 'failover',
      handler: (m) => void seen.push(m.redeliveryCount),
    });
    await waitFor(() => seen.length === 2, 5000, 'the redelivery');
    expect(seen).toEqual([0, 1]);
  });

  it('failover: the first attached consumer is the active one whatever the topic name (not the broker name hash)', async () => {
    const topics = Array.from({ length: 4 }, () => uniqueTopic('failover-first'));
    const got = new Map<string, string[]>(topics.map((topic) => [topic, []]));
    await Promise.all(
      topics.map(async (topic) => {
        // Names sort the other way round, so only the attach order can make "z-first" active.
        for (const name of ['z-first', 'a-second']) {
          await bus.subscribe({ topic, subscription: 'pair', type: 'failover', consumerName: name, handler: () => void got.get(topic)?.push(name) });
        }
        await bus.publish(topic, { payload: encode('m') });
      }),
    );
    await waitFor(() => [...got.values()].every((names) => names.length === 1), 5000, 'one delivery per topic');
    expect([...got.values()]).toEqual(topics.map(() => ['z-first']));
  });

  it('maps connection failures and closed use to BusErrors', async () => {
    const error: unknown = await createPulsarBus({ serviceUrl: 'pulsar://127.0.0.1:1', logger, connectTimeoutMs: 2000 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe(BusErrorCode.BROKER_ERROR);
    expect((error as BusError).cause).toBeDefined();
    const invalid: unknown = await createPulsarBus({ serviceUrl: 'http://127.0.0.1:6650', logger }).catch((err: unknown) => err);
    expect((invalid as BusError).code).toBe(BusErrorCode.INVALID_ARGUMENT);
    await bus.close();
    await expect(bus.publish(uniqueTopic('closed'), { payload: encode('x') })).rejects.toMatchObject({ code: BusErrorCode.BUS_CLOSED });
  });
});
