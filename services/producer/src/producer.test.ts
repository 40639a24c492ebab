import { createLogger } from '@surrogate/core';
import { createMemoryBus, Topics, waitFor, type Bus, type MemoryBus } from '@surrogate/messaging';
import { MetricsRegistry } from '@surrogate/observability';
import { v1 } from '@surrogate/proto';
import { Codecs, eventKind, purposeValue, SERVICE_SUBSCRIPTIONS } from '@surrogate/protocol';
import { specToWire } from '@surrogate/spec';
import { heldChunksToWire } from './held-chunks';
import { ExperimentStoreError } from './experiment-store-error';
import type { ExperimentStatus } from './experiment-status';
import { MemoryExperimentStore } from './memory-experiment-store';
import { Producer } from './producer';
import { recordOutput } from './test-fixtures/recorded-output';
import { smallSpec } from './test-fixtures/small-spec';

const SPEC = smallSpec('t');

interface Harness {
  bus: Bus;
  topics: Topics;
  producer: Producer;
  jobs: v1.DataGenJob[];
  events: v1.ExperimentEvent[];
  dead: string[];
}

async function harness(
  options: {
    jobTimeoutMs?: number;
    maxJobAttempts?: number;
    forgetEndedAfterMs?: number;
    store?: MemoryExperimentStore;
    metrics?: MetricsRegistry;
  } = {},
): Promise<Harness> {
  const bus = createMemoryBus({ logger: createLogger({ name: 'bus', level: 'silent' }) });
  const topics = new Topics();
  const { jobs, events } = await recordOutput(bus, topics);
  const dead: string[] = [];
  const producer = new Producer({
    bus,
    topics,
    checkIntervalMs: 20,
    logger: createLogger({ name: 'producer', level: 'silent' }),
    ...options,
  });
  await producer.start();
  await bus.subscribe({
    topic: `${topics.experiments}-producer-DLQ`,
    subscription: 'test',
    type: 'exclusive',
    handler: (m) => void dead.push(m.properties.DEAD_LETTER_REASON ?? ''),
  });
  return { bus, topics, producer, jobs, events, dead };
}

function submit(
  h: Harness,
  id: string,
  spec: v1.IExperimentSpec = specToWire(SPEC),
  o: { held?: v1.IHeldChunks; issuedAtMs?: number } = {},
): Promise<unknown> {
  const cmd = v1.ExperimentCommand.create({ experimentId: id, issuedAtMs: o.issuedAtMs ?? 0, submit: { spec, held: o.held } });
  return h.bus.publish(h.topics.experiments, { payload: Codecs.command.encode(cmd), key: id });
}

/** SubmitExperiment.held for these chunk indices. */
function held(training: number[], validation: number[] = []): v1.IHeldChunks {
  return heldChunksToWire({ training, validation });
}

function cancel(h: Harness, id: string): Promise<unknown> {
  const cmd = v1.ExperimentCommand.create({ experimentId: id, cancel: { reason: 'user asked' } });
  return h.bus.publish(h.topics.experiments, { payload: Codecs.command.encode(cmd), key: id });
}

function jobIds(jobs: v1.DataGenJob[]): string[] {
  return jobs.map((j) => `${j.purpose === v1.ChunkPurpose.TRAINING ? 'training' : 'validation'}/${j.chunkIndex}`).sort();
}

async function datasetReady(h: Harness, id: string): Promise<void> {
  const event = v1.ExperimentEvent.create({ experimentId: id, datasetReady: { trainingSamples: 1000, validationSamples: 250 } });
  await h.bus.publish(h.topics.events, { payload: Codecs.event.encode(event), key: id });
}

function kinds(h: Harness, id: string): string[] {
  return h.events.filter((e) => e.experimentId === id).map(eventKind);
}

async function land(
  h: Harness,
  id: string,
  purpose: 'training' | 'validation',
  index: number,
): Promise<void> {
  const event = v1.ExperimentEvent.create({
    experimentId: id,
    chunkAccepted: { purpose: purposeValue(purpose), chunkIndex: index },
  });
  await h.bus.publish(h.topics.events, { payload: Codecs.event.encode(event), key: id });
}

