import { createLogger } from '@surrogate/core';
import { createMemoryBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs, eventKind, purposeValue } from '@surrogate/protocol';
import { specToWire } from '@surrogate/spec';
import { realRedis, type RealRedis } from '@surrogate/testing';
import { Redis } from 'ioredis';
import type { ExperimentStore } from './experiment-store';
import { MemoryExperimentStore } from './memory-experiment-store';
import { Producer } from './producer';
import { openRedisExperimentStore } from './redis-experiment-store';
import { smallSpec } from './test-fixtures/small-spec';
import { recordOutput } from './test-fixtures/recorded-output';

// Two producers on one store and one bus, under the same failover subscription: the first started
// is the active one (it gets every command and event), the second a standby. The stall checks are
// run by hand, at chosen clock readings, so that both producers' clocks are under the test's control.

const SPEC = specToWire(smallSpec('failover'));
const TIMEOUT = 60_000;
const silent = createLogger({ name: 'producer-failover-test', level: 'silent' });

interface World {
  bus: Bus;
  topics: Topics;
  store: MemoryExperimentStore;
  jobs: v1.DataGenJob[];
  events: v1.ExperimentEvent[];
  producers: Producer[];
}

let w: World;

beforeEach(async () => {
  const bus = createMemoryBus({ logger: silent });
  const topics = new Topics();
  w = { bus, topics, store: new MemoryExperimentStore(), ...(await recordOutput(bus, topics)), producers: [] };
});

afterEach(async () => {
  for (const p of w.producers.splice(0)) await p.stop();
  await w.bus.close();
  await w.store.close();
});

/** A producer on the shared store whose stall checks only run when the test calls checkStalled. */
async function producer(store: ExperimentStore = w.store): Promise<Producer> {
  const p = new Producer({ bus: w.bus, topics: w.topics, store, jobTimeoutMs: TIMEOUT, checkIntervalMs: 3600_000, logger: silent });
  await p.start();
  w.producers.push(p);
  return p;
}

/** The active producer dies: its subscriptions close, its stall checks stop, the standby gets the messages. */
async function kill(p: Producer): Promise<void> {
  await p.stop();
  w.producers.splice(w.producers.indexOf(p), 1);
}

const command = (body: v1.IExperimentCommand): Promise<unknown> =>
  w.bus.publish(w.topics.experiments, { payload: Codecs.command.encode(v1.ExperimentCommand.create(body)), key: body.experimentId as string });
const event = (body: v1.IExperimentEvent): Promise<unknown> =>
  w.bus.publish(w.topics.events, { payload: Codecs.event.encode(v1.ExperimentEvent.create(body)), key: body.experimentId as string });
const submit = (id: string, issuedAtMs = 1000): Promise<unknown> => command({ experimentId: id, issuedAtMs, submit: { spec: SPEC } });
const land = (id: string, purpose: 'training' | 'validation', index: number): Promise<unknown> =>
  event({ experimentId: id, chunkAccepted: { purpose: purposeValue(purpose), chunkIndex: index } });
const kinds = (id: string): string[] => w.events.filter((e) => e.experimentId === id).map(eventKind);
const jobIds = (jobs: v1.DataGenJob[]): string[] =>
  jobs.map((j) => `${j.purpose === v1.ChunkPurpose.TRAINING ? 'training' : 'validation'}/${j.chunkIndex}`).sort();
const attempts = async (id: string): Promise<number[]> => ((await w.store.get(id))?.chunks ?? []).map((c) => c.attempt);

/** Lands chunks through the active producer and waits until it has stored them. */
async function landAll(id: string, chunks: Array<['training' | 'validation', number]>): Promise<void> {
  for (const [purpose, index] of chunks) await land(id, purpose, index);
  const stored = async (): Promise<boolean> => {
    const record = await w.store.get(id);
    return chunks.every(([purpose, index]) => record?.chunks.some((c) => c.purpose === purpose && c.index === index && c.landed));
  };
  await waitFor(stored, 2000, `${chunks.length} landings stored`);
}

