import type { Bus, DeadLetterInfo, IncomingMessage, MessageHandler, SubscribeOptions, SubscriptionType } from '../bus';
import { BusError, BusErrorCode } from '../bus-error';
import { DeadLetterProperty, defaultDeadLetterTopic } from '../dead-letter';
import { RejectMessageError } from '../reject-message-error';
import { sleep, waitFor } from './wait-for';

/** What an adapter's test gives the conformance suite: a fresh bus per test. */
export interface ConformanceHarness {
  bus: Bus;
  /** A topic name no other test uses (a real broker keeps topics between tests). */
  uniqueTopic(base: string): string;
  /** Closes the bus and anything else the harness started. Must tolerate an already closed bus. */
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  /** Longest wait for something that must happen. Default 5000 ms. */
  timeoutMs?: number;
  /** How long to watch for something that must not happen. Default 150 ms. */
  settleMs?: number;
}

/** A publishTime may come from another clock (the broker's or the producer's). */
const CLOCK_SKEW_MS = 1000;

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Collects what a handler receives. */
interface Recorder {
  readonly received: IncomingMessage[];
  readonly handler: MessageHandler;
  texts(): string[];
}

function recorder(): Recorder {
  const received: IncomingMessage[] = [];
  return {
    received,
    handler: (message) => {
      received.push(message);
    },
    texts: () => received.map((message) => decode(message.payload)),
  };
}

/**
 * Registers jest tests for every semantic of the bus port. Run it from an adapter's test file:
 * `describeBusConformance('memory', async () => ({ bus, uniqueTopic, dispose }))`.
 */