/** The memory store, whose next status write fails as an unreachable Redis's would. */
class StatusWriteFailsOnce extends MemoryExperimentStore {
  failNext = false;
  override async setStatus(id: string, status: ExperimentStatus): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new ExperimentStoreError('STORE_UNAVAILABLE', 'the store did not answer');
    }
    return super.setStatus(id, status);
  }
}

describe('Producer', () => {
  let h: Harness;
  afterEach(async () => {
    await h.producer.stop();
    await h.bus.close();
  });

  it('accepts a spec and publishes one job per chunk covering every sample exactly once', async () => {
    h = await harness();
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000, 'five jobs');
    expect(kinds(h, 'e1')[0]).toBe('accepted');
    const accepted = h.events[0]?.accepted;
    expect(accepted?.trainingChunks).toBe(4);
    expect(accepted?.validationChunks).toBe(1);
    const training = h.jobs
      .filter((j) => j.purpose === v1.ChunkPurpose.TRAINING)
      .sort((a, b) => a.chunkIndex - b.chunkIndex);
    expect(training.map((j) => [Number(j.startIndex), j.sampleCount])).toEqual([
      [0, 300],
      [300, 300],
      [600, 300],
      [900, 100],
    ]);
    const validation = h.jobs.filter((j) => j.purpose === v1.ChunkPurpose.VALIDATION);
    expect(validation.map((j) => [Number(j.startIndex), j.sampleCount])).toEqual([[0, 250]]);
    expect(h.jobs.every((j) => j.attempt === 1 && j.experimentId === 'e1' && j.spec?.name === 't')).toBe(
      true,
    );
  });

  it('ignores a redelivered submit of a known experiment', async () => {
    h = await harness();
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    await submit(h, 'e1');
    await new Promise((r) => setTimeout(r, 100));
    expect(h.jobs).toHaveLength(5);
    expect(kinds(h, 'e1').filter((k) => k === 'accepted')).toHaveLength(1);
  });

  it('rejects an invalid spec with the field and publishes no job', async () => {
    h = await harness();
    const wire = specToWire(SPEC);
    wire.inputs[0]!.min = 130;
    await submit(h, 'bad', wire);
    await waitFor(() => kinds(h, 'bad').includes('rejected'), 2000);
    const rejected = h.events.find((e) => e.rejected)?.rejected;
    expect(rejected?.field).toBe('inputs.spot');
    expect(rejected?.reason).toMatch(/min must be less than max/);
    expect(h.jobs).toHaveLength(0);
  });

  it('dead-letters an undecodable command with a reason and keeps serving', async () => {
    h = await harness();
    await h.bus.publish(h.topics.experiments, { payload: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]) });
    await waitFor(() => h.dead.length === 1, 2000, 'dead letter');
    expect(h.dead[0]).toMatch(/not a valid surrogate\.v1\.ExperimentCommand/);
    await waitFor(() => h.events.some((e) => e.deadLettered), 2000, 'dead-letter event');
    await submit(h, 'after');
    await waitFor(() => h.jobs.length === 5, 2000, 'jobs after the bad message');
  });

  it('re-issues the outstanding jobs of a stalled experiment, then fails it after the last attempt', async () => {
    const metrics = new MetricsRegistry();
    h = await harness({ jobTimeoutMs: 150, maxJobAttempts: 2, metrics });
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    for (let i = 0; i < 4; i++) await land(h, 'e1', 'training', i);
    await waitFor(() => h.producer.experiment('e1')?.landed === 4, 2000);
    await waitFor(() => kinds(h, 'e1').includes('jobReissued'), 3000, 're-issue');
    const reissued = h.jobs.filter((j) => j.attempt === 2);
    expect(reissued.map((j) => [j.purpose, j.chunkIndex])).toEqual([[v1.ChunkPurpose.VALIDATION, 0]]);
    await waitFor(() => kinds(h, 'e1').includes('failed'), 3000, 'failure');
    const failed = h.events.find((e) => e.failed)?.failed;
    expect(failed?.code).toBe('JOB_ATTEMPTS_EXHAUSTED');
    expect(failed?.stage).toBe('datagen');
    // what it counted for Prometheus
    const text = metrics.exposition();
    expect(text).toContain('\nsurrogate_producer_commands_total{command="submit"} 1\n');
    expect(text).toContain('\nsurrogate_producer_jobs_published_total{kind="first"} 5\n');
    expect(text).toContain('\nsurrogate_producer_jobs_published_total{kind="reissue"} 1\n');
    expect(text).toContain('\nsurrogate_producer_chunks_landed_total 4\n');
    expect(text).toContain('\nsurrogate_producer_experiments{status="failed"} 1\n');
    expect(text).toContain('\nsurrogate_producer_experiments{status="running"} 0\n');
  });

  it('does not re-issue once every chunk has landed', async () => {
    h = await harness({ jobTimeoutMs: 100 });
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    for (let i = 0; i < 4; i++) await land(h, 'e1', 'training', i);
    await land(h, 'e1', 'validation', 0);
    await land(h, 'e1', 'validation', 0);
    await waitFor(() => h.producer.experiment('e1')?.status === 'datagen-complete', 2000);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.jobs).toHaveLength(5);
    expect(h.producer.experiment('e1')?.landed).toBe(5);
  });

  it('fails the experiment when a chunk fails permanently', async () => {
    h = await harness();
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    const event = v1.ExperimentEvent.create({
      experimentId: 'e1',
      chunkFailed: {
        purpose: v1.ChunkPurpose.TRAINING,
        chunkIndex: 2,
        code: 'NON_FINITE_OUTPUT',
        reason: 'NaN',
        permanent: true,
      },
    });
    await h.bus.publish(h.topics.events, { payload: Codecs.event.encode(event), key: 'e1' });
    await waitFor(() => kinds(h, 'e1').includes('failed'), 2000);
    const failed = h.events.find((e) => e.failed)?.failed;
    expect(failed?.code).toBe('NON_FINITE_OUTPUT');
    expect(failed?.reason).toMatch(/training chunk 2: NaN/);
  });

  it('cancels a running experiment once, and refuses the second cancel as ended, answering that command', async () => {
    h = await harness();
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    for (const issuedAtMs of [1000, 2000]) {
      const cmd = v1.ExperimentCommand.create({ experimentId: 'e1', issuedAtMs, cancel: { reason: 'user asked' } });
      await h.bus.publish(h.topics.experiments, { payload: Codecs.command.encode(cmd), key: 'e1' });
    }
    await waitFor(() => kinds(h, 'e1').includes('rejected'), 2000);
    expect(kinds(h, 'e1')).toEqual(['accepted', 'cancelled', 'rejected']);
    expect(h.events.find((e) => e.cancelled)?.cancelled?.reason).toBe('user asked');
    expect(h.producer.experiment('e1')?.status).toBe('cancelled');
    const rejected = h.events.find((e) => e.rejected)?.rejected;
    expect(rejected).toMatchObject({ code: 'EXPERIMENT_ENDED', field: 'experimentId', command: v1.CommandKind.COMMAND_KIND_CANCEL });
    expect(Number(rejected?.commandIssuedAtMs)).toBe(2000);
    expect(rejected?.reason).toBe('experiment e1 has already ended (cancelled); there is nothing to cancel');
  });

  it('keeps a cancelled experiment cancelled when its model is announced in the same instant', async () => {
    h = await harness();
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    await cancel(h, 'e1');
    await waitFor(() => h.producer.experiment('e1')?.status === 'cancelled', 2000);
    const ready = v1.ExperimentEvent.create({ experimentId: 'e1', modelReady: { modelUri: 'file:///m.onnx' } });
    await h.bus.publish(h.topics.events, { payload: Codecs.event.encode(ready), key: 'e1' });
    // the producer has handled (and acked) every event, the model's included
    await waitFor(() => (h.bus as MemoryBus).stats(h.topics.events, SERVICE_SUBSCRIPTIONS.producer)?.backlog === 0, 2000);
    expect(h.producer.experiment('e1')?.status).toBe('cancelled');
  });

  it('forgets an ended experiment after a while, keeping running ones, and still answers for it from the store', async () => {
    const store = new MemoryExperimentStore();
    h = await harness({ forgetEndedAfterMs: 100, store });
    await submit(h, 'ended', undefined, { issuedAtMs: 1000 });
    await submit(h, 'running');
    await waitFor(() => h.jobs.length === 10, 2000);
    await cancel(h, 'ended');
    await waitFor(() => h.producer.experiment('ended')?.status === 'cancelled', 2000);
    await waitFor(() => h.producer.experiment('ended') === undefined, 2000, 'the ended experiment forgotten');
    expect(h.producer.experiment('running')?.status).toBe('running');

    // a late landing and a model announced late read it back from the store: it stays cancelled
    await land(h, 'ended', 'training', 0);
    const ready = v1.ExperimentEvent.create({ experimentId: 'ended', modelReady: { modelUri: 'file:///m.onnx' } });
    await h.bus.publish(h.topics.events, { payload: Codecs.event.encode(ready), key: 'ended' });
    await waitFor(() => (h.bus as MemoryBus).stats(h.topics.events, SERVICE_SUBSCRIPTIONS.producer)?.backlog === 0, 2000);
    expect((await store.get('ended'))?.status).toBe('cancelled');
    expect(h.producer.experiment('ended')?.status ?? 'forgotten again').toMatch(/^(cancelled|forgotten again)$/);
    // a second cancel is refused as ended, not as unknown
    await cancel(h, 'ended');
    await waitFor(() => kinds(h, 'ended').includes('rejected'), 2000);
    expect(h.events.find((e) => e.experimentId === 'ended' && e.rejected)?.rejected?.code).toBe('EXPERIMENT_ENDED');
    // and a resubmission runs it again
    await submit(h, 'ended', undefined, { issuedAtMs: 2000 });
    await waitFor(() => h.jobs.length === 15, 2000, 'the jobs of the resubmission');
    expect(h.producer.experiment('ended')?.status).toBe('running');
    expect(kinds(h, 'ended').filter((k) => k === 'accepted')).toHaveLength(2);
  });

  it('stores the end of data generation after all when the status write of the last landing failed', async () => {
    const store = new StatusWriteFailsOnce();
    h = await harness({ store });
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    for (const index of [0, 1, 2, 3]) await land(h, 'e1', 'training', index);
    await waitFor(async () => ((await store.get('e1'))?.chunks ?? []).filter((c) => c.landed).length === 4, 2000);
    store.failNext = true;
    await land(h, 'e1', 'validation', 0);
    await waitFor(() => h.producer.experiment('e1')?.status === 'datagen-complete', 2000);
    expect(store.failNext).toBe(false); // the write was tried, and failed
    await waitFor(async () => (await store.get('e1'))?.status === 'datagen-complete', 2000, 'the status stored after all');
    // and it does not overwrite an end another producer stored meanwhile
    await submit(h, 'e2');
    await waitFor(() => h.jobs.length === 10, 2000);
    for (const index of [0, 1, 2, 3]) await land(h, 'e2', 'training', index);
    await waitFor(async () => ((await store.get('e2'))?.chunks ?? []).filter((c) => c.landed).length === 4, 2000);
    await h.producer.stop(); // no stall check from here on: the test drives the rest
    store.failNext = true;
    const last = v1.ExperimentEvent.create({ experimentId: 'e2', chunkAccepted: { purpose: purposeValue('validation'), chunkIndex: 0 } });
    const delivery = { topic: h.topics.events, payload: Codecs.event.encode(last), properties: {}, messageId: 'm', redeliveryCount: 0, publishTime: Date.now() };
    await expect(h.producer.handleEvent(delivery)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(h.producer.experiment('e2')?.status).toBe('datagen-complete');
    await store.setStatus('e2', 'cancelled');
    await h.producer.checkStalled();
    expect((await store.get('e2'))?.status).toBe('cancelled');
  });

  it('refuses to cancel an experiment that succeeded or that it does not know, leaving it as it is', async () => {
    h = await harness();
    await submit(h, 'e1');
    await waitFor(() => h.jobs.length === 5, 2000);
    const ready = v1.ExperimentEvent.create({ experimentId: 'e1', modelReady: { modelUri: 'file:///m.onnx' } });
    await h.bus.publish(h.topics.events, { payload: Codecs.event.encode(ready), key: 'e1' });
    await waitFor(() => h.producer.experiment('e1')?.status === 'succeeded', 2000);
    await cancel(h, 'e1');
    await cancel(h, 'nobody');
    await waitFor(() => kinds(h, 'e1').includes('rejected') && kinds(h, 'nobody').includes('rejected'), 2000);
    expect(h.producer.experiment('e1')?.status).toBe('succeeded');
    expect(kinds(h, 'e1')).not.toContain('cancelled');
    const refusal = (id: string) => h.events.find((e) => e.experimentId === id && e.rejected)?.rejected;
    expect(refusal('e1')).toMatchObject({ code: 'EXPERIMENT_ENDED', command: v1.CommandKind.COMMAND_KIND_CANCEL });
    expect(refusal('e1')?.reason).toMatch(/has already ended \(succeeded\)/);
    expect(refusal('nobody')).toMatchObject({ code: 'UNKNOWN_EXPERIMENT', command: v1.CommandKind.COMMAND_KIND_CANCEL, reason: 'no experiment nobody to cancel' });
  });

  describe('a resubmitted experiment with held chunks', () => {
    it('publishes jobs only for the chunks the trainer does not hold', async () => {
      h = await harness();
      await submit(h, 'e1', undefined, { held: held([0, 2], [0]) });
      await waitFor(() => h.jobs.length === 2, 2000, 'two jobs');
      await new Promise((r) => setTimeout(r, 100));
      expect(jobIds(h.jobs)).toEqual(['training/1', 'training/3']);
      // the plan is the whole experiment's: the trainer still expects every chunk
      expect(h.events[0]?.accepted).toMatchObject({ trainingChunks: 4, validationChunks: 1 });
      const tracker = h.producer.experiment('e1');
      expect(tracker?.presumed).toBe(3);
      expect(tracker?.isPresumed('training', 2)).toBe(true);
      expect(tracker?.isPresumed('training', 1)).toBe(false);
      expect(h.jobs.every((j) => j.attempt === 1)).toBe(true);
    });

    it('publishes no job when every chunk is held', async () => {
      h = await harness();
      await submit(h, 'e1', undefined, { held: held([0, 1, 2, 3], [0]) });
      await waitFor(() => kinds(h, 'e1').includes('accepted'), 2000);
      await new Promise((r) => setTimeout(r, 100));
      expect(h.jobs).toHaveLength(0);
      expect(h.producer.experiment('e1')?.status).toBe('running');
      await datasetReady(h, 'e1');
      await waitFor(() => h.producer.experiment('e1')?.status === 'datagen-complete', 2000);
    });

    it('rejects held chunks outside the plan with the field and the rule, publishing no job', async () => {
      h = await harness();
      await submit(h, 'e1', undefined, { held: { training: [{ first: 0, last: 4 }] } });
      await waitFor(() => kinds(h, 'e1').includes('rejected'), 2000);
      const rejected = h.events.find((e) => e.rejected)?.rejected;
      expect(rejected?.code).toBe('BAD_HELD_CHUNKS');
      expect(rejected?.command).toBe(v1.CommandKind.COMMAND_KIND_SUBMIT);
      expect(rejected?.field).toBe('submit.held.training[0]');
      expect(rejected?.reason).toMatch(/submit\.held\.training\[0\] = 0…4: chunk 4 is outside the plan of 4 training chunks/);
      expect(h.jobs).toHaveLength(0);
      expect(h.producer.experiment('e1')).toBeUndefined();
    });

    it('counts held chunks as landed once DatasetReady confirms them, and re-issues nothing', async () => {
      h = await harness({ jobTimeoutMs: 100 });
      await submit(h, 'e1', undefined, { held: held([0, 1], [0]) });
      await waitFor(() => h.jobs.length === 2, 2000);
      await land(h, 'e1', 'training', 2);
      await land(h, 'e1', 'training', 3);
      await datasetReady(h, 'e1');
      await waitFor(() => h.producer.experiment('e1')?.status === 'datagen-complete', 2000);
      expect(h.producer.experiment('e1')?.landed).toBe(5);
      await new Promise((r) => setTimeout(r, 300));
      expect(h.jobs).toHaveLength(2);
      expect(kinds(h, 'e1')).not.toContain('jobReissued');
    });

    it('issues a held chunk after all when the trainer never confirms it and the experiment stalls', async () => {
      h = await harness({ jobTimeoutMs: 150 });
      await submit(h, 'e1', undefined, { held: held([0, 1, 2]) });
      await waitFor(() => h.jobs.length === 2, 2000);
      expect(jobIds(h.jobs)).toEqual(['training/3', 'validation/0']);
      await land(h, 'e1', 'training', 3);
      await land(h, 'e1', 'validation', 0);
      await waitFor(() => h.jobs.length === 5, 3000, 'the unconfirmed chunks issued');
      expect(jobIds(h.jobs.slice(2))).toEqual(['training/0', 'training/1', 'training/2']);
      expect(h.jobs.slice(2).every((j) => j.attempt === 1)).toBe(true);
      const reissued = h.events.filter((e) => e.jobReissued).map((e) => e.jobReissued);
      expect(reissued).toHaveLength(3);
      expect(reissued[0]?.reason).toMatch(/submitted as held, but the trainer did not confirm it/);
      for (let i = 0; i < 3; i++) await land(h, 'e1', 'training', i);
      await waitFor(() => h.producer.experiment('e1')?.status === 'datagen-complete', 2000);
    });

    it('runs a cancelled experiment again when it is submitted anew, ignoring a redelivery of the first submit', async () => {
      h = await harness();
      await submit(h, 'e1', undefined, { issuedAtMs: 1000 });
      await waitFor(() => h.jobs.length === 5, 2000);
      await land(h, 'e1', 'training', 0);
      await cancel(h, 'e1');
      await waitFor(() => h.producer.experiment('e1')?.status === 'cancelled', 2000);
      await submit(h, 'e1', undefined, { issuedAtMs: 1000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(h.jobs).toHaveLength(5);
      expect(h.producer.experiment('e1')?.status).toBe('cancelled');

      await submit(h, 'e1', undefined, { issuedAtMs: 2000, held: held([0]) });
      await waitFor(() => h.jobs.length === 9, 2000, 'the jobs of the resubmission');
      expect(jobIds(h.jobs.slice(5))).toEqual(['training/1', 'training/2', 'training/3', 'validation/0']);
      expect(kinds(h, 'e1').filter((k) => k === 'accepted')).toHaveLength(2);
      // jobs and accepted events name the submission they belong to (the trainer tells a late event from a new run by it)
      expect(h.jobs.map((j) => Number(j.submittedAtMs))).toEqual([...Array(5).fill(1000), ...Array(4).fill(2000)]);
      expect(h.events.filter((e) => e.accepted).map((e) => Number(e.accepted?.submittedAtMs))).toEqual([1000, 2000]);
      const tracker = h.producer.experiment('e1');
      expect(tracker?.status).toBe('running');
      expect(tracker?.submittedAt).toBe(2000);
      // a resubmission of a running experiment is ignored as a redelivery would be
      await submit(h, 'e1', undefined, { issuedAtMs: 3000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(h.jobs).toHaveLength(9);
    });
  });
});
