import { createLogger } from '@surrogate/core';
import { BusError, BusErrorCode } from './bus-error';
import { waitFor } from './conformance/wait-for';
import { MemoryBus } from './memory-bus';
import { openBus } from './open-bus';
import { PulsarBus } from './pulsar-bus';
import { BROKER_START_TIMEOUT_MS, brokerUrl, uniqueTopic } from '@surrogate/testing';

const logger = createLogger({ name: 'open-bus-test', level: 'silent' });

describe('openBus', () => {
  it.each(['memory:', 'memory://local', 'MEMORY://x/'])('opens a memory bus for %s', async (url) => {
    const bus = await openBus(url, { logger });
    expect(bus).toBeInstanceOf(MemoryBus);
    await bus.close();
  });

  it('names the memory bus after the URL', async () => {
    const bus = (await openBus('memory://embedded', { logger })) as MemoryBus;
    expect(bus.name).toBe('embedded');
    await bus.close();
  });

  it.each([
    ['http://127.0.0.1:8080', 'http'],
    ['kafka://broker:9092', 'kafka'],
    ['localhost:6650', 'localhost'],
  ])('refuses %s with INVALID_ARGUMENT naming the scheme', async (url, scheme) => {
    const error: unknown = await openBus(url, { logger }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe(BusErrorCode.INVALID_ARGUMENT);
    expect((error as BusError).message).toContain(`"${scheme}:"`);
    expect((error as BusError).details).toEqual({ scheme });
  });

  it('refuses a URL without scheme', async () => {
    await expect(openBus('', { logger })).rejects.toMatchObject({ code: BusErrorCode.INVALID_ARGUMENT });
    await expect(openBus('/tmp/bus', { logger })).rejects.toMatchObject({ code: BusErrorCode.INVALID_ARGUMENT });
  });

  it(
    'opens a pulsar bus for pulsar:// (token undefined is fine)',
    async () => {
      const bus = await openBus(brokerUrl(), { logger, token: undefined });
      try {
        expect(bus).toBeInstanceOf(PulsarBus);
        const topic = uniqueTopic('open-bus');
        const seen: string[] = [];
        await bus.subscribe({ topic, subscription: 's', type: 'shared', handler: (m) => void seen.push(m.messageId) });
        const { messageId } = await bus.publish(topic, { payload: Uint8Array.of(1) });
        await waitFor(() => seen.length === 1, 5000, 'the message');
        expect(seen).toEqual([messageId]);
      } finally {
        await bus.close();
      }
    },
    BROKER_START_TIMEOUT_MS,
  );

  it('reaches the pulsar adapter for pulsar+ssl:// (a refused connection is a BROKER_ERROR)', async () => {
    const error: unknown = await openBus('pulsar+ssl://127.0.0.1:1', { logger, connectTimeoutMs: 2000 }).catch((err: unknown) => err);
    expect((error as BusError).code).toBe(BusErrorCode.BROKER_ERROR);
  });
});