describe('a standby producer on the same store', () => {
  it('takes in an experiment accepted after it started, and re-issues its lost jobs a job timeout after taking it in', async () => {
    const active = await producer();
    const standby = await producer();
    await submit('e1');
    await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
    await landAll('e1', [['training', 0], ['training', 1]]);
    expect(standby.experiment('e1')).toBeUndefined(); // it got none of the messages

    // the active one dies; the jobs still queued are lost with it (nobody prices them)
    await kill(active);
    const takenAt = Date.now();
    await standby.checkStalled(takenAt);
    expect(standby.experiment('e1')).toMatchObject({ status: 'running', landed: 2, submittedAt: 1000, jobsPublished: true });
    await standby.checkStalled(takenAt + TIMEOUT - 1); // its clock started when it took the experiment in
    expect(w.jobs.length).toBe(5);

    await standby.checkStalled(takenAt + TIMEOUT);
    await waitFor(() => w.jobs.length === 8, 2000, 'the three lost jobs re-issued');
    expect(jobIds(w.jobs.slice(5))).toEqual(['training/2', 'training/3', 'validation/0']);
    expect(w.jobs.slice(5).every((j) => j.attempt === 2)).toBe(true);
    expect(await attempts('e1')).toEqual([1, 1, 2, 2, 2]);

    // it now supervises the experiment to its end: the landings and the model reach it
    await landAll('e1', [['training', 2], ['training', 3], ['validation', 0]]);
    await waitFor(() => standby.experiment('e1')?.status === 'datagen-complete', 2000, 'data generation complete');
    expect((await w.store.get('e1'))?.status).toBe('datagen-complete');
    await event({ experimentId: 'e1', modelReady: { modelUri: 'file:///m.onnx' } });
    await waitFor(async () => (await w.store.get('e1'))?.status === 'succeeded', 2000, 'succeeded');
    expect(await w.store.listLive()).toEqual([]);
  });

  it('answers a cancel of an experiment it never saw once it is the active one', async () => {
    const active = await producer();
    await producer();
    await submit('e1');
    await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
    await kill(active);
    await command({ experimentId: 'e1', issuedAtMs: 2000, cancel: { reason: 'after the failover' } });
    await waitFor(() => kinds('e1').includes('cancelled'), 2000, 'cancelled');
    expect((await w.store.get('e1'))?.status).toBe('cancelled');
  });

  it("follows the store's status of the experiments it holds at every check, also those that are not stalled", async () => {
    await producer();
    await submit('e1');
    await submit('e2');
    await waitFor(() => w.jobs.length === 10, 2000, 'the jobs of both');
    const standby = await producer(); // resumes both
    await command({ experimentId: 'e1', issuedAtMs: 2000, cancel: { reason: 'no' } });
    await waitFor(async () => (await w.store.get('e1'))?.status === 'cancelled', 2000, 'e1 cancelled');
    expect(standby.experiment('e1')?.status).toBe('running');
    await standby.checkStalled(Date.now());
    expect(standby.experiment('e1')?.status).toBe('cancelled');
    expect(standby.experiment('e2')?.status).toBe('running');
  });
});

describe('two producers running stall checks at once (the active one alive)', () => {
  it('the standby does not re-issue the jobs the active one re-issued: that restarts its clock too', async () => {
    const active = await producer();
    await submit('e1');
    await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
    const standby = await producer(); // resumes e1: both clocks run from about now
    const now = Date.now();

    await active.checkStalled(now + TIMEOUT);
    await waitFor(() => w.jobs.length === 10, 2000, 'the active one re-issues every job');
    expect(await attempts('e1')).toEqual([2, 2, 2, 2, 2]);

    await standby.checkStalled(now + TIMEOUT + 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.jobs.length).toBe(10);
    expect(await attempts('e1')).toEqual([2, 2, 2, 2, 2]);
    expect(kinds('e1').filter((k) => k === 'jobReissued')).toHaveLength(5);

    // the standby's clock restarted when it saw the re-issue: a whole timeout later, it is its turn
    await standby.checkStalled(now + 2 * TIMEOUT);
    expect(w.jobs.length).toBe(10);
    await standby.checkStalled(now + 2 * TIMEOUT + 1);
    await waitFor(() => w.jobs.length === 15, 2000, 'the standby re-issues once nothing happened for a whole timeout');
    expect(await attempts('e1')).toEqual([3, 3, 3, 3, 3]);
  });

  it('the standby re-issues nothing of an experiment the active one made progress on, or finished', async () => {
    const active = await producer();
    await submit('e1');
    await submit('e2');
    await waitFor(() => w.jobs.length === 10, 2000, 'the jobs of both');
    const standby = await producer(); // resumes both: its view of them is now going stale
    const now = Date.now();

    await landAll('e1', [['training', 0]]);
    await landAll('e2', [['training', 0], ['training', 1], ['training', 2], ['training', 3], ['validation', 0]]);
    await event({ experimentId: 'e2', modelReady: { modelUri: 'file:///m.onnx' } });
    await waitFor(async () => (await w.store.get('e2'))?.status === 'succeeded', 2000, 'e2 succeeded');

    await standby.checkStalled(now + TIMEOUT);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.jobs.length).toBe(10);
    expect(kinds('e1')).not.toContain('jobReissued');
    expect(standby.experiment('e1')).toMatchObject({ status: 'running', landed: 1 });
    expect(standby.experiment('e2')?.status).toBe('succeeded');
    expect((await w.store.get('e2'))?.status).toBe('succeeded');
    expect(active.experiment('e2')?.status).toBe('succeeded');
  });

  it('the standby drops its view of an experiment the active one ran again: nothing of the earlier run is re-issued', async () => {
    await producer();
    await submit('e1', 1000);
    await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
    const standby = await producer(); // resumes the first run
    const now = Date.now();
    await command({ experimentId: 'e1', issuedAtMs: 1500, cancel: { reason: 'change of plan' } });
    await submit('e1', 2000);
    await waitFor(() => w.jobs.length === 10, 2000, 'the jobs of the second run');

    // the stall check that finds the first run stalled reads the store: it holds the second run
    await standby.checkStalled(now + TIMEOUT);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.jobs.length).toBe(10);
    expect(await attempts('e1')).toEqual([1, 1, 1, 1, 1]);
    expect(kinds('e1')).not.toContain('failed');
    expect(standby.experiment('e1')).toMatchObject({ submittedAt: 2000, status: 'running' });
    expect((await w.store.get('e1'))?.status).toBe('running');
  });
});

