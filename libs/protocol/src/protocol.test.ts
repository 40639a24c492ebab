import { createLogger } from '@surrogate/core';
import { BusError, BusErrorCode, createMemoryBus, isRejectMessageError, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import {
  chunkKey,
  Codecs,
  CommandPublisher,
  decodeColumns,
  encodeColumns,
  ensureServiceSubscriptions,
  eventKind,
  purposeName,
  purposeValue,
  refusalOf,
  SERVICE_SUBSCRIPTIONS,
} from './index';

describe('chunk columns', () => {
  it('are column-major little-endian float32', () => {
    const bytes = encodeColumns([new Float64Array([1, 2]), new Float32Array([-0.5, 3])], 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([0, 4, 8, 12].map((o) => view.getFloat32(o, true))).toEqual([1, 2, -0.5, 3]);
    expect(decodeColumns(bytes, 2, 2).map((c) => Array.from(c))).toEqual([
      [1, 2],
      [-0.5, 3],
    ]);
  });

  it('refuse a byte count that does not match', () => {
    expect(() => decodeColumns(new Uint8Array(12), 2, 2)).toThrow(/expected 16 bytes/);
    expect(() => encodeColumns([new Float32Array(3)], 2)).toThrow(/column 0 has 3 values, expected 2/);
  });
});

describe('codecs', () => {
  it('round-trip the message of each topic and name event kinds', () => {
    const event = v1.ExperimentEvent.create({ experimentId: 'e', chunkAccepted: { chunkIndex: 4 } });
    const back = Codecs.event.decode(Codecs.event.encode(event));
    expect(eventKind(back)).toBe('chunkAccepted');
    expect(back.chunkAccepted?.chunkIndex).toBe(4);
  });

  it('turn undecodable bytes into a rejection (dead letter, no retry)', () => {
    let thrown: unknown;
    try {
      Codecs.chunk.decode(new Uint8Array([0x0a, 0xff, 0xff]));
    } catch (err) {
      thrown = err;
    }
    expect(isRejectMessageError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/surrogate\.v1\.DataChunk/);
  });
});

describe('chunk identity', () => {
  it('maps purposes both ways and rejects an unset one', () => {
    expect(purposeName(purposeValue('validation'))).toBe('validation');
    expect(() => purposeName(v1.ChunkPurpose.CHUNK_PURPOSE_UNSPECIFIED)).toThrow(RangeError);
    expect(chunkKey('e', 'training', 7)).toBe('e/training/7');
  });
});

describe('service subscriptions', () => {
  const silent = createLogger({ name: 'protocol-test', level: 'silent' });

  it('are created on the published topics only, for exactly their durable consumers', async () => {
    const bus = createMemoryBus({ logger: silent });
    const topics = new Topics({ namespace: 'subs' });
    await ensureServiceSubscriptions(bus, topics, ['jobs', 'events', 'jobs'], silent);
    const exists = (topic: string, name: string): boolean => bus.stats(topic, name) !== undefined;
    expect(exists(topics.jobs, SERVICE_SUBSCRIPTIONS.datagen)).toBe(true);
    expect(exists(topics.events, SERVICE_SUBSCRIPTIONS.producer)).toBe(true);
    expect(exists(topics.events, SERVICE_SUBSCRIPTIONS.trainerControl)).toBe(true);
    expect(exists(topics.chunks, SERVICE_SUBSCRIPTIONS.trainer)).toBe(false);
    expect(exists(topics.experiments, SERVICE_SUBSCRIPTIONS.producer)).toBe(false);
    await bus.close();
  });

  it('warn and go on where a subscription cannot be created (e.g. not authorized), and reject on a closed bus', async () => {
    const inner = createMemoryBus({ logger: silent });
    const refusing: Bus = {
      publish: (topic, message) => inner.publish(topic, message),
      subscribe: (options) => inner.subscribe(options),
      close: () => inner.close(),
      ensureSubscription: async () => {
        throw new BusError(BusErrorCode.BROKER_ERROR, 'AuthorizationError: not authorized to consume');
      },
    };
    const warnings: string[] = [];
    const log = createLogger({ name: 'protocol-test', level: 'warn', destination: { write: (line: string) => void warnings.push(line) } });
    const topics = new Topics();
    const received: string[] = [];
    await inner.subscribe({ topic: topics.experiments, subscription: 'watcher', type: 'exclusive', handler: (m) => void received.push(m.key ?? '') });
    await new CommandPublisher(refusing, topics, log).publish({ experimentId: 'exp-2', issuedAtMs: 1, cancel: { reason: 'r' } });
    await waitFor(() => received.length === 1, 5000, 'the command, published all the same');
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({
      level: 40,
      topic: topics.experiments,
      subscription: SERVICE_SUBSCRIPTIONS.producer,
      err: expect.stringContaining('not authorized'),
      msg: expect.stringContaining(`pulsar-admin topics create-subscription -s producer ${topics.experiments}`),
    });
    await inner.close();
    await expect(ensureServiceSubscriptions(inner, topics, ['jobs'], log)).rejects.toMatchObject({ code: BusErrorCode.BUS_CLOSED });
  });

  it('let a command published before any producer ran reach the first one, keyed by its experiment', async () => {
    const bus = createMemoryBus({ logger: silent });
    const topics = new Topics();
    const commands = new CommandPublisher(bus, topics, silent);
    await commands.publish({ experimentId: 'exp-1', issuedAtMs: 5, cancel: { reason: 'r' } });
    const received: Array<{ key: string | undefined; command: v1.ExperimentCommand }> = [];
    await bus.subscribe({
      topic: topics.experiments,
      subscription: SERVICE_SUBSCRIPTIONS.producer,
      type: 'failover',
      handler: (m) => void received.push({ key: m.key, command: Codecs.command.decode(m.payload) }),
    });
    await waitFor(() => received.length === 1, 5000, 'the command');
    expect(received[0]?.key).toBe('exp-1');
    expect(received[0]?.command.cancel?.reason).toBe('r');
    await bus.close();
  });
});

describe('refusalOf', () => {
  const K = v1.CommandKind;
  const refused = (command: v1.CommandKind, at: number): v1.ExperimentEvent =>
    v1.ExperimentEvent.create({ experimentId: 'e', rejected: { code: 'X', reason: 'r', command, commandIssuedAtMs: at } });

  it("matches only the refusal of that command's kind and issue time", () => {
    expect(refusalOf(refused(K.COMMAND_KIND_CANCEL, 7), K.COMMAND_KIND_CANCEL, 7)?.code).toBe('X');
    expect(refusalOf(refused(K.COMMAND_KIND_CANCEL, 7), K.COMMAND_KIND_CANCEL, 8)).toBeUndefined();
    expect(refusalOf(refused(K.COMMAND_KIND_SUBMIT, 7), K.COMMAND_KIND_CANCEL, 7)).toBeUndefined();
    expect(refusalOf(refused(K.COMMAND_KIND_CANCEL, 7), K.COMMAND_KIND_SUBMIT, 7)).toBeUndefined();
    expect(refusalOf(refused(K.COMMAND_KIND_SUBMIT, 7), K.COMMAND_KIND_SUBMIT, 7)?.code).toBe('X');
    // a command the producer could not read names no kind: it answers a submit, never a cancel
    expect(refusalOf(refused(K.COMMAND_KIND_UNSPECIFIED, 7), K.COMMAND_KIND_SUBMIT, 7)?.code).toBe('X');
    expect(refusalOf(refused(K.COMMAND_KIND_UNSPECIFIED, 7), K.COMMAND_KIND_CANCEL, 7)).toBeUndefined();
    expect(refusalOf(v1.ExperimentEvent.create({ experimentId: 'e', cancelled: { reason: 'r' } }), K.COMMAND_KIND_CANCEL, 7)).toBeUndefined();
  });
});
