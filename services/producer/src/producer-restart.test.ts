import { createLogger } from '@surrogate/core';
import { createMemoryBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs, eventKind, purposeValue } from '@surrogate/protocol';
import { specToWire } from '@surrogate/spec';
import { realRedis, type RealRedis } from '@surrogate/testing';
import { Redis } from 'ioredis';
import type { ChunkState } from './experiment-record';
import type { ExperimentStore } from './experiment-store';
import { MemoryExperimentStore } from './memory-experiment-store';
import { Producer } from './producer';
import { openRedisExperimentStore } from './redis-experiment-store';
import { smallSpec } from './test-fixtures/small-spec';
import { recordOutput } from './test-fixtures/recorded-output';

// A producer that stops and another that starts on the same store: the second carries on.

const SPEC = specToWire(smallSpec('restart'));
const silent = createLogger({ name: 'producer-restart-test', level: 'silent' });

interface World {
  bus: Bus;
  topics: Topics;
  jobs: v1.DataGenJob[];
  events: v1.ExperimentEvent[];
}

async function world(): Promise<World> {
  const bus = createMemoryBus({ logger: silent });
  const topics = new Topics();
  return { bus, topics, ...(await recordOutput(bus, topics)) };
}

async function producer(w: World, store: ExperimentStore, jobTimeoutMs = 60_000): Promise<Producer> {
  const p = new Producer({ bus: w.bus, topics: w.topics, store, jobTimeoutMs, checkIntervalMs: 20, logger: silent, maxRedeliveries: 50 });
  await p.start();
  return p;
}

const command = (w: World, body: v1.IExperimentCommand): Promise<unknown> =>
  w.bus.publish(w.topics.experiments, { payload: Codecs.command.encode(v1.ExperimentCommand.create(body)), key: body.experimentId as string });
const event = (w: World, body: v1.IExperimentEvent): Promise<unknown> =>
  w.bus.publish(w.topics.events, { payload: Codecs.event.encode(v1.ExperimentEvent.create(body)), key: body.experimentId as string });
const land = (w: World, id: string, purpose: 'training' | 'validation', index: number): Promise<unknown> =>
  event(w, { experimentId: id, chunkAccepted: { purpose: purposeValue(purpose), chunkIndex: index } });
const kinds = (w: World, id: string): string[] => w.events.filter((e) => e.experimentId === id).map(eventKind);
const jobIds = (jobs: v1.DataGenJob[]): string[] =>
  jobs.map((j) => `${j.purpose === v1.ChunkPurpose.TRAINING ? 'training' : 'validation'}/${j.chunkIndex}`).sort();
const rejection = (w: World, id: string, issuedAtMs: number): v1.IExperimentRejected | undefined =>
  w.events.find((e) => e.experimentId === id && e.rejected && Number(e.rejected.commandIssuedAtMs) === issuedAtMs)?.rejected ?? undefined;

function describeRestart(storeName: string, openStore: () => Promise<{ store: ExperimentStore; dispose(): Promise<void> }>): void {
  describe(`a restarted producer on the ${storeName} store`, () => {
    let w: World;
    let store: ExperimentStore;
    let dispose: () => Promise<void>;
    const producers: Producer[] = [];
    beforeEach(async () => {
      w = await world();
      ({ store, dispose } = await openStore());
    });
    afterEach(async () => {
      for (const p of producers.splice(0)) await p.stop();
      await w.bus.close();
      await dispose();
    });
    const start = async (jobTimeoutMs?: number): Promise<Producer> => {
      const p = await producer(w, store, jobTimeoutMs);
      producers.push(p);
      return p;
    };

    it('resumes a running experiment: re-issues only the jobs whose chunks did not land, and cancels it', async () => {
      const first = await start();
      await command(w, { experimentId: 'e1', issuedAtMs: 1000, submit: { spec: SPEC } });
      await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
      await land(w, 'e1', 'training', 0);
      await land(w, 'e1', 'training', 1);
      await waitFor(() => first.experiment('e1')?.landed === 2, 2000, 'two chunks landed');
      await first.stop();
      producers.splice(0);
      expect((await store.get('e1'))?.chunks.filter((c) => c.landed).map((c) => c.index)).toEqual([0, 1]);

      // the new producer knows the experiment before any message reaches it, and its stall clock restarted
      const second = await start(300);
      expect(second.experiment('e1')).toMatchObject({ status: 'running', landed: 2, submittedAt: 1000, jobsPublished: true });
      await waitFor(() => w.jobs.length === 8, 5000, 'the three outstanding jobs re-issued');
      expect(jobIds(w.jobs.slice(5))).toEqual(['training/2', 'training/3', 'validation/0']);
      expect(w.jobs.slice(5).every((j) => j.attempt === 2 && j.spec?.name === 'restart')).toBe(true);
      expect((await store.get('e1'))?.chunks.map((c: ChunkState) => c.attempt)).toEqual([1, 1, 2, 2, 2]);

      await command(w, { experimentId: 'e1', issuedAtMs: 2000, cancel: { reason: 'after the restart' } });
      await waitFor(() => kinds(w, 'e1').includes('cancelled'), 2000, 'cancelled');
      expect((await store.get('e1'))?.status).toBe('cancelled');
      expect(await store.listLive()).toEqual([]);
    });

    it('remembers an ended experiment: refuses its cancel as ended, ignores a redelivered submit, runs a new submission', async () => {
      const first = await start();
      await command(w, { experimentId: 'e1', issuedAtMs: 1000, submit: { spec: SPEC } });
      await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
      await event(w, { experimentId: 'e1', modelReady: { modelUri: 'file:///m.onnx' } });
      await waitFor(() => first.experiment('e1')?.status === 'succeeded', 2000, 'succeeded');
      await command(w, { experimentId: 'e2', issuedAtMs: 1000, submit: { spec: SPEC } });
      await waitFor(() => w.jobs.length === 10, 2000, 'the jobs of e2');
      await command(w, { experimentId: 'e2', issuedAtMs: 1500, cancel: { reason: 'no' } });
      await waitFor(() => first.experiment('e2')?.status === 'cancelled', 2000, 'e2 cancelled');
      await first.stop();
      producers.splice(0);

      const second = await start();
      expect(second.experiment('e1')).toBeUndefined(); // ended ones are not resumed, but looked up
      await command(w, { experimentId: 'e1', issuedAtMs: 3000, cancel: { reason: 'too late' } });
      await waitFor(() => rejection(w, 'e1', 3000) !== undefined, 2000, 'the refusal');
      expect(rejection(w, 'e1', 3000)).toMatchObject({ code: 'EXPERIMENT_ENDED', command: v1.CommandKind.COMMAND_KIND_CANCEL });
      expect(rejection(w, 'e1', 3000)?.reason).toMatch(/has already ended \(succeeded\)/);

      await command(w, { experimentId: 'e2', issuedAtMs: 1000, submit: { spec: SPEC } }); // a redelivery
      await command(w, { experimentId: 'e2', issuedAtMs: 4000, submit: { spec: SPEC } }); // a resubmission
      await waitFor(() => w.jobs.length === 15, 2000, 'the jobs of the resubmission');
      await new Promise((r) => setTimeout(r, 100));
      expect(w.jobs).toHaveLength(15);
      expect(kinds(w, 'e2').filter((k) => k === 'accepted')).toHaveLength(2);
      expect(await store.get('e2')).toMatchObject({ status: 'running', submittedAt: 4000, jobsPublished: true });
    });
  });
}

