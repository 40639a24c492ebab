import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLogger } from '@surrogate/core';
import { DatagenWorker } from '@surrogate/datagen-worker';
import { createMemoryBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { heldChunksToWire, Producer } from '@surrogate/producer';
import { v1 } from '@surrogate/proto';
import { Codecs, eventKind, purposeName } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import { TrainerService } from '@surrogate/trainer';

// 24 training + 4 validation chunks of a Monte Carlo Asian option, priced on one thread: slow
// enough to cancel the experiment while its chunks are being generated.
const SPEC = parseSpec(`
name: resubmitted
pricer: asian-arithmetic
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02, fixings: 12, paths: 256}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
outputs: [price]
samples: 3072
chunkSize: 128
seed: 11
training: {layers: [16, 16], epochs: 10, batchSize: 128}
validation: {samples: 512, maxAbsError: 5, rmse: 2}
`);
const CHUNKS = 28;

/**
 * The distributed services (producer, a datagen worker, trainer) as `surrogate producer`,
 * `datagen-worker` and `trainer` run them, here on the memory bus (the pulsar adapter has the same
 * semantics): an experiment cancelled while its data is generated (the worker skips its queued
 * jobs), then submitted again under its id naming the chunks the trainer holds, generates only the
 * others.
 */
describe('an experiment submitted again after a cancel, to running services', () => {
  let bus: Bus;
  let root: string;
  const topics = new Topics();
  const logger = createLogger({ name: 'resubmit', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let trainer: TrainerService;
  let worker: DatagenWorker;
  let producer: Producer;
  const events: v1.ExperimentEvent[] = [];
  const jobs: v1.DataGenJob[] = [];
  const chunks: v1.DataChunk[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'surrogate-resubmit-'));
    bus = createMemoryBus({ logger });
    // what crosses the bus, seen from subscriptions of their own
    const audit = <T>(topic: string, into: T[], decode: (b: Uint8Array) => T): Promise<unknown> =>
      bus.subscribe({ topic, subscription: 'audit', type: 'exclusive', handler: (m) => void into.push(decode(m.payload)) });
    await audit(topics.events, events, (b) => Codecs.event.decode(b));
    await audit(topics.jobs, jobs, (b) => Codecs.job.decode(b));
    await audit(topics.chunks, chunks, (b) => Codecs.chunk.decode(b));
    trainer = new TrainerService({ bus, topics, dataDir: path.join(root, 'data'), artifactsRoot: path.join(root, 'artifacts'), logger });
    // one process, one clock: no margin for clock skew (the default 1 s would price every job
    // published less than a second before the cancel, here all of them)
    worker = new DatagenWorker({ bus, topics, threads: 1, logger, clockSkewMs: 0 });
    producer = new Producer({ bus, topics, logger });
    await trainer.start();
    await worker.start();
    await producer.start();
  });
  afterAll(async () => {
    await producer.stop();
    await worker.stop();
    await trainer.stop();
    await bus.close();
  });

  const key = (purpose: v1.ChunkPurpose | null | undefined, index: number | null | undefined): string => `${purposeName(purpose)}/${index ?? 0}`;
  const stored = (): string[] =>
    events.filter((e) => e.chunkAccepted && !e.chunkAccepted.duplicate).map((e) => key(e.chunkAccepted!.purpose, e.chunkAccepted!.chunkIndex));
  const command = (body: Partial<v1.IExperimentCommand>): Promise<unknown> =>
    bus.publish(topics.experiments, {
      payload: Codecs.command.encode(v1.ExperimentCommand.create({ experimentId: 'x1', ...body })),
      key: 'x1',
    });

  it('issues and generates only the chunks the trainer does not hold, and trains on them all', async () => {
    await command({ issuedAtMs: 1000, submit: { spec: specToWire(SPEC) } });
    await waitFor(() => stored().length >= 3, 120_000, 'three chunks stored');
    await command({ cancel: { reason: 'user asked' } });
    await waitFor(() => events.some((e) => eventKind(e) === 'cancelled'), 10_000, 'cancelled');
    // the worker finishes the job in hand and acknowledges the queued ones unpriced, saying so
    const skipped = (): v1.IJobSkipped[] => events.flatMap((e) => (e.jobSkipped ? [e.jobSkipped] : []));
    await waitFor(() => chunks.length + skipped().length === CHUNKS, 120_000, 'every queued job priced or skipped');
    expect(jobs).toHaveLength(CHUNKS);
    const pricedBeforeResubmit = chunks.length;
    expect(skipped().length).toBeGreaterThan(0);
    expect(skipped().every((j) => j.code === 'EXPERIMENT_CANCELLED')).toBe(true);
    const skippedKeys = skipped().map((j) => key(j.purpose, j.chunkIndex));
    expect(skippedKeys.filter((k) => chunks.some((c) => key(c.purpose, c.chunkIndex) === k))).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    const held = stored();
    expect(held.length).toBeGreaterThanOrEqual(3);
    expect(held.length).toBeLessThan(CHUNKS);

    const heldIndices = (purpose: string): number[] => held.filter((k) => k.startsWith(`${purpose}/`)).map((k) => Number(k.split('/')[1]));
    const heldWire = heldChunksToWire({ training: heldIndices('training'), validation: heldIndices('validation') });
    await command({ issuedAtMs: 2000, submit: { spec: specToWire(SPEC), held: heldWire } });
    await waitFor(() => events.some((e) => eventKind(e) === 'modelReady' || eventKind(e) === 'failed'), 120_000, 'the model');
    const ready = events.find((e) => e.modelReady)?.modelReady;
    expect(ready?.pass).toBe(true);

    const reissued = jobs.slice(CHUNKS).map((j) => key(j.purpose, j.chunkIndex));
    const all = [...Array(24).keys()].map((i) => `training/${i}`).concat([...Array(4).keys()].map((i) => `validation/${i}`));
    expect(reissued.sort()).toEqual(all.filter((k) => !held.includes(k)).sort());
    // the resubmission's jobs were all priced (none taken for the cancelled submission's), and
    // nothing held was priced again
    expect(skipped()).toHaveLength(CHUNKS - pricedBeforeResubmit);
    expect(chunks).toHaveLength(pricedBeforeResubmit + reissued.length);
    const report = JSON.parse(await readFile(ready?.reportUri as string, 'utf8')) as { dataset: Record<string, number> };
    expect(report.dataset).toMatchObject({
      chunksStored: CHUNKS,
      chunksReused: held.length,
      chunksGenerated: CHUNKS - held.length,
      duplicatesDropped: 0,
    });
    await waitFor(() => producer.experiment('x1')?.status === 'succeeded', 5000, 'the producer to see it succeed');
    expect(producer.experiment('x1')?.landed).toBe(CHUNKS);
  }, 300_000);
});