describe('a standby that takes over with a stale view', () => {
  it('does not fail an experiment the active one cancelled, nor revive one that succeeded, on late events', async () => {
    const active = await producer();
    for (const id of ['cancelled', 'done', 'marker']) await submit(id);
    await waitFor(() => w.jobs.length === 15, 2000, 'the jobs of all three');
    const standby = await producer(); // resumes all three
    const now = Date.now();
    // four chunks of 'done' land (and one of each other); the standby takes them in at a stall check
    // (progress on all three: nothing re-issued)
    await landAll('done', [['training', 0], ['training', 1], ['training', 2], ['training', 3]]);
    await landAll('cancelled', [['training', 0]]);
    await landAll('marker', [['training', 0]]);
    await standby.checkStalled(now + TIMEOUT);
    expect(standby.experiment('done')?.landed).toBe(4);
    expect(w.jobs.length).toBe(15);

    // the active one finishes 'done' and cancels 'cancelled', then dies
    await landAll('done', [['validation', 0]]);
    await event({ experimentId: 'done', modelReady: { modelUri: 'file:///m.onnx' } });
    await command({ experimentId: 'cancelled', issuedAtMs: 2000, cancel: { reason: 'no' } });
    await waitFor(async () => (await w.store.get('done'))?.status === 'succeeded', 2000, 'done succeeded');
    await waitFor(async () => (await w.store.get('cancelled'))?.status === 'cancelled', 2000, 'cancelled');
    await kill(active);

    // late events reach the standby: a worker's permanent failure, the trainer's duplicate of the last chunk
    await event({ experimentId: 'cancelled', chunkFailed: { purpose: purposeValue('training'), chunkIndex: 1, permanent: true, code: 'X', reason: 'boom' } });
    await event({ experimentId: 'done', chunkAccepted: { purpose: purposeValue('validation'), chunkIndex: 0, duplicate: true } });
    await land('marker', 'training', 1); // handled after the two above (one at a time, in order)
    await waitFor(() => standby.experiment('marker')?.landed === 2, 2000, 'the standby handled the late events');

    expect(kinds('cancelled')).not.toContain('failed');
    expect((await w.store.get('cancelled'))?.status).toBe('cancelled');
    expect((await w.store.get('done'))?.status).toBe('succeeded');
    expect((await w.store.listLive()).map((r) => r.id)).toEqual(['marker']);
  });
});

describe('two producers, each with its own connection to one Redis', () => {
  let redis: RealRedis;
  beforeAll(async () => {
    redis = await realRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('two stall checks in the same instant publish each re-issue once: only one producer claims it', async () => {
    // the real race: both read the record over the network before either writes its re-issue
    const prefix = `surrogate-test-failover-${process.pid}-${Date.now().toString(36)}`;
    const open = () => openRedisExperimentStore({ url: redis.url, prefix, scope: { tenant: 'public', namespace: 'default' }, logger: silent });
    const stores = [await open(), await open()];
    try {
      const active = await producer(stores[0]);
      await submit('race');
      await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
      const standby = await producer(stores[1]); // takes the experiment in: both views are the same
      const now = Date.now();

      for (let round = 1; round <= 3; round++) {
        await Promise.all([active.checkStalled(now + round * (TIMEOUT + 1)), standby.checkStalled(now + round * (TIMEOUT + 1))]);
        await new Promise((r) => setTimeout(r, 50));
        expect(w.jobs).toHaveLength(5 * (round + 1));
        expect(jobIds(w.jobs.slice(5 * round))).toEqual(['training/0', 'training/1', 'training/2', 'training/3', 'validation/0']);
        expect(kinds('race').filter((k) => k === 'jobReissued')).toHaveLength(5 * round);
        // the loser took in the winner's claim: both clocks restarted, so the next round races again
        expect(((await stores[0]?.get('race'))?.chunks ?? []).map((c) => c.attempt)).toEqual(Array(5).fill(1 + round));
      }
    } finally {
      for (const p of w.producers.splice(0)) await p.stop();
      for (const s of stores) await s.close();
      const admin = new Redis(redis.url);
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });
});
