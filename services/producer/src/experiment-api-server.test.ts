import { rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@surrogate/core';
import {
  createMemoryBus,
  Topics,
  waitFor,
  type Bus,
  type MemoryBus,
  type SubscribeOptions,
  type Subscription,
} from '@surrogate/messaging';
import {
  makeTestCertificates,
  type TestCertificates,
} from '@surrogate/pricing/dist/test-fixtures/test-certificates';
import { HEALTH_SERVICE, health, v1 } from '@surrogate/proto';
import { Codecs, EventPublisher, purposeValue } from '@surrogate/protocol';
import { DEFAULTS, parseSpec, specFromWire, specToWire } from '@surrogate/spec';
import { ExperimentApiServer } from './experiment-api-server';
import { experimentServiceClient, type ExperimentServiceClient, type UnaryCall } from './experiment-service-client';
import { MemoryExperimentStore } from './memory-experiment-store';
import { Producer } from './producer';
import { smallSpec } from './test-fixtures/small-spec';

const SPEC = specToWire(smallSpec('api'));

interface HealthClient extends grpc.Client {
  check: UnaryCall<health.IHealthCheckRequest, health.HealthCheckResponse>;
  watch(request: health.IHealthCheckRequest): grpc.ClientReadableStream<health.HealthCheckResponse>;
}
const HealthClientCtor = grpc.makeGenericClientConstructor(HEALTH_SERVICE, 'Health');

function metadata(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function call<Req, Res>(
  client: grpc.Client,
  fn: UnaryCall<Req, Res>,
  req: Req,
  o: { token?: string; deadlineMs?: number } = {},
): Promise<Res> {
  const options: grpc.CallOptions = o.deadlineMs === undefined ? {} : { deadline: Date.now() + o.deadlineMs };
  return new Promise((resolve, reject) =>
    fn.call(client, req, metadata(o.token), options, (err, res) => (err ? reject(err) : resolve(res as Res))),
  );
}

/** Reads a Watch stream to its end: the events, and the status it ended with. */
function readWatch(stream: grpc.ClientReadableStream<v1.ExperimentEvent>): {
  events: v1.ExperimentEvent[];
  ended: Promise<grpc.StatusObject | grpc.ServiceError>;
} {
  const events: v1.ExperimentEvent[] = [];
  stream.on('data', (e: v1.ExperimentEvent) => events.push(e));
  const ended = new Promise<grpc.StatusObject | grpc.ServiceError>((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => resolve(err));
    stream.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve(s);
    });
  });
  return { events, ended };
}

/** The memory bus, recording the subscriptions taken on the events topic (to see that each is dropped). */
class RecordingBus implements Bus {
  readonly followers: string[] = [];
  constructor(readonly inner: MemoryBus) {}
  publish: Bus['publish'] = (topic, message) => this.inner.publish(topic, message);
  close = (): Promise<void> => this.inner.close();
  ensureSubscription: Bus['ensureSubscription'] = (options) => this.inner.ensureSubscription(options);
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (options.durable === false) this.followers.push(options.subscription);
    return this.inner.subscribe(options);
  }
}

interface Harness {
  bus: RecordingBus;
  topics: Topics;
  store: MemoryExperimentStore;
  producer: Producer;
  server: ExperimentApiServer;
  client: ExperimentServiceClient;
  commands: v1.ExperimentCommand[];
  /** Publishes events as the trainer would. */
  trainer: EventPublisher;
  /** Subscriptions on the events topic that are still attached. */
  liveFollowers(): string[];
  close(): Promise<void>;
}

const silent = createLogger({ name: 'api-test', level: 'silent' });

async function harness(o: { token?: string; answerTimeoutMs?: number; watchMaxPending?: number; watchMaxOpen?: number } = {}): Promise<Harness> {
  const memory = createMemoryBus({ logger: silent });
  const bus = new RecordingBus(memory);
  const topics = new Topics();
  const store = new MemoryExperimentStore();
  const commands: v1.ExperimentCommand[] = [];
  await memory.subscribe({
    topic: topics.experiments,
    subscription: 'test',
    type: 'exclusive',
    handler: (m) => void commands.push(Codecs.command.decode(m.payload)),
  });
  const producer = new Producer({ bus: memory, topics, store, logger: silent });
  await producer.start();
  const server = await ExperimentApiServer.start({
    bus,
    topics,
    store,
    logger: silent,
    token: o.token,
    answerTimeoutMs: o.answerTimeoutMs,
    watchMaxPending: o.watchMaxPending,
    watchMaxOpen: o.watchMaxOpen,
  });
  const client = experimentServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  return {
    bus,
    topics,
    store,
    producer,
    server,
    client,
    commands,
    trainer: new EventPublisher(memory, topics.events, 'trainer'),
    liveFollowers: () => bus.followers.filter((name) => memory.stats(topics.events, name) !== undefined),
    close: async () => {
      client.close();
      await server.stop(500);
      await producer.stop();
      await memory.close();
    },
  };
}

