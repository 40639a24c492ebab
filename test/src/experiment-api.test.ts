import * as grpc from '@grpc/grpc-js';
import { experimentServiceClient, type ExperimentServiceClient, type UnaryCall } from '@surrogate/producer';
import { v1 } from '@surrogate/proto';
import { eventKind } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import { topicStats } from '@surrogate/testing';
import { SystemScene } from './system-scene';

const SPEC = `
name: e2e-api
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
samples: 16384
chunkSize: 4096
training: {layers: [16], epochs: 4, batchSize: 512}
validation: {samples: 2048, maxAbsError: 100, rmse: 50}   # this test is about the API, not accuracy
`;


const TOKEN = 'e2e-api-token-7f3a';

describe('the producer’s ExperimentService (surrogate producer --api) over Pulsar', () => {
  const scene = new SystemScene('e2e-api');
  let client: ExperimentServiceClient | undefined;

  afterAll(async () => {
    client?.close();
  });

  it('submits a spec, watches it to model ready, gets and lists it as succeeded, and refuses to cancel it (FAILED_PRECONDITION)', async () => {
    const common = scene.common;
    const producer = scene.start('producer', ['producer', ...common, '--api', '127.0.0.1:0'], {
      SURROGATE_EXPERIMENT_API_TOKEN: TOKEN,
    });
    const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('artifacts')]);
    // A worker subscribes to the jobs topic and stops: the subscription outlives it, so the jobs published while
    // no worker runs wait there for the one started once the watch is on (and no event can be missed).
    const early = scene.start('worker-early', ['datagen-worker', ...common, '--threads', '1']);
    for (const p of [producer, trainer, early]) await p.waitFor(/"msg":"running/);
    early.child.kill('SIGTERM');
    expect((await early.exited).code).toBe(0);
    const api = /"api":"grpc:\/\/([^"]+)"/.exec(producer.stderr)?.[1];
    expect(api).toMatch(/^127\.0\.0\.1:\d+$/);
    client = experimentServiceClient(api as string, grpc.credentials.createInsecure());
    const c = client;
    const md = (token = TOKEN): grpc.Metadata => {
      const m = new grpc.Metadata();
      m.set('authorization', `Bearer ${token}`);
      return m;
    };
    const call = <Req, Res>(fn: UnaryCall<Req, Res>, req: Req, token?: string): Promise<Res> =>
      new Promise((resolve, reject) =>
        // a deadline, so that a call that hangs fails the test saying which one
        fn.call(c, req, md(token), { deadline: Date.now() + 60_000 }, (err, res) =>
          err ? reject(err) : resolve(res as Res),
        ),
      );

    // the token is required, and never logged
    await expect(call(c.list, {}, 'wrong')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    // a bad spec is refused before anything is published
    await expect(
      call(c.submit, { spec: { ...specToWire(parseSpec(SPEC)), samples: 0 } }),
    ).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('samples = 0'),
    });

    // Submit answers once the producer accepted it; no worker runs now, so the watch misses nothing
    const submitted = await call(c.submit, { spec: specToWire(parseSpec(SPEC)) });
    const id = submitted.experimentId;
    expect(id).toMatch(/^e2e-api-\d{8}T\d{6}-[0-9a-f]{6}$/);
    expect(submitted).toMatchObject({ trainingChunks: 4, validationChunks: 1 });
    const running = await call(c.get, { experimentId: id });
    expect(running).toMatchObject({
      status: v1.ExperimentStatus.EXPERIMENT_STATUS_RUNNING,
      trainingChunksLanded: 0,
      trainingChunksExpected: 4,
    });

    const events: v1.ExperimentEvent[] = [];
    const stream = c.watch({ experimentId: id }, md());
    stream.on('data', (e: v1.ExperimentEvent) => events.push(e));
    const watched = new Promise<grpc.StatusObject | grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('status', (s: grpc.StatusObject) => s.code === grpc.status.OK && resolve(s));
    });
    // the watch's non-durable subscription is on the events topic before the worker starts
    const eventsTopic = scene.topics.events;
    const apiSubscriptions = async (): Promise<string[]> => {
      const stats = (await topicStats(eventsTopic).catch(() => ({ subscriptions: {} }))) as {
        subscriptions?: Record<string, unknown>;
      };
      return Object.keys(stats.subscriptions ?? {}).filter((name) => name.startsWith('api-'));
    };
    const deadline = Date.now() + 60_000;
    while ((await apiSubscriptions()).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect((await apiSubscriptions())[0]).toMatch(/^api-watch-e2e-api-/);

    const worker = scene.start('worker', ['datagen-worker', ...common, '--threads', '1']);
    const status = await Promise.race([
      watched,
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          const tails = [producer, trainer, worker].map((p) => `--- ${p.name}:\n${p.tail(15)}`).join('\n');
          reject(
            new Error(
              `the watch did not end within 180 s; events: ${events.map((e) => eventKind(e)).join(', ')}\n${tails}`,
            ),
          );
        }, 180_000).unref(),
      ),
    ]);
    expect(status.code).toBe(grpc.status.OK);
    const kinds = events.map((e) => eventKind(e));
    expect(events.every((e) => e.experimentId === id)).toBe(true);
    expect(kinds[kinds.length - 1]).toBe('modelReady');
    expect(kinds.filter((k) => k === 'chunkAccepted')).toHaveLength(5);
    expect(kinds).toContain('datasetReady');
    expect(events[events.length - 1]?.modelReady?.modelUri).toContain(id);

    // the producer takes in model ready (from the events topic) a moment later
    let info = await call(c.get, { experimentId: id });
    for (let i = 0; i < 100 && info.status !== v1.ExperimentStatus.EXPERIMENT_STATUS_SUCCEEDED; i++) {
      await new Promise((r) => setTimeout(r, 100));
      info = await call(c.get, { experimentId: id });
    }
    expect(info).toMatchObject({
      experimentId: id,
      specName: 'e2e-api',
      status: v1.ExperimentStatus.EXPERIMENT_STATUS_SUCCEEDED,
      trainingChunksLanded: 4,
      trainingChunksExpected: 4,
      validationChunksLanded: 1,
      validationChunksExpected: 1,
    });
    expect(Number(info.issuedAtMs)).toBe(Number(submitted.issuedAtMs));

    const listed = await call(c.list, { status: v1.ExperimentStatus.EXPERIMENT_STATUS_SUCCEEDED });
    expect(listed.experiments.map((e) => e.experimentId)).toEqual([id]);
    expect(listed.nextPageToken).toBe('');
    expect(
      (await call(c.list, { status: v1.ExperimentStatus.EXPERIMENT_STATUS_RUNNING })).experiments,
    ).toEqual([]);

    await expect(call(c.cancel, { experimentId: id })).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: expect.stringContaining(`experiment ${id} has already ended (succeeded)`),
    });
    await expect(call(c.get, { experimentId: 'no-such-experiment' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });

    // the watch and the cancel left no subscription behind; the token appears in no log
    expect(await apiSubscriptions()).toEqual([]);
    for (const p of [producer, trainer, worker]) expect(p.stderr).not.toContain(TOKEN);
    for (const p of [producer, trainer, worker]) p.child.kill('SIGTERM');
    expect((await producer.exited).code).toBe(0);
  });
});
