import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLogger } from '@surrogate/core';
import { createMemoryBus, sleep, Topics, waitFor, type MemoryBus } from '@surrogate/messaging';
import { loadPricerModules } from '@surrogate/pricing';
import { v1 } from '@surrogate/proto';
import { Codecs, EventPublisher, eventKind, type EventBody } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import { DatagenWorker } from './datagen-worker';

// Six chunks of a pricer that waits for a gate file: a test holds the first job in pricing while
// the others wait in the queue, ends the experiment, then opens the gate.
const GATED = require.resolve('./test-fixtures/gated-pricer');
loadPricerModules([GATED]); // here too, for parseSpec
const SPEC = specToWire(
  parseSpec(
    'name: g\npricer: gated\ninputs: {x: {min: 0, max: 1}}\noutputs: [y]\nsamples: 600\nchunkSize: 100\n',
  ),
);
const CHUNKS = 6;
const TIMEOUT = 20_000;

/**
 * A datagen worker on the memory bus, fed the messages the producer publishes (`accepted`, then
 * the jobs; `cancelled` or `failed` later) in the producer's order.
 */
describe('DatagenWorker and experiments that ended', () => {
  const silent = createLogger({ name: 'w', level: 'silent' });
  const topics = new Topics();
  const dir = mkdtempSync(path.join(tmpdir(), 'surrogate-gate-'));
  const gate = path.join(dir, 'open');
  let bus: MemoryBus;
  let workers: DatagenWorker[];
  let producer: EventPublisher;
  let trainer: EventPublisher;
  let chunks: v1.DataChunk[];
  let skipped: v1.ExperimentEvent[];

  const openGate = (): void => writeFileSync(gate, '');
  const closeGate = (): void => rmSync(gate, { force: true });

  beforeAll(() => {
    // read by the pricing threads, which copy the environment when they start
    process.env.SURROGATE_TEST_GATE = gate;
  });
  afterAll(() => {
    delete process.env.SURROGATE_TEST_GATE;
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    closeGate();
    // The events topic keeps a minute of events (a retention policy): what a late worker reads back.
    bus = createMemoryBus({ logger: silent, retentionMs: 60_000 });
    chunks = [];
    skipped = [];
    await bus.subscribe({
      topic: topics.chunks,
      subscription: 'audit',
      type: 'exclusive',
      handler: (m) => void chunks.push(Codecs.chunk.decode(m.payload)),
    });
    await bus.subscribe({
      topic: topics.events,
      subscription: 'audit',
      type: 'exclusive',
      handler: (m) => {
        const e = Codecs.event.decode(m.payload);
        if (eventKind(e) === 'jobSkipped') skipped.push(e);
      },
    });
    producer = new EventPublisher(bus, topics.events, 'producer');
    trainer = new EventPublisher(bus, topics.events, 'trainer');
    workers = [];
  });
  afterEach(async () => {
    openGate();
    for (const w of workers) await w.stop();
    await bus.close();
  });

  async function startWorker(workerId?: string, eventsLookbackMs?: number): Promise<DatagenWorker> {
    const worker = new DatagenWorker({
      bus,
      topics,
      workerId,
      eventsLookbackMs,
      threads: 1,
      pricerModules: [GATED],
      clockSkewMs: 0,
      logger: silent,
    });
    workers.push(worker);
    await worker.start();
    return worker;
  }

  const accepted = (id: string): Promise<unknown> =>
    producer.publish(id, { accepted: { spec: SPEC, trainingChunks: CHUNKS, validationChunks: 0 } });

  async function publishJobs(id: string, indices: number[], attempt = 1): Promise<void> {
    for (const i of indices) {
      const job = v1.DataGenJob.create({
        experimentId: id,
        purpose: v1.ChunkPurpose.TRAINING,
        chunkIndex: i,
        chunkCount: CHUNKS,
        startIndex: i * 100,
        sampleCount: 100,
        attempt,
        spec: SPEC,
      });
      await bus.publish(topics.jobs, { payload: Codecs.job.encode(job), key: `${id}/training/${i}` });
    }
  }

  /** Waits until a job is in pricing, so the rest are queued behind it. */
  const oneInPricing = (): Promise<void> =>
    waitFor(() => bus.stats(topics.jobs, 'datagen')?.inFlight === 1, TIMEOUT, 'a job in pricing');

  /** Ends the experiment a few ms after its jobs were published (a real end comes after them). */
  async function end(
    id: string,
    publisher: EventPublisher,
    body: EventBody,
    ...known: DatagenWorker[]
  ): Promise<void> {
    await sleep(5);
    await publisher.publish(id, body);
    await waitFor(
      () => known.every((w) => w.endedExperiment(id) !== undefined),
      TIMEOUT,
      'the workers to read the end',
    );
  }

  const jobsDone = (): Promise<void> =>
    waitFor(() => bus.stats(topics.jobs, 'datagen')?.backlog === 0, TIMEOUT, 'every job acknowledged');
  const indices = (list: { chunkIndex?: number | null }[]): number[] =>
    list.map((c) => c.chunkIndex ?? 0).sort((a, b) => a - b);

  it('cancel mid-experiment: finishes the job in hand, acknowledges the queued ones unpriced, each with a jobSkipped event', async () => {
    const worker = await startWorker();
    await accepted('e1');
    await publishJobs('e1', [0, 1, 2, 3, 4, 5]);
    await oneInPricing();
    await end('e1', producer, { cancelled: { reason: 'user asked' } }, worker);
    expect(worker.endedExperiment('e1')).toMatchObject({ kind: 'cancelled', reason: 'user asked' });
    openGate();
    await jobsDone();
    await waitFor(() => skipped.length === CHUNKS - 1, TIMEOUT, 'a jobSkipped event per queued job');
    expect(indices(chunks)).toEqual([0]);
    expect(indices(skipped.map((e) => e.jobSkipped as v1.JobSkipped))).toEqual([1, 2, 3, 4, 5]);
    expect(skipped[0]).toMatchObject({
      experimentId: 'e1',
      source: 'datagen-worker',
      jobSkipped: {
        code: 'EXPERIMENT_CANCELLED',
        reason: 'user asked',
        attempt: 1,
        workerId: worker.workerId,
      },
    });
    // other experiments are untouched
    await publishJobs('other', [0, 1]);
    await waitFor(() => chunks.length === 3, TIMEOUT, 'the chunks of another experiment');
    expect(skipped).toHaveLength(CHUNKS - 1);
  });

  it('a failed experiment likewise (the failure published by the producer or by the trainer)', async () => {
    const worker = await startWorker();
    await accepted('e2');
    await publishJobs('e2', [0, 1, 2]);
    await oneInPricing();
    await end(
      'e2',
      producer,
      { failed: { code: 'CHUNK_FAILED', stage: 'datagen', reason: 'chunk 7 failed' } },
      worker,
    );
    await accepted('e3');
    await publishJobs('e3', [0, 1]);
    await end(
      'e3',
      trainer,
      { failed: { code: 'TRAINING_FAILED', stage: 'training', reason: 'diverged' } },
      worker,
    );
    openGate();
    await jobsDone();
    await waitFor(() => skipped.length === 4, TIMEOUT, 'the queued jobs skipped');
    expect(chunks.map((c) => `${c.experimentId}/${c.chunkIndex}`)).toEqual(['e2/0']);
    expect(
      skipped
        .map(
          (e) =>
            `${e.experimentId}/${e.jobSkipped?.chunkIndex} ${e.jobSkipped?.code} ${e.jobSkipped?.reason}`,
        )
        .sort(),
    ).toEqual([
      'e2/1 EXPERIMENT_FAILED chunk 7 failed',
      'e2/2 EXPERIMENT_FAILED chunk 7 failed',
      'e3/0 EXPERIMENT_FAILED diverged',
      'e3/1 EXPERIMENT_FAILED diverged',
    ]);
  });

  it('a resubmission is priced again, also a job read before its accepted; the old queued jobs are still skipped', async () => {
    const worker = await startWorker();
    await accepted('e4');
    await publishJobs('e4', [0, 1, 2, 3]);
    await oneInPricing();
    await end('e4', producer, { cancelled: { reason: 'first' } }, worker);
    // The producer runs it again: a new accepted, then the jobs of the chunks the trainer lacks
    // (the same indices, attempt 1 again). The worker takes them after the old ones.
    await sleep(5);
    await accepted('e4');
    await publishJobs('e4', [1, 2, 3]);
    openGate();
    await jobsDone();
    await waitFor(
      () => chunks.length === 4 && skipped.length === 3,
      TIMEOUT,
      'the old jobs skipped, the new ones priced',
    );
    expect(indices(chunks)).toEqual([0, 1, 2, 3]);
    expect(indices(skipped.map((e) => e.jobSkipped as v1.JobSkipped))).toEqual([1, 2, 3]);
    // Published after the end, a resubmission's job is priced even by a worker that has not read
    // (or never reads) the resubmission's accepted.
    closeGate();
    await end('e5', producer, { cancelled: { reason: 'gone' } }, worker);
    await sleep(5);
    await publishJobs('e5', [0, 1]);
    openGate();
    await waitFor(
      () => chunks.filter((c) => c.experimentId === 'e5').length === 2,
      TIMEOUT,
      'the live jobs priced',
    );
    expect(skipped.filter((e) => e.experimentId === 'e5')).toHaveLength(0);
  });

  it('every worker sees every end (each follows the events under a subscription of its own), and deletes it on stop', async () => {
    const a = await startWorker('host-a');
    const b = await startWorker('host-b');
    expect(a.eventsSubscriptionName).not.toBe(b.eventsSubscriptionName);
    expect(bus.stats(topics.events, a.eventsSubscriptionName)).toMatchObject({
      type: 'exclusive',
      consumers: 1,
    });
    await accepted('e6');
    await publishJobs('e6', [0, 1, 2, 3, 4, 5]);
    await waitFor(() => bus.stats(topics.jobs, 'datagen')?.inFlight === 2, TIMEOUT, 'both workers pricing');
    await end('e6', producer, { cancelled: { reason: 'user asked' } }, a, b);
    openGate();
    await jobsDone();
    await waitFor(() => skipped.length === CHUNKS - 2, TIMEOUT, 'the queued jobs skipped');
    expect(indices(chunks)).toEqual([0, 1]);
    for (const e of skipped) expect(['host-a', 'host-b']).toContain(e.jobSkipped?.workerId);
    await a.stop();
    expect(bus.stats(topics.events, a.eventsSubscriptionName)).toBeUndefined();
    expect(bus.stats(topics.events, b.eventsSubscriptionName)).toBeDefined();
  });

  it('a worker started after the end reads it from the recent events before taking a job, and skips the stale jobs', async () => {
    // The workers' jobs subscription exists (a worker ran before): it keeps the jobs queued.
    await (await bus.subscribe({ topic: topics.jobs, subscription: 'datagen', type: 'shared', handler: () => undefined })).close();
    await accepted('e7');
    await publishJobs('e7', [0, 1, 2]);
    await sleep(5);
    await producer.publish('e7', { cancelled: { reason: 'before any worker' } });
    await sleep(5);
    await publishJobs('live', [0]);
    openGate();
    const late = await startWorker('late');
    // start() returned: the end is known already, before the first job was taken
    expect(late.endedExperiment('e7')).toMatchObject({ kind: 'cancelled', reason: 'before any worker' });
    await jobsDone();
    await waitFor(() => skipped.length === 3 && chunks.length === 1, TIMEOUT, 'the stale jobs skipped, the live one priced');
    expect(chunks.map((c) => c.experimentId)).toEqual(['live']);
    expect(indices(skipped.map((e) => e.jobSkipped as v1.JobSkipped))).toEqual([0, 1, 2]);
  });

  it('with eventsLookbackMs 0 it follows from now on only (and refuses a negative look-back)', async () => {
    await producer.publish('e8', { cancelled: { reason: 'before any worker' } });
    const worker = await startWorker('now-only', 0);
    expect(worker.endedExperiment('e8')).toBeUndefined();
    expect(() => new DatagenWorker({ bus, topics, eventsLookbackMs: -1, logger: silent })).toThrow(
      /eventsLookbackMs = -1: must be a whole number ≥ 0/,
    );
  });
});