describe('ExperimentService', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  describe('Submit', () => {
    it('publishes the submit command the CLI publishes, with an id made as the CLI makes it, and answers once the producer accepted it', async () => {
      h = await harness();
      const r = await call(h.client, h.client.submit, { spec: SPEC });
      expect(r.experimentId).toMatch(/^api-\d{8}T\d{6}-[0-9a-f]{6}$/);
      expect(r).toMatchObject({ trainingChunks: 4, validationChunks: 1 });
      expect(h.commands).toHaveLength(1);
      const command = h.commands[0] as v1.ExperimentCommand;
      expect(command.experimentId).toBe(r.experimentId);
      expect(Number(command.issuedAtMs)).toBe(Number(r.issuedAtMs));
      expect(command.submit?.spec?.name).toBe('api');
      expect(command.cancel).toBeFalsy();
      // the producer holds it: Get answers at once
      const info = await call(h.client, h.client.get, { experimentId: r.experimentId });
      expect(info).toMatchObject({
        experimentId: r.experimentId,
        specName: 'api',
        status: v1.ExperimentStatus.EXPERIMENT_STATUS_RUNNING,
      });
      expect(h.liveFollowers()).toEqual([]);
    });

    it('takes the experiment id it is given', async () => {
      h = await harness();
      const r = await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'mine-1' });
      expect(r.experimentId).toBe('mine-1');
      expect((await h.store.get('mine-1'))?.status).toBe('running');
    });

    it('refuses a bad spec with INVALID_ARGUMENT naming field, value and rule, and publishes nothing', async () => {
      h = await harness();
      const bad = { ...SPEC, samples: 0 };
      await expect(call(h.client, h.client.submit, { spec: bad })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/invalid spec:[\s\S]*samples = 0: /),
      });
      await expect(
        call(h.client, h.client.submit, { spec: { ...SPEC, pricer: 'no-such-pricer' } }),
      ).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('pricer = "no-such-pricer"'),
      });
      await expect(call(h.client, h.client.submit, {})).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('spec is missing'),
      });
      await expect(
        call(h.client, h.client.submit, { spec: SPEC, experimentId: 'bad\nid' }),
      ).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('experiment_id = "bad\\nid": must be at most 200 characters'),
      });
      expect(h.commands).toEqual([]);
    });

    it("takes a spec file's text (spec_text) and resolves it as surrogate submit does, defaults filled in", async () => {
      h = await harness();
      const text = `name: from-text
pricer: black-scholes
fixed: {type: put, strike: 100, rate: 0.01, maturity: 1}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}}
samples: 1000
chunkSize: 300
validation: {samples: 250}
`;
      const r = await call(h.client, h.client.submit, { specText: text, experimentId: 'text-1' });
      expect(r).toMatchObject({ experimentId: 'text-1', trainingChunks: 4, validationChunks: 1 });
      const command = h.commands[0] as v1.ExperimentCommand;
      // the producer received the spec resolved with every default, as the CLI would have sent it
      expect(specFromWire(command.submit?.spec as v1.IExperimentSpec)).toEqual(parseSpec(text));
      expect(command.submit?.spec?.training?.hiddenLayers).toEqual(DEFAULTS.training.hiddenLayers);
    });

    it('refuses spec_text that is not a valid spec (naming the line or the field), and neither or both of spec and spec_text', async () => {
      h = await harness();
      await expect(call(h.client, h.client.submit, { specText: 'name: x\ninputs: [oops\n' })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/spec_text: spec syntax error[\s\S]*line \d+/),
      });
      await expect(call(h.client, h.client.submit, { specText: 'name: x\npricer: black-scholes\nsamples: 0\n' })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/samples = 0/),
      });
      await expect(call(h.client, h.client.submit, { spec: SPEC, specText: 'name: x\n' })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('spec and spec_text are both given'),
      });
      await expect(call(h.client, h.client.submit, { specText: '' })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('spec is missing'),
      });
      // read on the producer's event loop: bounded, and what cannot be read is bad input, not a server error
      await expect(call(h.client, h.client.submit, { specText: `name: x\n# ${'p'.repeat(70_000)}\n` })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/spec_text is 700\d\d bytes: at most 65536/),
      });
      const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghijkl'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghijk'[i]}`).join(', ')}]`)];
      await expect(call(h.client, h.client.submit, { specText: laughs.join('\n') })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/spec_text: spec syntax error[\s\S]*cannot be read/),
      });
      expect(h.commands).toEqual([]);
    });

    it('refuses an id the producer holds running (ALREADY_EXISTS), and runs a cancelled one again', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'twice' });
      await expect(
        call(h.client, h.client.submit, { spec: SPEC, experimentId: 'twice' }),
      ).rejects.toMatchObject({
        code: grpc.status.ALREADY_EXISTS,
        details: expect.stringContaining('(running)'),
      });
      expect(h.commands).toHaveLength(1);
      await call(h.client, h.client.cancel, { experimentId: 'twice' });
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'twice' });
      expect((await h.store.get('twice'))?.status).toBe('running');
    });

    it('answers DEADLINE_EXCEEDED when no producer accepts in time, the command being published', async () => {
      h = await harness({ answerTimeoutMs: 200 });
      await h.producer.stop();
      await expect(
        call(h.client, h.client.submit, { spec: SPEC, experimentId: 'nobody-home' }),
      ).rejects.toMatchObject({
        code: grpc.status.DEADLINE_EXCEEDED,
        details: expect.stringContaining('did not accept it within 200 ms'),
      });
      expect(h.commands.map((c) => c.experimentId)).toEqual(['nobody-home']);
      expect(h.liveFollowers()).toEqual([]);
    });
  });

  describe('Get and List', () => {
    it('tells what the producer stores: status, chunks landed of expected, times, the resolved spec', async () => {
      h = await harness();
      const r = await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'g' });
      await h.trainer.publish('g', {
        chunkAccepted: { purpose: purposeValue('training'), chunkIndex: 2, stored: 1, expected: 4 },
      });
      await h.trainer.publish('g', {
        chunkAccepted: { purpose: purposeValue('validation'), chunkIndex: 0, stored: 1, expected: 1 },
      });
      await waitFor(
        async () => (await h.store.get('g'))?.chunks.filter((c) => c.landed).length === 2,
        5000,
        'the landings stored',
      );
      const info = await call(h.client, h.client.get, { experimentId: 'g' });
      expect(info).toMatchObject({
        experimentId: 'g',
        specName: 'api',
        status: v1.ExperimentStatus.EXPERIMENT_STATUS_RUNNING,
        trainingChunksLanded: 1,
        trainingChunksExpected: 4,
        validationChunksLanded: 1,
        validationChunksExpected: 1,
      });
      expect(Number(info.issuedAtMs)).toBe(Number(r.issuedAtMs));
      expect(Number(info.acceptedAtMs)).toBeGreaterThanOrEqual(Number(r.issuedAtMs));
      expect(Number(info.spec?.samples)).toBe(1000);
      expect(Number(info.spec?.chunkSize)).toBe(300);
    });

    it('answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for none', async () => {
      h = await harness();
      await expect(call(h.client, h.client.get, { experimentId: 'nope' })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
        details: expect.stringContaining('no experiment nope'),
      });
      await expect(call(h.client, h.client.get, {})).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('experiment_id is missing'),
      });
    });

    it('refuses an id no experiment can have (too long, control characters) in Get, Cancel and Watch, quoting only its beginning and publishing nothing', async () => {
      h = await harness();
      const huge = 'y'.repeat(3_000_000); // it would be a command's key: a message the broker resets the connection over
      for (const [name, attempt] of [
        ['get', () => call(h.client, h.client.get, { experimentId: huge })],
        ['cancel', () => call(h.client, h.client.cancel, { experimentId: huge })],
        ['cancel', () => call(h.client, h.client.cancel, { experimentId: 'a\nb' })],
        ['watch', () => readWatch(h.client.watch({ experimentId: huge }, metadata())).ended.then((e) => Promise.reject(e))],
      ] as const) {
        const err = (await (attempt as () => Promise<unknown>)().catch((e: unknown) => e)) as grpc.ServiceError;
        expect({ name, code: err.code }).toEqual({ name, code: grpc.status.INVALID_ARGUMENT });
        expect(err.details).toMatch(/experiment_id = .*must be at most 200 characters/);
        expect(err.details.length).toBeLessThan(400);
      }
      expect(h.commands).toEqual([]);
    });

    it('lists by id a page at a time, filters by status, and refuses a page size beyond 1000 or a token it did not give', async () => {
      h = await harness();
      for (const id of ['e3', 'e1', 'e5', 'e2', 'e4'])
        await call(h.client, h.client.submit, { spec: SPEC, experimentId: id });
      await call(h.client, h.client.cancel, { experimentId: 'e2' });
      const ids = (r: v1.ListExperimentsResponse): string[] => r.experiments.map((e) => e.experimentId ?? '');
      const p1 = await call(h.client, h.client.list, { pageSize: 2 });
      expect(ids(p1)).toEqual(['e1', 'e2']);
      expect(p1.experiments[1]?.status).toBe(v1.ExperimentStatus.EXPERIMENT_STATUS_CANCELLED);
      expect(p1.nextPageToken).not.toBe('');
      const p2 = await call(h.client, h.client.list, { pageSize: 2, pageToken: p1.nextPageToken });
      expect(ids(p2)).toEqual(['e3', 'e4']);
      const p3 = await call(h.client, h.client.list, { pageSize: 2, pageToken: p2.nextPageToken });
      expect(ids(p3)).toEqual(['e5']);
      expect(p3.nextPageToken).toBe('');
      expect(ids(await call(h.client, h.client.list, {}))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
      expect(
        ids(await call(h.client, h.client.list, { status: v1.ExperimentStatus.EXPERIMENT_STATUS_CANCELLED })),
      ).toEqual(['e2']);
      expect(
        ids(
          await call(h.client, h.client.list, {
            status: v1.ExperimentStatus.EXPERIMENT_STATUS_RUNNING,
            pageSize: 1000,
          }),
        ),
      ).toEqual(['e1', 'e3', 'e4', 'e5']);
      await expect(call(h.client, h.client.list, { pageSize: 1001 })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: 'page_size = 1001: must be at most 1000 (0 means 100)',
      });
      await expect(call(h.client, h.client.list, { pageToken: 'e3' })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('page_token = e3: not a token this server gave'),
      });
      await expect(call(h.client, h.client.list, { status: 9 as v1.ExperimentStatus })).rejects.toMatchObject(
        {
          code: grpc.status.INVALID_ARGUMENT,
          details: expect.stringContaining('status = 9'),
        },
      );
    });
  });

  describe('Cancel', () => {
    it('cancels a running experiment, then answers FAILED_PRECONDITION naming the end; NOT_FOUND for an unknown one', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'c' });
      const r = await call(h.client, h.client.cancel, { experimentId: 'c', reason: 'not needed' });
      expect(r).toMatchObject({ cancelled: true, ended: false, reason: 'not needed' });
      expect((await h.store.get('c'))?.status).toBe('cancelled');
      const cancel = h.commands.find((c) => c.cancel);
      expect(cancel?.cancel?.reason).toBe('not needed');
      await expect(call(h.client, h.client.cancel, { experimentId: 'c' })).rejects.toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
        details: expect.stringContaining('has already ended (cancelled)'),
      });
      await expect(call(h.client, h.client.cancel, { experimentId: 'ghost' })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
        details: expect.stringContaining('no experiment ghost to cancel'),
      });
      expect(h.liveFollowers()).toEqual([]);
    });

    it('answers DEADLINE_EXCEEDED within the call deadline when no producer answers', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'c' });
      await h.producer.stop();
      const err = await call(h.client, h.client.cancel, { experimentId: 'c' }, { deadlineMs: 300 }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect((await h.store.get('c'))?.status).toBe('running');
      await waitFor(() => h.liveFollowers().length === 0, 5000, 'the cancel follower dropped');
    });
  });

  describe('Watch', () => {
    it('streams the experiment’s events from the call on and ends (OK) after model ready, dropping its subscription', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'w' });
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'other' });
      const watch = readWatch(h.client.watch({ experimentId: 'w' }, metadata()));
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the watch subscribed');
      await h.trainer.publish('other', {
        chunkAccepted: { purpose: purposeValue('training'), chunkIndex: 0, stored: 1, expected: 4 },
      });
      await h.trainer.publish('w', {
        chunkAccepted: { purpose: purposeValue('training'), chunkIndex: 1, stored: 1, expected: 4 },
      });
      // a refused cancel leaves the experiment as it was: not the end of the watch
      await h.trainer.publish('w', {
        rejected: {
          code: 'EXPERIMENT_ENDED',
          command: v1.CommandKind.COMMAND_KIND_CANCEL,
          commandIssuedAtMs: 1,
        },
      });
      await h.trainer.publish('w', { datasetReady: { trainingSamples: 1000, validationSamples: 250 } });
      await h.trainer.publish('w', { modelReady: { modelUri: 'file:///m.onnx', pass: true } });
      await h.trainer.publish('w', { trainingProgress: { epoch: 99 } }); // after the end: not sent
      const status = await watch.ended;
      expect(status.code).toBe(grpc.status.OK);
      expect(
        watch.events.map((e) => [
          e.experimentId,
          Object.keys(e.toJSON()).find((k) => !['experimentId', 'timeMs', 'source'].includes(k)),
        ]),
      ).toEqual([
        ['w', 'chunkAccepted'],
        ['w', 'rejected'],
        ['w', 'datasetReady'],
        ['w', 'modelReady'],
      ]);
      expect(watch.events[3]?.modelReady?.modelUri).toBe('file:///m.onnx');
      await waitFor(() => h.liveFollowers().length === 0, 5000, 'the watch subscription dropped');
    });

    it('ends the watch of a client that stops reading with RESOURCE_EXHAUSTED, instead of buffering without bound, and serves others', async () => {
      h = await harness({ watchMaxPending: 200 });
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'w' });
      const stream = h.client.watch({ experimentId: 'w' }, metadata());
      const slow = readWatch(stream);
      stream.pause(); // reads nothing: HTTP/2 flow control stops the server's sending once the window is full
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the watch subscribed');
      const progress = (epoch: number): Promise<unknown> =>
        h.trainer.publish('w', { trainingProgress: { epoch, epochs: 1_000_000, loss: 0.125, learningRate: 1e-3 } });
      // ~200 KB of events: more than the flow-control windows and the 200 that may wait unsent
      for (let epoch = 1; epoch <= 5000 && h.liveFollowers().length === 1; epoch++) await progress(epoch);
      await waitFor(() => h.liveFollowers().length === 0, 5000, 'the slow watch dropped its subscription');
      stream.resume();
      const ended = await slow.ended;
      expect(ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
      expect(ended.details).toMatch(/read too slowly: more than 200 events waited to be sent; watch again/);
      // what it did get came in order, without gaps
      expect(slow.events.map((e) => e.trainingProgress?.epoch)).toEqual(slow.events.map((_, i) => i + 1));

      // the server goes on serving: a client that reads gets its watch to the end
      const next = readWatch(h.client.watch({ experimentId: 'w' }, metadata()));
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the next watch subscribed');
      await progress(5001);
      await h.trainer.publish('w', { modelReady: { modelUri: 'file:///m.onnx', pass: true } });
      expect((await next.ended).code).toBe(grpc.status.OK);
      expect(next.events.map((e) => (e.modelReady ? 'modelReady' : e.trainingProgress?.epoch))).toEqual([5001, 'modelReady']);
    });

    it('keeps at most watchMaxOpen watches open (each is a broker subscription); one more is RESOURCE_EXHAUSTED until one ends', async () => {
      h = await harness({ watchMaxOpen: 2 });
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'w' });
      const first = h.client.watch({ experimentId: 'w' }, metadata());
      const second = readWatch(h.client.watch({ experimentId: 'w' }, metadata()));
      readWatch(first);
      await waitFor(() => h.liveFollowers().length === 2, 5000, 'two watches following events');
      const third = await readWatch(h.client.watch({ experimentId: 'w' }, metadata())).ended;
      expect(third).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringContaining('2 watches are open') });
      first.cancel();
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the cancelled watch to drop its subscription');
      const fourth = h.client.watch({ experimentId: 'w' }, metadata());
      readWatch(fourth);
      await waitFor(() => h.liveFollowers().length === 2, 5000, 'a new watch in the freed place');
      fourth.cancel();
      void second;
    });

    it('ends after cancelled, and after a refused submission', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'w' });
      const watch = readWatch(h.client.watch({ experimentId: 'w' }, metadata()));
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the watch subscribed');
      await call(h.client, h.client.cancel, { experimentId: 'w', reason: 'enough' });
      expect((await watch.ended).code).toBe(grpc.status.OK);
      expect(watch.events.map((e) => e.cancelled?.reason)).toEqual(['enough']);

      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'r' });
      const second = readWatch(h.client.watch({ experimentId: 'r' }, metadata()));
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the second watch subscribed');
      await h.trainer.publish('r', {
        rejected: { code: 'SPEC_INVALID', command: v1.CommandKind.COMMAND_KIND_SUBMIT, commandIssuedAtMs: 7 },
      });
      expect((await second.ended).code).toBe(grpc.status.OK);
      expect(second.events).toHaveLength(1);
      await waitFor(() => h.liveFollowers().length === 0, 5000, 'the subscriptions dropped');
    });

    it('refuses an ended experiment with FAILED_PRECONDITION naming the end, and an unknown one with NOT_FOUND', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'done' });
      await h.trainer.publish('done', { modelReady: { pass: true } });
      await waitFor(
        async () => (await h.store.get('done'))?.status === 'succeeded',
        5000,
        'the experiment succeeded',
      );
      const ended = await readWatch(h.client.watch({ experimentId: 'done' }, metadata())).ended;
      expect(ended).toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
        details: expect.stringContaining('experiment done has already ended (succeeded)'),
      });
      const unknown = await readWatch(h.client.watch({ experimentId: 'nobody' }, metadata())).ended;
      expect(unknown).toMatchObject({ code: grpc.status.NOT_FOUND });
      const missing = await readWatch(h.client.watch({}, metadata())).ended;
      expect(missing).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
      expect(h.liveFollowers()).toEqual([]);
    });

    it('drops its subscription when the client goes away', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'w' });
      const stream = h.client.watch({ experimentId: 'w' }, metadata());
      const watch = readWatch(stream);
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the watch subscribed');
      stream.cancel();
      expect((await watch.ended).code).toBe(grpc.status.CANCELLED);
      await waitFor(() => h.liveFollowers().length === 0, 5000, 'the watch subscription dropped');
    });

    it('ends the watches in progress with UNAVAILABLE when the server stops', async () => {
      h = await harness();
      await call(h.client, h.client.submit, { spec: SPEC, experimentId: 'w' });
      const watch = readWatch(h.client.watch({ experimentId: 'w' }, metadata()));
      await waitFor(() => h.liveFollowers().length === 1, 5000, 'the watch subscribed');
      await h.server.stop(500);
      expect(await watch.ended).toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(h.liveFollowers()).toEqual([]);
    });
  });

  describe('security', () => {
    it('with a token, refuses every ExperimentService call without it (UNAUTHENTICATED) and answers health checks without one', async () => {
      h = await harness({ token: 's3cret' });
      await expect(call(h.client, h.client.get, { experimentId: 'x' })).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
      });
      await expect(call(h.client, h.client.submit, { spec: SPEC }, { token: 'wrong' })).rejects.toMatchObject(
        { code: grpc.status.UNAUTHENTICATED },
      );
      await expect(call(h.client, h.client.list, {})).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
      });
      await expect(call(h.client, h.client.cancel, { experimentId: 'x' })).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
      });
      expect(await readWatch(h.client.watch({ experimentId: 'x' }, metadata())).ended).toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
      });
      expect(h.commands).toEqual([]);
      const r = await call(h.client, h.client.submit, { spec: SPEC }, { token: 's3cret' });
      expect(
        (await call(h.client, h.client.get, { experimentId: r.experimentId }, { token: 's3cret' })).specName,
      ).toBe('api');
      const hc = new HealthClientCtor(
        `127.0.0.1:${h.server.port}`,
        grpc.credentials.createInsecure(),
      ) as unknown as HealthClient;
      try {
        expect((await call(hc, hc.check, { service: 'surrogate.v1.ExperimentService' })).status).toBe(
          health.HealthCheckResponse.ServingStatus.SERVING,
        );
        expect((await call(hc, hc.check, { service: '' })).status).toBe(
          health.HealthCheckResponse.ServingStatus.SERVING,
        );
        // grpc.health.v1: Check of a service the server does not serve is NOT_FOUND
        await expect(call(hc, hc.check, { service: 'surrogate.v1.Other' })).rejects.toMatchObject({
          code: grpc.status.NOT_FOUND,
          details: expect.stringContaining('unknown service "surrogate.v1.Other"'),
        });
      } finally {
        hc.close();
      }
    });

    it('health Watch says SERVING, then NOT_SERVING when the server stops, and ends', async () => {
      h = await harness();
      const hc = new HealthClientCtor(`127.0.0.1:${h.server.port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
      try {
        const stream = hc.watch({ service: 'surrogate.v1.ExperimentService' });
        const statuses: number[] = [];
        stream.on('data', (r: health.HealthCheckResponse) => statuses.push(r.status));
        const ended = new Promise<void>((resolve) => {
          stream.on('end', () => resolve());
          stream.on('error', () => resolve());
        });
        await waitFor(() => statuses.length === 1, 5000, 'the first status');
        await h.server.stop(500);
        await ended;
        expect(statuses).toEqual([health.HealthCheckResponse.ServingStatus.SERVING, health.HealthCheckResponse.ServingStatus.NOT_SERVING]);
      } finally {
        hc.close();
      }
    });

    describe('over TLS', () => {
      let certs: TestCertificates;
      const bus = createMemoryBus({ logger: silent });
      const topics = new Topics();
      const store = new MemoryExperimentStore();
      beforeAll(async () => {
        certs = makeTestCertificates();
        await store.put({
          id: 'known',
          spec: v1.ExperimentSpec.decode(v1.ExperimentSpec.encode(SPEC).finish()),
          submittedAt: 1,
          createdAt: 2,
          status: 'succeeded',
          expected: { training: 0, validation: 0 },
          jobsPublished: true,
          chunks: [],
        });
      });
      afterAll(async () => {
        await bus.close();
        await rm(certs.dir, { recursive: true, force: true });
      });
      const client = (port: number, creds: grpc.ChannelCredentials): ExperimentServiceClient =>
        experimentServiceClient(`localhost:${port}`, creds);

      it('serves TLS to a client that trusts its CA, and refuses a plaintext client', async () => {
        const server = await ExperimentApiServer.start({
          bus,
          topics,
          store,
          logger: silent,
          tls: { cert: certs.serverCert, key: certs.serverKey },
        });
        const trusting = client(server.port, grpc.credentials.createSsl(certs.ca));
        const plain = client(server.port, grpc.credentials.createInsecure());
        try {
          expect(server.url).toMatch(/^grpcs:\/\/127\.0\.0\.1:\d+$/);
          expect((await call(trusting, trusting.get, { experimentId: 'known' })).status).toBe(
            v1.ExperimentStatus.EXPERIMENT_STATUS_SUCCEEDED,
          );
          await expect(call(plain, plain.get, { experimentId: 'known' })).rejects.toMatchObject({
            code: grpc.status.UNAVAILABLE,
          });
        } finally {
          trusting.close();
          plain.close();
          await server.stop(500);
        }
      });

      it('with a client CA, answers only clients presenting a certificate it signed (mutual TLS)', async () => {
        const server = await ExperimentApiServer.start({
          bus,
          topics,
          store,
          logger: silent,
          tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca },
        });
        const anonymous = client(server.port, grpc.credentials.createSsl(certs.ca));
        const known = client(
          server.port,
          grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert),
        );
        try {
          await expect(call(anonymous, anonymous.get, { experimentId: 'known' })).rejects.toMatchObject({
            code: grpc.status.UNAVAILABLE,
          });
          expect((await call(known, known.get, { experimentId: 'known' })).experimentId).toBe('known');
        } finally {
          anonymous.close();
          known.close();
          await server.stop(500);
        }
      });
    });

    it('refuses to start on an address it cannot listen on (SERVER_START_FAILED)', async () => {
      h = await harness();
      await expect(
        ExperimentApiServer.start({
          bus: h.bus,
          topics: h.topics,
          store: h.store,
          logger: silent,
          address: `127.0.0.1:${h.server.port}`,
        }),
      ).rejects.toMatchObject({
        code: 'SERVER_START_FAILED',
        message: expect.stringContaining(`cannot listen on 127.0.0.1:${h.server.port}`),
      });
    });
  });
});