export function describeBusConformance(
  adapterName: string,
  makeBus: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 5000;
  const settleMs = options.settleMs ?? 150;

  describe(`bus conformance: ${adapterName}`, () => {
    let harness: ConformanceHarness;
    let bus: Bus;
    /** Gates still closed at the end of a test are opened, so `dispose` does not wait for blocked handlers. */
    let openAtEnd: (() => void)[] = [];

    function gate(): { promise: Promise<void>; open(): void } {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      openAtEnd.push(open);
      return { promise, open };
    }

    const until = (predicate: () => boolean, what: string): Promise<void> => waitFor(predicate, timeoutMs, what);

    async function publishTexts(topic: string, texts: string[], key?: string): Promise<string[]> {
      const ids: string[] = [];
      for (const text of texts) ids.push((await bus.publish(topic, { payload: encode(text), ...(key === undefined ? {} : { key }) })).messageId);
      return ids;
    }

    beforeEach(async () => {
      openAtEnd = [];
      harness = await makeBus();
      bus = harness.bus;
    });

    afterEach(async () => {
      for (const open of openAtEnd) open();
      await harness.dispose();
    });

    describe('publish and subscribe', () => {
      it('delivers payload, key and properties with the receipt id, redeliveryCount 0 and a publishTime', async () => {
        const topic = harness.uniqueTopic('round-trip');
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'reader', type: 'exclusive', handler: r.handler });
        const before = Date.now();
        const receipt = await bus.publish(topic, { payload: Uint8Array.from([0, 1, 2, 254, 255]), key: 'key-1', properties: { a: '1', 'x-y': 'z' } });
        const after = Date.now();
        await until(() => r.received.length === 1, 'the message');
        const [message] = r.received;
        expect(message.topic).toBe(topic);
        expect(Array.from(message.payload)).toEqual([0, 1, 2, 254, 255]);
        expect(message.key).toBe('key-1');
        expect({ ...message.properties }).toEqual({ a: '1', 'x-y': 'z' });
        expect(typeof receipt.messageId).toBe('string');
        expect(receipt.messageId.length).toBeGreaterThan(0);
        expect(message.messageId).toBe(receipt.messageId);
        expect(message.redeliveryCount).toBe(0);
        expect(message.publishTime).toBeGreaterThanOrEqual(before - CLOCK_SKEW_MS);
        expect(message.publishTime).toBeLessThanOrEqual(after + CLOCK_SKEW_MS);
      });

      it('delivers a message without key or properties with key undefined and empty properties', async () => {
        const topic = harness.uniqueTopic('bare');
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'reader', type: 'shared', handler: r.handler });
        await bus.publish(topic, { payload: encode('bare') });
        await until(() => r.received.length === 1, 'the message');
        expect(r.received[0].key).toBeUndefined();
        expect({ ...r.received[0].properties }).toEqual({});
        expect(r.texts()).toEqual(['bare']);
      });

      it('gives every published message a distinct receipt that matches the delivered id', async () => {
        const topic = harness.uniqueTopic('receipts');
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'reader', type: 'exclusive', handler: r.handler });
        const ids = await publishTexts(topic, ['a', 'b', 'c', 'd', 'e']);
        expect(new Set(ids).size).toBe(5);
        await until(() => r.received.length === 5, 'five messages');
        expect(r.received.map((m) => m.messageId)).toEqual(ids);
      });

      it('delivers every message to every subscription of the topic', async () => {
        const topic = harness.uniqueTopic('fan-out');
        const first = recorder();
        const second = recorder();
        await bus.subscribe({ topic, subscription: 'first', type: 'shared', handler: first.handler });
        await bus.subscribe({ topic, subscription: 'second', type: 'exclusive', handler: second.handler });
        await publishTexts(topic, ['m0', 'm1', 'm2']);
        await until(() => first.received.length === 3 && second.received.length === 3, 'both subscriptions to get three messages');
        expect(first.texts().sort()).toEqual(['m0', 'm1', 'm2']);
        expect(second.texts()).toEqual(['m0', 'm1', 'm2']);
      });

      it('keeps publish order for a consumer with concurrency 1', async () => {
        const topic = harness.uniqueTopic('order');
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'reader', type: 'failover', handler: r.handler });
        const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
        await publishTexts(topic, texts);
        await until(() => r.received.length === 20, 'twenty messages');
        expect(r.texts()).toEqual(texts);
      });

      it('never calls a handler synchronously inside publish', async () => {
        const topic = harness.uniqueTopic('async');
        let called = false;
        await bus.subscribe({ topic, subscription: 'reader', type: 'shared', handler: () => void (called = true) });
        const publishing = bus.publish(topic, { payload: encode('x') });
        expect(called).toBe(false);
        await publishing;
        await until(() => called, 'the delivery');
      });

      it('rejects malformed topics, messages and options with INVALID_ARGUMENT', async () => {
        const topic = harness.uniqueTopic('invalid');
        const base: SubscribeOptions = { topic, subscription: 'reader', type: 'shared', handler: () => undefined };
        const attempts: Promise<unknown>[] = [
          bus.publish('', { payload: encode('x') }),
          bus.publish(topic, { payload: 'text' as unknown as Uint8Array }),
          bus.publish(topic, { payload: encode('x'), properties: { n: 1 as unknown as string } }),
          bus.subscribe({ ...base, concurrency: 0 }),
          bus.subscribe({ ...base, maxRedeliveries: -1 }),
          bus.subscribe({ ...base, type: 'broadcast' as SubscriptionType }),
          bus.subscribe({ ...base, subscription: '' }),
          bus.subscribe({ ...base, handler: undefined as unknown as MessageHandler }),
        ];
        for (const attempt of attempts) {
          const error: unknown = await attempt.then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error).toBeInstanceOf(BusError);
          expect((error as BusError).code).toBe(BusErrorCode.INVALID_ARGUMENT);
        }
      });
    });

    describe('acknowledgement and redelivery', () => {
      it('does not deliver an acked message again, even to a new consumer of the subscription', async () => {
        const topic = harness.uniqueTopic('ack');
        const first = recorder();
        const consumer = await bus.subscribe({ topic, subscription: 'reader', type: 'shared', handler: first.handler });
        await publishTexts(topic, ['acked']);
        await until(() => first.received.length === 1, 'the first message');
        await consumer.close();
        await publishTexts(topic, ['later']);
        const second = recorder();
        await bus.subscribe({ topic, subscription: 'reader', type: 'shared', handler: second.handler });
        await until(() => second.received.length >= 1, 'the later message');
        await sleep(settleMs);
        expect(second.texts()).toEqual(['later']);
        expect(first.texts()).toEqual(['acked']);
      });

      it('redelivers a failed message after the nack delay with an increasing redeliveryCount', async () => {
        const topic = harness.uniqueTopic('nack');
        const nackDelayMs = 60;
        const seen: { message: IncomingMessage; at: number }[] = [];
        await bus.subscribe({
          topic,
          subscription: 'reader',
          type: 'shared',
          nackRedeliveryDelayMs: nackDelayMs,
          handler: (message) => {
            seen.push({ message, at: Date.now() });
            if (message.redeliveryCount < 2) throw new Error('not yet');
          },
        });
        const [id] = await publishTexts(topic, ['retry me']);
        await until(() => seen.length === 3, 'three deliveries');
        expect(seen.map((s) => s.message.redeliveryCount)).toEqual([0, 1, 2]);
        expect(seen.map((s) => s.message.messageId)).toEqual([id, id, id]);
        expect(seen.map((s) => decode(s.message.payload))).toEqual(['retry me', 'retry me', 'retry me']);
        expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(nackDelayMs * 0.8);
        expect(seen[2].at - seen[1].at).toBeGreaterThanOrEqual(nackDelayMs * 0.8);
        await sleep(settleMs);
        expect(seen).toHaveLength(3);
      });

      it('redelivers a message whose handler runs past ackTimeoutMs', async () => {
        const topic = harness.uniqueTopic('ack-timeout');
        const stuck = gate();
        const seen: IncomingMessage[] = [];
        await bus.subscribe({
          topic,
          subscription: 'reader',
          type: 'shared',
          concurrency: 2,
          ackTimeoutMs: 100,
          handler: async (message) => {
            seen.push(message);
            if (message.redeliveryCount === 0) await stuck.promise;
          },
        });
        const [id] = await publishTexts(topic, ['slow']);
        await until(() => seen.length === 2, 'the redelivery after the ack timeout');
        expect(seen.map((m) => m.redeliveryCount)).toEqual([0, 1]);
        expect(seen.map((m) => m.messageId)).toEqual([id, id]);
        stuck.open();
        await sleep(settleMs);
        expect(seen).toHaveLength(2);
      });
    });

    describe('dead letters', () => {
      it('dead-letters a message after maxRedeliveries + 1 failed deliveries, with where it came from and why', async () => {
        const topic = harness.uniqueTopic('dead-letter');
        const subscription = 'worker';
        const deadLetterTopic = defaultDeadLetterTopic(topic, subscription);
        expect(deadLetterTopic).toBe(`${topic}-${subscription}-DLQ`);
        const dead = recorder();
        await bus.subscribe({ topic: deadLetterTopic, subscription: 'dead-letter-watch', type: 'shared', handler: dead.handler });
        const attempts: IncomingMessage[] = [];
        const infos: DeadLetterInfo[] = [];
        await bus.subscribe({
          topic,
          subscription,
          type: 'shared',
          maxRedeliveries: 2,
          nackRedeliveryDelayMs: 20,
          handler: (message) => {
            attempts.push(message);
            throw new Error(`boom ${attempts.length}`);
          },
          onDeadLetter: (info) => {
            infos.push(info);
          },
        });
        const receipt = await bus.publish(topic, { payload: encode('poison'), key: 'pk', properties: { origin: 'test' } });
        await until(() => dead.received.length === 1 && infos.length === 1, 'the dead letter');
        expect(attempts.map((m) => m.redeliveryCount)).toEqual([0, 1, 2]);
        const [letter] = dead.received;
        expect(decode(letter.payload)).toBe('poison');
        expect(letter.key).toBe('pk');
        expect(letter.properties).toMatchObject({
          origin: 'test',
          [DeadLetterProperty.REAL_TOPIC]: topic,
          [DeadLetterProperty.REAL_SUBSCRIPTION]: subscription,
          [DeadLetterProperty.ORIGIN_MESSAGE_ID]: receipt.messageId,
          [DeadLetterProperty.DEAD_LETTER_REASON]: 'boom 3',
          [DeadLetterProperty.REDELIVERY_COUNT]: '2',
        });
        expect(infos[0]).toMatchObject({ topic, subscription, deadLetterTopic, messageId: receipt.messageId, reason: 'boom 3' });
        await sleep(settleMs);
        expect(attempts).toHaveLength(3);
        expect(dead.received).toHaveLength(1);
      });

      it('publishes to a custom deadLetterTopic; maxRedeliveries 0 means a single delivery', async () => {
        const topic = harness.uniqueTopic('custom-dead-letter-source');
        const deadLetterTopic = harness.uniqueTopic('custom-dead-letters');
        const dead = recorder();
        await bus.subscribe({ topic: deadLetterTopic, subscription: 'watch', type: 'shared', handler: dead.handler });
        let attempts = 0;
        await bus.subscribe({
          topic,
          subscription: 'worker',
          type: 'exclusive',
          maxRedeliveries: 0,
          deadLetterTopic,
          handler: () => {
            attempts += 1;
            throw new Error('always fails');
          },
        });
        await publishTexts(topic, ['once']);
        await until(() => dead.received.length === 1, 'the dead letter');
        expect(dead.texts()).toEqual(['once']);
        expect(dead.received[0].properties[DeadLetterProperty.DEAD_LETTER_REASON]).toBe('always fails');
        expect(dead.received[0].properties[DeadLetterProperty.REDELIVERY_COUNT]).toBe('0');
        await sleep(settleMs);
        expect(attempts).toBe(1);
      });

      it('dead-letters a message whose handler throws RejectMessageError at once, without retries', async () => {
        const topic = harness.uniqueTopic('reject');
        const dead = recorder();
        await bus.subscribe({ topic: defaultDeadLetterTopic(topic, 'worker'), subscription: 'watch', type: 'shared', handler: dead.handler });
        const infos: DeadLetterInfo[] = [];
        let attempts = 0;
        await bus.subscribe({
          topic,
          subscription: 'worker',
          type: 'shared',
          maxRedeliveries: 5,
          nackRedeliveryDelayMs: 20,
          handler: (message) => {
            attempts += 1;
            if (decode(message.payload) === 'garbage') throw new RejectMessageError('cannot decode');
          },
          onDeadLetter: (info) => {
            infos.push(info);
          },
        });
        const [garbageId] = await publishTexts(topic, ['garbage', 'fine']);
        await until(() => dead.received.length === 1 && infos.length === 1, 'the dead letter');
        expect(dead.texts()).toEqual(['garbage']);
        expect(dead.received[0].properties[DeadLetterProperty.DEAD_LETTER_REASON]).toBe('cannot decode');
        expect(dead.received[0].properties[DeadLetterProperty.REDELIVERY_COUNT]).toBe('0');
        expect(dead.received[0].properties[DeadLetterProperty.ORIGIN_MESSAGE_ID]).toBe(garbageId);
        expect(infos[0]).toMatchObject({ messageId: garbageId, reason: 'cannot decode' });
        await sleep(settleMs);
        expect(attempts).toBe(2);
        expect(dead.received).toHaveLength(1);
      });
    });

    describe('subscription types', () => {
      it('exclusive: a second consumer is refused with SUBSCRIPTION_BUSY until the first closes', async () => {
        const topic = harness.uniqueTopic('exclusive');
        const first = recorder();
        const second = recorder();
        const consumer = await bus.subscribe({ topic, subscription: 'solo', type: 'exclusive', handler: first.handler });
        const refused: unknown = await bus.subscribe({ topic, subscription: 'solo', type: 'exclusive', handler: second.handler }).catch((err: unknown) => err);
        expect(refused).toBeInstanceOf(BusError);
        expect((refused as BusError).code).toBe(BusErrorCode.SUBSCRIPTION_BUSY);
        await publishTexts(topic, ['one']);
        await until(() => first.received.length === 1, 'the first consumer to get a message');
        await consumer.close();
        await bus.subscribe({ topic, subscription: 'solo', type: 'exclusive', handler: second.handler });
        await publishTexts(topic, ['two']);
        await until(() => second.received.length === 1, 'the second consumer to get a message');
        expect(second.texts()).toEqual(['two']);
        expect(first.texts()).toEqual(['one']);
      });

      it('refuses a consumer of another type than the attached ones with SUBSCRIPTION_TYPE_MISMATCH', async () => {
        const topic = harness.uniqueTopic('mismatch');
        await bus.subscribe({ topic, subscription: 'workers', type: 'shared', handler: () => undefined });
        for (const type of ['exclusive', 'failover', 'key-shared'] as const) {
          const error: unknown = await bus.subscribe({ topic, subscription: 'workers', type, handler: () => undefined }).catch((err: unknown) => err);
          expect(error).toBeInstanceOf(BusError);
          expect((error as BusError).code).toBe(BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH);
        }
        await bus.subscribe({ topic, subscription: 'solo', type: 'exclusive', handler: () => undefined });
        const error: unknown = await bus.subscribe({ topic, subscription: 'solo', type: 'shared', handler: () => undefined }).catch((err: unknown) => err);
        expect((error as BusError).code).toBe(BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH);
      });

      it('shared: spreads messages over the consumers, each message to one of them', async () => {
        const topic = harness.uniqueTopic('shared');
        const slow = (r: Recorder): MessageHandler => async (message) => {
          r.received.push(message);
          await sleep(20);
        };
        const a = recorder();
        const b = recorder();
        await bus.subscribe({ topic, subscription: 'workers', type: 'shared', handler: slow(a) });
        await bus.subscribe({ topic, subscription: 'workers', type: 'shared', handler: slow(b) });
        const texts = Array.from({ length: 10 }, (_, i) => `m${i}`);
        await publishTexts(topic, texts);
        await until(() => a.received.length + b.received.length === 10, 'ten messages');
        expect(a.received.length).toBeGreaterThan(0);
        expect(b.received.length).toBeGreaterThan(0);
        expect([...a.texts(), ...b.texts()].sort()).toEqual([...texts].sort());
        await sleep(settleMs);
        expect(a.received.length + b.received.length).toBe(10);
      });

      it('failover: the first consumer gets everything; the next one takes over when it closes', async () => {
        const topic = harness.uniqueTopic('failover');
        const a = recorder();
        const b = recorder();
        const active = await bus.subscribe({ topic, subscription: 'pair', type: 'failover', consumerName: 'a-first', handler: a.handler });
        await bus.subscribe({ topic, subscription: 'pair', type: 'failover', consumerName: 'b-second', handler: b.handler });
        await publishTexts(topic, ['m0', 'm1', 'm2', 'm3', 'm4']);
        await until(() => a.received.length === 5, 'the active consumer to get five messages');
        await sleep(settleMs);
        expect(b.received).toHaveLength(0);
        await active.close();
        await publishTexts(topic, ['m5', 'm6', 'm7']);
        await until(() => b.received.length === 3, 'the standby to take over');
        expect(b.texts()).toEqual(['m5', 'm6', 'm7']);
        expect(a.texts()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      });

      it('failover: the standby takes over the messages the active consumer did not ack', async () => {
        const topic = harness.uniqueTopic('failover-takeover');
        const blocked = gate();
        const a: IncomingMessage[] = [];
        const b = recorder();
        const active = await bus.subscribe({
          topic,
          subscription: 'pair',
          type: 'failover',
          consumerName: 'a-first',
          nackRedeliveryDelayMs: 20,
          handler: async (message) => {
            a.push(message);
            await blocked.promise;
            throw new Error('consumer a went away');
          },
        });
        await publishTexts(topic, ['m0', 'm1', 'm2', 'm3']);
        await until(() => a.length === 1, 'the active consumer to hold the first message');
        await bus.subscribe({ topic, subscription: 'pair', type: 'failover', consumerName: 'b-second', nackRedeliveryDelayMs: 20, handler: b.handler });
        await sleep(settleMs);
        expect(b.received).toHaveLength(0);
        const closing = active.close();
        await sleep(settleMs);
        expect(b.received).toHaveLength(0); // the standby never overtakes a message still in the active handler
        blocked.open();
        await closing;
        await until(() => b.received.length === 4, 'the standby to get all four messages');
        expect(b.texts().sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
        const m0 = b.received.find((m) => decode(m.payload) === 'm0') as IncomingMessage;
        expect(m0.redeliveryCount).toBeGreaterThanOrEqual(1);
        expect(a).toHaveLength(1);
      });

      it('key-shared: all messages of a key go to one consumer, in order, and keys spread over the consumers', async () => {
        const topic = harness.uniqueTopic('key-shared');
        const byConsumer: Record<string, string[]> = { a: [], b: [] };
        for (const name of ['a', 'b']) {
          await bus.subscribe({
            topic,
            subscription: 'by-key',
            type: 'key-shared',
            handler: (message) => {
              byConsumer[name].push(decode(message.payload));
            },
          });
        }
        const keys = Array.from({ length: 32 }, (_, i) => `key-${i}`);
        for (let round = 0; round < 3; round += 1) {
          for (const key of keys) await bus.publish(topic, { payload: encode(`${key}/${round}`), key });
        }
        await until(() => byConsumer.a.length + byConsumer.b.length === 96, 'ninety-six messages');
        const owner = new Map<string, string>();
        for (const [name, texts] of Object.entries(byConsumer)) {
          const rounds = new Map<string, number[]>();
          for (const text of texts) {
            const [key, round] = text.split('/');
            expect(owner.get(key) ?? name).toBe(name);
            owner.set(key, name);
            rounds.set(key, [...(rounds.get(key) ?? []), Number(round)]);
          }
          for (const sequence of rounds.values()) expect(sequence).toEqual([0, 1, 2]);
        }
        expect(owner.size).toBe(32);
        expect(new Set(owner.values()).size).toBe(2);
      });

      it('key-shared: messages without a key are spread over the consumers', async () => {
        const topic = harness.uniqueTopic('key-shared-keyless');
        const a = recorder();
        const b = recorder();
        const slow = (r: Recorder): MessageHandler => async (message) => {
          r.received.push(message);
          await sleep(20);
        };
        await bus.subscribe({ topic, subscription: 'by-key', type: 'key-shared', handler: slow(a) });
        await bus.subscribe({ topic, subscription: 'by-key', type: 'key-shared', handler: slow(b) });
        // 32 messages: a broker may spread keyless messages by hash alone, and 32 random keys all
        // landing on one of two consumers (2^-31) is not a chance worth counting.
        await publishTexts(topic, Array.from({ length: 32 }, (_, i) => `m${i}`));
        await until(() => a.received.length + b.received.length === 32, 'thirty-two messages');
        expect(a.received.length).toBeGreaterThan(0);
        expect(b.received.length).toBeGreaterThan(0);
        expect(new Set([...a.texts(), ...b.texts()]).size).toBe(32);
      });
    });

    describe('durable subscriptions', () => {
      it('keeps messages for a subscription while it has no consumer and delivers them in order when one attaches', async () => {
        const topic = harness.uniqueTopic('backlog');
        await bus.ensureSubscription({ topic, subscription: 'late-reader', type: 'shared' });
        await publishTexts(topic, ['m0', 'm1', 'm2', 'm3', 'm4']);
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'late-reader', type: 'shared', handler: r.handler });
        await until(() => r.received.length === 5, 'the backlog');
        expect(r.texts()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      });

      it("initialPosition 'latest': a new subscription starts after the messages published before it", async () => {
        const topic = harness.uniqueTopic('latest');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        await publishTexts(topic, ['before']);
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'newcomer', type: 'exclusive', initialPosition: 'latest', handler: r.handler });
        await publishTexts(topic, ['after']);
        await until(() => r.received.length >= 1, 'the message published after subscribing');
        await sleep(settleMs);
        expect(r.texts()).toEqual(['after']);
      });

      it("initialPosition 'earliest': a new subscription starts from the messages the topic retains", async () => {
        const topic = harness.uniqueTopic('earliest');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        await publishTexts(topic, ['b0', 'b1']);
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'newcomer', type: 'exclusive', initialPosition: 'earliest', handler: r.handler });
        await publishTexts(topic, ['a0']);
        await until(() => r.received.length === 3, 'the retained and the new messages');
        expect(r.texts()).toEqual(['b0', 'b1', 'a0']);
      });

      it('initialPosition does not move the cursor of an existing subscription', async () => {
        const topic = harness.uniqueTopic('existing-cursor');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        const first = recorder();
        const consumer = await bus.subscribe({ topic, subscription: 'reader', type: 'exclusive', handler: first.handler });
        await publishTexts(topic, ['m0']);
        await until(() => first.received.length === 1, 'the first message');
        await consumer.close();
        await publishTexts(topic, ['m1']);
        const again = recorder();
        await bus.subscribe({ topic, subscription: 'reader', type: 'exclusive', initialPosition: 'earliest', handler: again.handler });
        await until(() => again.received.length >= 1, 'the backlog');
        await sleep(settleMs);
        expect(again.texts()).toEqual(['m1']);
        const latest = recorder();
        await (await bus.subscribe({ topic, subscription: 'other', type: 'exclusive', handler: latest.handler })).close();
        await publishTexts(topic, ['m2']);
        await bus.subscribe({ topic, subscription: 'other', type: 'exclusive', initialPosition: 'latest', handler: latest.handler });
        await until(() => latest.received.length === 1, 'the message kept for the existing subscription');
        expect(latest.texts()).toEqual(['m2']);
      });
    });

    describe('ensureSubscription', () => {
      it('keeps what is published after it for a subscription that never had a consumer, and hands it to the first one in order', async () => {
        const topic = harness.uniqueTopic('ensure-new');
        await publishTexts(topic, ['before']);
        await bus.ensureSubscription({ topic, subscription: 'later', type: 'shared' });
        await publishTexts(topic, ['m0', 'm1', 'm2']);
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'later', type: 'failover', handler: r.handler });
        await until(() => r.received.length >= 3, 'the messages kept for the subscription');
        await sleep(settleMs);
        expect(r.texts()).toEqual(['m0', 'm1', 'm2']);
      });

      it("starts a new subscription at 'earliest' when asked: what the topic retains comes first", async () => {
        const topic = harness.uniqueTopic('ensure-earliest');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        await publishTexts(topic, ['b0', 'b1']);
        await bus.ensureSubscription({ topic, subscription: 'newcomer', type: 'exclusive', initialPosition: 'earliest' });
        await publishTexts(topic, ['a0']);
        const r = recorder();
        await bus.subscribe({ topic, subscription: 'newcomer', type: 'exclusive', handler: r.handler });
        await until(() => r.received.length >= 3, 'the retained and the new messages');
        await sleep(settleMs);
        expect(r.texts()).toEqual(['b0', 'b1', 'a0']);
      });

      it("leaves an existing subscription as it is: its backlog, and its attached consumers, which go on receiving each message once", async () => {
        const topic = harness.uniqueTopic('ensure-existing');
        await bus.ensureSubscription({ topic, subscription: 'waiting', type: 'shared' });
        await publishTexts(topic, ['w0']);
        // Asked again (a second publisher starting), the cursor stays before w0, even with 'earliest'.
        await bus.ensureSubscription({ topic, subscription: 'waiting', type: 'exclusive', initialPosition: 'earliest' });
        await publishTexts(topic, ['w1']);
        const shared = recorder();
        const failover = recorder();
        await bus.subscribe({ topic, subscription: 'shared', type: 'shared', handler: shared.handler });
        await bus.subscribe({ topic, subscription: 'failover', type: 'failover', handler: failover.handler });
        await publishTexts(topic, ['c0']);
        await until(() => shared.received.length >= 1 && failover.received.length >= 1, 'c0 on both subscriptions');
        for (const type of ['shared', 'failover'] as const) await bus.ensureSubscription({ topic, subscription: type, type });
        await bus.ensureSubscription({ topic, subscription: 'waiting', type: 'exclusive' });
        await publishTexts(topic, ['c1', 'c2']);
        await until(() => shared.received.length >= 3 && failover.received.length >= 3, 'c1 and c2 on both subscriptions');
        const waiting = recorder();
        await bus.subscribe({ topic, subscription: 'waiting', type: 'exclusive', handler: waiting.handler });
        await until(() => waiting.received.length >= 5, 'the backlog of the waiting subscription');
        await sleep(settleMs);
        expect(shared.texts()).toEqual(['c0', 'c1', 'c2']);
        expect(failover.texts()).toEqual(['c0', 'c1', 'c2']);
        expect(failover.received.every((m) => m.redeliveryCount === 0)).toBe(true);
        expect(waiting.texts()).toEqual(['w0', 'w1', 'c0', 'c1', 'c2']);
      });

      it('never refuses a consumer of that type attaching at the same moment, and never holds back its messages', async () => {
        const topic = harness.uniqueTopic('ensure-race');
        for (const type of ['shared', 'failover'] as const) {
          for (let round = 0; round < 5; round++) {
            const subscription = `${type}-${round}`;
            const r = recorder();
            const [, consumer] = await Promise.all([
              bus.ensureSubscription({ topic, subscription, type }),
              bus.subscribe({ topic, subscription, type, handler: r.handler }),
              bus.ensureSubscription({ topic, subscription, type }),
            ]);
            await bus.ensureSubscription({ topic, subscription, type });
            await publishTexts(topic, [`${subscription}-m`]);
            await until(() => r.received.length >= 1, `the message of ${subscription}`);
            expect(r.texts()).toContain(`${subscription}-m`);
            await consumer.close();
          }
        }
        await expect(bus.ensureSubscription({ topic, subscription: 's', type: 'bogus' as never })).rejects.toMatchObject({
          code: BusErrorCode.INVALID_ARGUMENT,
          message: expect.stringContaining('bogus'),
        });
      });

      it('refuses a non-durable subscription of that name with SUBSCRIPTION_TYPE_MISMATCH, bad names with INVALID_ARGUMENT, and a closed bus with BUS_CLOSED', async () => {
        const topic = harness.uniqueTopic('ensure-refused');
        const follower = await bus.subscribe({ topic, subscription: 'follower', type: 'exclusive', durable: false, handler: () => undefined });
        await expect(bus.ensureSubscription({ topic, subscription: 'follower', type: 'exclusive' })).rejects.toMatchObject({ code: BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH });
        await follower.close();
        await expect(bus.ensureSubscription({ topic: '', subscription: 's', type: 'shared' })).rejects.toMatchObject({ code: BusErrorCode.INVALID_ARGUMENT });
        await expect(bus.ensureSubscription({ topic, subscription: '', type: 'shared' })).rejects.toMatchObject({ code: BusErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('subscription') });
        await expect(bus.ensureSubscription({ topic, subscription: 's', type: 'shared', initialPosition: 'middle' as never })).rejects.toMatchObject({
          code: BusErrorCode.INVALID_ARGUMENT,
          message: expect.stringContaining('middle'),
        });
        await bus.close();
        await expect(bus.ensureSubscription({ topic, subscription: 's', type: 'shared' })).rejects.toMatchObject({ code: BusErrorCode.BUS_CLOSED });
      });
    });

    describe('non-durable subscriptions', () => {
      it('refuses durable: false with a type other than exclusive, and startRollbackMs on a durable subscription, with INVALID_ARGUMENT', async () => {
        const topic = harness.uniqueTopic('non-durable-options');
        for (const type of ['shared', 'failover', 'key-shared'] as const) {
          await expect(bus.subscribe({ topic, subscription: 's', type, durable: false, handler: () => undefined })).rejects.toMatchObject({
            code: BusErrorCode.INVALID_ARGUMENT,
            message: expect.stringContaining(`got ${type}`),
          });
        }
        await expect(bus.subscribe({ topic, subscription: 's', type: 'exclusive', startRollbackMs: 1000, handler: () => undefined })).rejects.toMatchObject({
          code: BusErrorCode.INVALID_ARGUMENT,
          message: expect.stringContaining('startRollbackMs'),
        });
        await expect(
          bus.subscribe({ topic, subscription: 's', type: 'exclusive', durable: false, startRollbackMs: 1.5, handler: () => undefined }),
        ).rejects.toMatchObject({ code: BusErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('1.5') });
      });

      it('delivers from now on and is gone with its consumer: closed or unsubscribed, nothing is kept for it', async () => {
        const topic = harness.uniqueTopic('non-durable');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        await publishTexts(topic, ['before']);
        for (const leave of ['close', 'unsubscribe'] as const) {
          const first = recorder();
          const follower = await bus.subscribe({ topic, subscription: 'follower', type: 'exclusive', durable: false, handler: first.handler });
          await publishTexts(topic, [`${leave}-0`]);
          await until(() => first.received.length === 1, 'the message published after subscribing');
          await follower[leave]();
          await publishTexts(topic, [`${leave}-1`]);
          const again = recorder();
          const next = await bus.subscribe({ topic, subscription: 'follower', type: 'exclusive', durable: false, handler: again.handler });
          await publishTexts(topic, [`${leave}-2`]);
          await until(() => again.received.length >= 1, 'the message published after subscribing again');
          await sleep(settleMs);
          // Had the subscription outlived its consumer, its cursor would have delivered `${leave}-1`.
          expect(again.texts()).toEqual([`${leave}-2`]);
          expect(first.texts()).toEqual([`${leave}-0`]);
          await next.close();
        }
      });

      it('a durable and a non-durable subscription of one name refuse each other with SUBSCRIPTION_TYPE_MISMATCH', async () => {
        const topic = harness.uniqueTopic('non-durable-mismatch');
        const durable = await bus.subscribe({ topic, subscription: 'durable', type: 'exclusive', handler: () => undefined });
        await durable.close();
        await expect(bus.subscribe({ topic, subscription: 'durable', type: 'exclusive', durable: false, handler: () => undefined })).rejects.toMatchObject({
          code: BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH,
        });
        const nonDurable = await bus.subscribe({ topic, subscription: 'non-durable', type: 'exclusive', durable: false, handler: () => undefined });
        await expect(bus.subscribe({ topic, subscription: 'non-durable', type: 'exclusive', handler: () => undefined })).rejects.toMatchObject({
          code: BusErrorCode.SUBSCRIPTION_TYPE_MISMATCH,
        });
        await nonDurable.close();
      });

      it('startRollbackMs starts at the messages published within the window that the topic holds, not older ones', async () => {
        const topic = harness.uniqueTopic('rollback');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        await publishTexts(topic, ['old']);
        // Pulsar counts the window in whole seconds: 3.5 s between, a 2 s window.
        await sleep(3500);
        await publishTexts(topic, ['recent-0', 'recent-1']);
        const r = recorder();
        const follower = await bus.subscribe({ topic, subscription: 'follower', type: 'exclusive', durable: false, startRollbackMs: 2000, handler: r.handler });
        await publishTexts(topic, ['after']);
        await until(() => r.received.length >= 3, 'the recent messages and the new one');
        await sleep(settleMs);
        expect(r.texts()).toEqual(['recent-0', 'recent-1', 'after']);
        await follower.close();
      }, 20_000);

      it('caughtUp resolves once the handler has finished what the subscription could deliver when asked', async () => {
        const topic = harness.uniqueTopic('caught-up');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        await publishTexts(topic, ['m0', 'm1', 'm2']);
        const handled: string[] = [];
        const follower = await bus.subscribe({
          topic,
          subscription: 'follower',
          type: 'exclusive',
          durable: false,
          startRollbackMs: 60_000,
          handler: async (message) => {
            await sleep(20);
            handled.push(decode(message.payload));
          },
        });
        await follower.caughtUp();
        expect(handled).toEqual(['m0', 'm1', 'm2']);
        // Nothing more to read: at once.
        await follower.caughtUp();
        const empty = await bus.subscribe({ topic: harness.uniqueTopic('caught-up-empty'), subscription: 's', type: 'exclusive', durable: false, handler: () => undefined });
        await expect(empty.caughtUp()).resolves.toBeUndefined();
        await empty.close();
        await expect(empty.caughtUp()).rejects.toMatchObject({ code: BusErrorCode.CONSUMER_CLOSED });
        await follower.close();
      });
    });

    describe('unsubscribe', () => {
      it('deletes the subscription: nothing is kept for it, and a new one of that name starts afresh', async () => {
        const topic = harness.uniqueTopic('unsubscribe');
        await bus.ensureSubscription({ topic, subscription: 'keeper', type: 'shared' });
        const first = recorder();
        const follower = await bus.subscribe({ topic, subscription: 'follower', type: 'exclusive', handler: first.handler });
        await publishTexts(topic, ['m0']);
        await until(() => first.received.length === 1, 'the first message');
        await follower.unsubscribe();
        await expect(follower.unsubscribe()).resolves.toBeUndefined();
        await expect(follower.close()).resolves.toBeUndefined();
        await publishTexts(topic, ['m1']);
        const again = recorder();
        await bus.subscribe({ topic, subscription: 'follower', type: 'exclusive', initialPosition: 'latest', handler: again.handler });
        await publishTexts(topic, ['m2']);
        await until(() => again.received.length >= 1, 'the message published after subscribing again');
        await sleep(settleMs);
        // Had the subscription been kept (closed, not deleted), its cursor would have delivered m1.
        expect(again.texts()).toEqual(['m2']);
        expect(first.texts()).toEqual(['m0']);
      });

      it('finishes the in-flight handler first, as close does', async () => {
        const topic = harness.uniqueTopic('unsubscribe-in-flight');
        const blocked = gate();
        let started = false;
        let finished = false;
        const follower = await bus.subscribe({
          topic,
          subscription: 'follower',
          type: 'exclusive',
          handler: async () => {
            started = true;
            await blocked.promise;
            finished = true;
          },
        });
        await publishTexts(topic, ['m0']);
        await until(() => started, 'the handler to start');
        let done = false;
        const unsubscribing = follower.unsubscribe().then(() => {
          done = true;
        });
        await sleep(settleMs);
        expect(done).toBe(false);
        blocked.open();
        await unsubscribing;
        expect(finished).toBe(true);
      });

      it('is refused with SUBSCRIPTION_BUSY while other consumers are attached; the consumer closes and the subscription stays', async () => {
        const topic = harness.uniqueTopic('unsubscribe-busy');
        const a = recorder();
        const b = recorder();
        const first = await bus.subscribe({ topic, subscription: 'workers', type: 'shared', handler: a.handler });
        await bus.subscribe({ topic, subscription: 'workers', type: 'shared', handler: b.handler });
        const error: unknown = await first.unsubscribe().catch((err: unknown) => err);
        expect(error).toBeInstanceOf(BusError);
        expect((error as BusError).code).toBe(BusErrorCode.SUBSCRIPTION_BUSY);
        await publishTexts(topic, ['m0', 'm1', 'm2']);
        await until(() => b.received.length === 3, 'the remaining consumer to get every message');
        expect(a.received).toHaveLength(0);
      });

      it('is refused with CONSUMER_CLOSED after close', async () => {
        const topic = harness.uniqueTopic('unsubscribe-closed');
        const consumer = await bus.subscribe({ topic, subscription: 'reader', type: 'exclusive', handler: () => undefined });
        await consumer.close();
        const error: unknown = await consumer.unsubscribe().catch((err: unknown) => err);
        expect(error).toBeInstanceOf(BusError);
        expect((error as BusError).code).toBe(BusErrorCode.CONSUMER_CLOSED);
      });
    });

    describe('flow control', () => {
      async function maxConcurrent(concurrency: number | undefined, messages: number): Promise<number> {
        const topic = harness.uniqueTopic(`concurrency-${concurrency ?? 'default'}`);
        let running = 0;
        let max = 0;
        let done = 0;
        await bus.subscribe({
          topic,
          subscription: 'workers',
          type: 'shared',
          ...(concurrency === undefined ? {} : { concurrency }),
          handler: async () => {
            running += 1;
            max = Math.max(max, running);
            await sleep(25);
            running -= 1;
            done += 1;
          },
        });
        await publishTexts(topic, Array.from({ length: messages }, (_, i) => `m${i}`));
        await until(() => done === messages, `${messages} handled messages`);
        return max;
      }

      it('never runs more than `concurrency` handlers of a consumer at once, and does run them in parallel', async () => {
        const max = await maxConcurrent(3, 12);
        expect(max).toBeLessThanOrEqual(3);
        expect(max).toBeGreaterThan(1);
      });

      it('runs one handler at a time by default', async () => {
        expect(await maxConcurrent(undefined, 5)).toBe(1);
      });
    });

    describe('closing', () => {
      it('a closing consumer finishes its in-flight handler first and hands back what it did not ack', async () => {
        const topic = harness.uniqueTopic('consumer-close');
        const blocked = gate();
        const a: IncomingMessage[] = [];
        let handlerFinished = false;
        const first = await bus.subscribe({
          topic,
          subscription: 'workers',
          type: 'shared',
          nackRedeliveryDelayMs: 20,
          handler: async (message) => {
            a.push(message);
            await blocked.promise;
            handlerFinished = true;
            throw new Error('interrupted');
          },
        });
        await publishTexts(topic, ['m0', 'm1', 'm2']);
        await until(() => a.length === 1, 'the first consumer to hold a message');
        let closed = false;
        const closing = first.close().then(() => {
          closed = true;
        });
        await sleep(settleMs);
        expect(closed).toBe(false);
        blocked.open();
        await closing;
        expect(handlerFinished).toBe(true);
        const b = recorder();
        await bus.subscribe({ topic, subscription: 'workers', type: 'shared', handler: b.handler });
        await until(() => b.received.length === 3, 'the second consumer to get all three messages');
        expect(b.texts().sort()).toEqual(['m0', 'm1', 'm2']);
        expect(b.received.find((m) => decode(m.payload) === 'm0')?.redeliveryCount).toBeGreaterThanOrEqual(1);
        expect(a).toHaveLength(1);
        await first.close();
      });

      it('bus close waits for in-flight handlers, which may still publish, then refuses publish and subscribe with BUS_CLOSED', async () => {
        const topic = harness.uniqueTopic('bus-close');
        const output = harness.uniqueTopic('bus-close-output');
        const blocked = gate();
        let started = false;
        let finished = false;
        let innerPublish: unknown;
        const consumer = await bus.subscribe({
          topic,
          subscription: 'worker',
          type: 'shared',
          handler: async () => {
            started = true;
            await blocked.promise;
            innerPublish = await bus.publish(output, { payload: encode('result') }).catch((err: unknown) => err);
            finished = true;
          },
        });
        await publishTexts(topic, ['job']);
        await until(() => started, 'the handler to start');
        let closed = false;
        const closing = bus.close().then(() => {
          closed = true;
        });
        await sleep(settleMs);
        expect(closed).toBe(false);
        blocked.open();
        await closing;
        expect(finished).toBe(true);
        expect(innerPublish).not.toBeInstanceOf(Error);
        expect(typeof (innerPublish as { messageId?: unknown }).messageId).toBe('string');
        const publishError: unknown = await bus.publish(topic, { payload: encode('late') }).catch((err: unknown) => err);
        expect(publishError).toBeInstanceOf(BusError);
        expect((publishError as BusError).code).toBe(BusErrorCode.BUS_CLOSED);
        const subscribeError: unknown = await bus.subscribe({ topic, subscription: 'worker', type: 'shared', handler: () => undefined }).catch((err: unknown) => err);
        expect((subscribeError as BusError).code).toBe(BusErrorCode.BUS_CLOSED);
        await expect(bus.close()).resolves.toBeUndefined();
        await expect(consumer.close()).resolves.toBeUndefined();
      });
    });
  });
}