describeRestart('memory', async () => {
  const store = new MemoryExperimentStore();
  return { store, dispose: () => store.close() };
});

let redis: RealRedis | undefined;
let admin: Redis | undefined;
afterAll(async () => {
  await admin?.quit();
  await redis?.stop();
});
let prefixes = 0;
describeRestart('redis', async () => {
  redis ??= await realRedis();
  if (!admin) {
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
  }
  const prefix = `surrogate-test-${process.pid}-${Date.now().toString(36)}-${++prefixes}`;
  const store = await openRedisExperimentStore({ url: redis.url, prefix, scope: { tenant: 'public', namespace: 'default' }, logger: silent });
  return {
    store,
    dispose: async () => {
      await store.close();
      const keys = await admin!.keys(`${prefix}:*`);
      if (keys.length) await admin!.del(...keys);
    },
  };
});

/** A memory store whose next call of one method fails (as Redis going away would make it). */
class FailingOnceStore extends MemoryExperimentStore {
  failNext: 'saveChunks' | 'markJobsPublished' | undefined;
  failures = 0;
  private trip(method: string): void {
    if (this.failNext !== method) return;
    this.failNext = undefined;
    this.failures += 1;
    throw new Error(`${method}: store unreachable (test)`);
  }
  override async saveChunks(id: string, chunks: readonly ChunkState[]): Promise<void> {
    this.trip('saveChunks');
    return super.saveChunks(id, chunks);
  }
  override async markJobsPublished(id: string): Promise<void> {
    this.trip('markJobsPublished');
    return super.markJobsPublished(id);
  }
}

describe('a producer whose store fails in a handler', () => {
  let w: World;
  let p: Producer;
  afterEach(async () => {
    await p.stop();
    await w.bus.close();
  });

  it('does not acknowledge the event: it comes again, and the landing is stored and counted once', async () => {
    w = await world();
    const store = new FailingOnceStore();
    p = await producer(w, store);
    await command(w, { experimentId: 'e1', issuedAtMs: 1, submit: { spec: SPEC } });
    await waitFor(() => w.jobs.length === 5, 2000, 'five jobs');
    store.failNext = 'saveChunks';
    await land(w, 'e1', 'training', 3);
    await waitFor(async () => (await store.get('e1'))?.chunks.find((c) => c.index === 3 && c.purpose === 'training')?.landed === true, 10_000, 'the landing stored');
    expect(store.failures).toBe(1);
    expect(p.experiment('e1')?.landed).toBe(1);
  });

  it('does not acknowledge a submit whose jobs it could not mark published: the redelivery publishes them again', async () => {
    w = await world();
    const store = new FailingOnceStore();
    store.failNext = 'markJobsPublished';
    p = await producer(w, store);
    await command(w, { experimentId: 'e1', issuedAtMs: 1, submit: { spec: SPEC } });
    await waitFor(() => w.jobs.length === 10, 10_000, 'the jobs published twice');
    await waitFor(async () => (await store.get('e1'))?.jobsPublished === true, 2000, 'jobs marked published');
    expect(store.failures).toBe(1);
    expect(jobIds(w.jobs.slice(5))).toEqual(jobIds(w.jobs.slice(0, 5)));
    expect(w.jobs.every((j) => j.attempt === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(w.jobs).toHaveLength(10);
  });
});
