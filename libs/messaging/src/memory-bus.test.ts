import { createLogger } from '@surrogate/core';
import type { IncomingMessage } from './bus';
import { BusErrorCode } from './bus-error';
import { describeBusConformance } from './conformance/bus-conformance';
import { sleep, waitFor } from './conformance/wait-for';
import { createMemoryBus, type MemoryBus } from './memory-bus';
import { RejectMessageError } from './reject-message-error';

let topics = 0;

describeBusConformance(
  'memory',
  async () => {
    const bus = createMemoryBus({ name: 'conformance', logger: createLogger({ name: 'memory-bus-test', level: 'silent' }) });
    return {
      bus,
      uniqueTopic: (base) => `persistent://public/default/${base}-${++topics}`,
      dispose: () => bus.close(),
    };
  },
  { timeoutMs: 2000, settleMs: 50 },
);

describe('MemoryBus specifics', () => {
  let bus: MemoryBus;
  let n = 0;
  const topic = (): string => `memory-specific-${++n}`;
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
  const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

  beforeEach(() => {
    bus = createMemoryBus({ name: 'specifics', logger: createLogger({ name: 'memory-bus-test', level: 'silent' }) });
  });

  afterEach(() => bus.close());

  it('drops messages published while the topic has no subscription (no retention)', async () => {
    const t = topic();
    await bus.publish(t, { payload: encode('dropped') });
    const seen: string[] = [];
    await bus.subscribe({ topic: t, subscription: 's', type: 'exclusive', initialPosition: 'earliest', handler: (m) => void seen.push(decode(m.payload)) });
    await bus.publish(t, { payload: encode('kept') });
    await waitFor(() => seen.length >= 1, 1000);
    await sleep(30);
    expect(seen).toEqual(['kept']);
  });

  it('forgets an unsubscribed subscription, with the messages it held and those waiting out a nack delay', async () => {
    const t = topic();
    let failures = 0;
    const follower = await bus.subscribe({
      topic: t,
      subscription: 'follower',
      type: 'exclusive',
      nackRedeliveryDelayMs: 60_000,
      handler: () => {
        failures += 1;
        throw new Error('later');
      },
    });
    await bus.publish(t, { payload: encode('nacked') });
    await waitFor(() => failures === 1, 1000);
    await follower.close();
    await bus.publish(t, { payload: encode('backlog') });
    expect(bus.stats(t, 'follower')?.backlog).toBe(2);
    const again = await bus.subscribe({ topic: t, subscription: 'follower', type: 'exclusive', handler: () => undefined });
    await again.unsubscribe();
    expect(bus.stats(t, 'follower')).toBeUndefined();
    // Nothing it held reaches a new subscription of the same name (its nack timer went with it).
    const seen: string[] = [];
    await bus.subscribe({ topic: t, subscription: 'follower', type: 'exclusive', handler: (m) => void seen.push(decode(m.payload)) });
    await sleep(50);
    expect(seen).toEqual([]);
  });

  it('retains only what some subscription has not acked', async () => {
    const t = topic();
    const reader = await bus.subscribe({ topic: t, subscription: 'reader', type: 'shared', handler: () => undefined });
    const keeper = await bus.subscribe({ topic: t, subscription: 'keeper', type: 'shared', handler: () => undefined });
    await bus.publish(t, { payload: encode('acked-by-all') });
    await waitFor(() => bus.stats(t, 'reader')?.backlog === 0 && bus.stats(t, 'keeper')?.backlog === 0, 1000);
    await keeper.close();
    await bus.publish(t, { payload: encode('kept-for-keeper') });
    await waitFor(() => bus.stats(t, 'reader')?.backlog === 0, 1000);
    expect(bus.stats(t, 'keeper')?.backlog).toBe(1);
    const seen: string[] = [];
    await bus.subscribe({ topic: t, subscription: 'newcomer', type: 'shared', initialPosition: 'earliest', handler: (m) => void seen.push(decode(m.payload)) });
    await waitFor(() => seen.length >= 1, 1000);
    await sleep(30);
    expect(seen).toEqual(['kept-for-keeper']);
    await reader.close();
  });

  it('keeps the backlog in the subscription: a slow consumer holds only `concurrency` messages', async () => {
    const t = topic();
    let calls = 0;
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    await bus.subscribe({
      topic: t,
      subscription: 'slow',
      type: 'shared',
      concurrency: 2,
      handler: async () => {
        calls += 1;
        await blocked;
      },
    });
    for (let i = 0; i < 50; i += 1) await bus.publish(t, { payload: encode(`m${i}`) });
    await waitFor(() => calls === 2, 1000);
    await sleep(30);
    expect(calls).toBe(2);
    expect(bus.stats(t, 'slow')).toEqual({ type: 'shared', consumers: 1, backlog: 50, inFlight: 2 });
    release();
    await waitFor(() => bus.stats(t, 'slow')?.backlog === 0, 1000);
    expect(calls).toBe(50);
  });

  it('while closing, refuses subscribe but accepts publish; afterwards refuses both', async () => {
    const t = topic();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    await bus.subscribe({
      topic: t,
      subscription: 's',
      type: 'shared',
      handler: async () => {
        started = true;
        await blocked;
      },
    });
    await bus.publish(t, { payload: encode('job') });
    await waitFor(() => started, 1000);
    const closing = bus.close();
    await expect(bus.subscribe({ topic: t, subscription: 'other', type: 'shared', handler: () => undefined })).rejects.toMatchObject({
      code: BusErrorCode.BUS_CLOSED,
    });
    await expect(bus.publish(t, { payload: encode('during close') })).resolves.toHaveProperty('messageId');
    release();
    await closing;
    await expect(bus.publish(t, { payload: encode('after close') })).rejects.toMatchObject({ code: BusErrorCode.BUS_CLOSED });
    expect(bus.stats(t, 's')).toBeUndefined();
  });

  it('lets a subscription change type once every consumer has left (as Pulsar does)', async () => {
    const t = topic();
    const shared = await bus.subscribe({ topic: t, subscription: 's', type: 'shared', handler: () => undefined });
    expect(bus.stats(t, 's')?.type).toBe('shared');
    await shared.close();
    expect(bus.stats(t, 's')?.type).toBeUndefined();
    await bus.subscribe({ topic: t, subscription: 's', type: 'exclusive', handler: () => undefined });
    expect(bus.stats(t, 's')?.type).toBe('exclusive');
  });

  it('dead-letters at delivery a message that already failed more often than the receiving consumer allows', async () => {
    const t = topic();
    const dead: IncomingMessage[] = [];
    await bus.subscribe({ topic: `${t}-s-DLQ`, subscription: 'watch', type: 'shared', handler: (m) => void dead.push(m) });
    let failures = 0;
    const lenient = await bus.subscribe({
      topic: t,
      subscription: 's',
      type: 'shared',
      maxRedeliveries: 5,
      nackRedeliveryDelayMs: 10,
      handler: () => {
        failures += 1;
        throw new Error('first consumer failed');
      },
    });
    await bus.publish(t, { payload: encode('m') });
    await waitFor(() => failures === 1, 1000);
    await lenient.close();
    let strictCalls = 0;
    await bus.subscribe({ topic: t, subscription: 's', type: 'shared', maxRedeliveries: 0, handler: () => void (strictCalls += 1) });
    await waitFor(() => dead.length === 1, 1000);
    expect(strictCalls).toBe(0);
    expect(dead[0].properties).toMatchObject({ DEAD_LETTER_REASON: 'first consumer failed', REDELIVERY_COUNT: '0' });
    expect(bus.stats(t, 's')?.backlog).toBe(0);
  });

  it('contains an onDeadLetter callback that throws or rejects', async () => {
    const t = topic();
    const dead: string[] = [];
    await bus.subscribe({ topic: `${t}-s-DLQ`, subscription: 'watch', type: 'shared', handler: (m) => void dead.push(decode(m.payload)) });
    let callbacks = 0;
    const handled: string[] = [];
    await bus.subscribe({
      topic: t,
      subscription: 's',
      type: 'shared',
      handler: (m) => {
        const text = decode(m.payload);
        if (text.startsWith('bad')) throw new RejectMessageError(`rejected ${text}`);
        handled.push(text);
      },
      onDeadLetter: (info) => {
        callbacks += 1;
        if (info.reason.endsWith('1')) throw new Error('callback threw');
        return Promise.reject(new Error('callback rejected'));
      },
    });
    for (const text of ['bad1', 'bad2', 'good']) await bus.publish(t, { payload: encode(text) });
    await waitFor(() => dead.length === 2 && handled.length === 1, 1000);
    expect(dead).toEqual(['bad1', 'bad2']);
    expect(callbacks).toBe(2);
    expect(handled).toEqual(['good']);
  });

  it('gives each delivery its own copy of the payload', async () => {
    const t = topic();
    const seen: string[] = [];
    await bus.subscribe({
      topic: t,
      subscription: 'mutator',
      type: 'shared',
      handler: (m) => {
        (m.payload as Uint8Array).fill(0x21);
      },
    });
    await bus.subscribe({ topic: t, subscription: 'reader', type: 'shared', handler: (m) => void seen.push(decode(m.payload)) });
    const buffer = encode('original');
    await bus.publish(t, { payload: buffer });
    buffer.fill(0x3f);
    await waitFor(() => seen.length === 1, 1000);
    expect(seen).toEqual(['original']);
  });

  it('treats a success that arrives after the ack timeout as a late ack when the message was not redelivered yet', async () => {
    const t = topic();
    const seen: number[] = [];
    await bus.subscribe({
      topic: t,
      subscription: 's',
      type: 'shared',
      ackTimeoutMs: 20,
      handler: async (m) => {
        seen.push(m.redeliveryCount);
        await sleep(60);
      },
    });
    await bus.publish(t, { payload: encode('slow') });
    await waitFor(() => bus.stats(t, 's')?.backlog === 0, 1000);
    await sleep(30);
    expect(seen).toEqual([0]);
  });

  it('key-shared: a busy consumer holds back only its own keys', async () => {
    const t = topic();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const got: Record<string, string[]> = { a: [], b: [] };
    for (const name of ['a', 'b']) {
      await bus.subscribe({
        topic: t,
        subscription: 'k',
        type: 'key-shared',
        handler: async (m) => {
          got[name].push(m.key as string);
          if (m.key === 'block' || got[name].includes('block')) await blocked;
        },
      });
    }
    await bus.publish(t, { payload: encode('x'), key: 'block' });
    await waitFor(() => got.a.length + got.b.length === 1, 1000);
    const busy = got.a.length === 1 ? 'a' : 'b';
    const free = busy === 'a' ? 'b' : 'a';
    for (let i = 0; i < 40; i += 1) await bus.publish(t, { payload: encode('y'), key: `k${i}` });
    await sleep(30);
    expect(got[busy]).toEqual(['block']);
    expect(got[free].length).toBeGreaterThan(0);
    const heldBack = 40 - got[free].length;
    expect(heldBack).toBeGreaterThan(0);
    release();
    await waitFor(() => got.a.length + got.b.length === 41, 1000);
  });

  it('redelivers a nacked message before the rest of the backlog', async () => {
    const t = topic();
    const seen: string[] = [];
    await bus.subscribe({
      topic: t,
      subscription: 's',
      type: 'failover',
      nackRedeliveryDelayMs: 0,
      handler: (m) => {
        const text = decode(m.payload);
        seen.push(`${text}#${m.redeliveryCount}`);
        if (text === 'm0' && m.redeliveryCount === 0) throw new Error('once');
      },
    });
    for (let i = 0; i < 4; i += 1) await bus.publish(t, { payload: encode(`m${i}`) });
    await waitFor(() => seen.length === 5, 1000);
    expect(seen).toEqual(['m0#0', 'm0#1', 'm1#0', 'm2#0', 'm3#0']);
  });

  it("key-shared: a closing consumer's keys move to the others only once its in-flight handler has finished", async () => {
    const t = topic();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const a: string[] = [];
    const b: string[] = [];
    const first = await bus.subscribe({
      topic: t,
      subscription: 'k',
      type: 'key-shared',
      handler: async (m) => {
        a.push(decode(m.payload));
        await blocked;
      },
    });
    await bus.subscribe({ topic: t, subscription: 'k', type: 'key-shared', handler: (m) => void b.push(decode(m.payload)) });
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
    for (const key of keys) await bus.publish(t, { payload: encode(`${key}/1`), key });
    await waitFor(() => a.length === 1, 1000);
    await sleep(30);
    const keysOfB = new Set(b.map((text) => text.split('/')[0]));
    expect(keysOfB.size).toBeGreaterThan(0);
    expect(keysOfB.size).toBeLessThan(15);
    const closing = first.close();
    for (const key of keys) await bus.publish(t, { payload: encode(`${key}/2`), key });
    await sleep(30);
    expect(b.every((text) => keysOfB.has(text.split('/')[0]))).toBe(true);
    release();
    await closing;
    await waitFor(() => a.length + b.length === 32, 1000);
    for (const key of keys) {
      const rounds = [...a, ...b].filter((text) => text.startsWith(`${key}/`));
      expect(rounds).toEqual([`${key}/1`, `${key}/2`]);
    }
  });

  it("key-shared: a closing consumer's keys move to the remaining consumer", async () => {
    const t = topic();
    const got: Record<string, string[]> = { a: [], b: [] };
    const consumers = [];
    for (const name of ['a', 'b']) {
      consumers.push(await bus.subscribe({ topic: t, subscription: 'k', type: 'key-shared', handler: (m) => void got[name].push(m.key as string) }));
    }
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
    for (const key of keys) await bus.publish(t, { payload: encode('1'), key });
    await waitFor(() => got.a.length + got.b.length === 16, 1000);
    expect(got.a.length).toBeGreaterThan(0);
    expect(got.b.length).toBeGreaterThan(0);
    await consumers[0].close();
    for (const key of keys) await bus.publish(t, { payload: encode('2'), key });
    await waitFor(() => got.b.length === 16 + (16 - got.a.length), 1000);
    expect(got.b.slice(-16).sort()).toEqual([...keys].sort());
  });
});
