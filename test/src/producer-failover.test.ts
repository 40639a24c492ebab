import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { purposeName, SERVICE_SUBSCRIPTIONS } from '@surrogate/protocol';
import { admin } from '@surrogate/testing';
import { TopicAudit } from './topic-audit';
import type { ServiceProcess } from './service-process';
import { SceneRedis } from './scene-redis';
import { SystemScene } from './system-scene';
import { HESTON_BOX } from './spec-boxes';

// 2^17 Heston samples in 32 training chunks (+1 validation): one single-threaded worker takes
// seconds, so the active producer is killed with most chunks still to price.
const SPEC = `
name: e2e-failover
${HESTON_BOX}
samples: 131072
chunkSize: 4096
seed: 7
training: {layers: [16], epochs: 4, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 50, rmse: 50}   # this test is about the producers, not accuracy
`;
const CHUNKS = 33;
// a second experiment, to be cancelled once the standby has taken over
const OTHER = SPEC.replace('name: e2e-failover', 'name: e2e-failover-other').replace('samples: 131072', 'samples: 16384');
/** Both producers' job timeout: the standby re-issues what was lost at most about two of these after the failover. */
const JOB_TIMEOUT_MS = 4000;

describe('two producers with the same Redis, the active one SIGKILLed mid-datagen, over Pulsar', () => {
  const scene = new SystemScene('e2e-failover');
  const redis = new SceneRedis(scene);
  let audit: TopicAudit | undefined;

  afterAll(async () => {
    await audit?.close();
  });

  it('the standby takes over: re-issues the lost jobs of an experiment accepted after it started, completes it, and answers a cancel', async () => {
    const common = scene.common;
    const producerArgs = ['producer', ...common, '--redis', redis.url, '--job-timeout-ms', String(JOB_TIMEOUT_MS)];

    audit = await TopicAudit.open(scene.url, scene.topics, ['events']);
    const { events } = audit;
    const of = (id: string, kind: string): v1.ExperimentEvent[] => (audit as TopicAudit).of(kind, id);
    const chunkKey = (c: { purpose?: v1.ChunkPurpose | null; chunkIndex?: number | null }): string => `${purposeName(c.purpose ?? 0)}/${c.chunkIndex}`;
    /** The chunks of `id` the producers stored as landed in Redis. */
    const landedInRedis = async (id: string): Promise<number> => {
      const chunks = await redis.client.hgetall(redis.key(`exp:${encodeURIComponent(id)}:chunks`));
      return Object.values(chunks).filter((v) => v.endsWith(',1')).length;
    };

    // the two producers: the first one attached is the active one on both topics, the second stands by
    const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('artifacts')]);
    const worker = scene.start('worker-1', ['datagen-worker', ...common, '--threads', '1']);
    const producers = [scene.start('producer-1', producerArgs)];
    await (producers[0] as ServiceProcess).waitFor(/"msg":"running/);
    producers.push(scene.start('producer-2', producerArgs));
    for (const p of [trainer, worker, ...producers]) await p.waitFor(/"msg":"running/);
    for (const p of producers) expect(p.stderr).toMatch(/"msg":"experiment state in redis"/);

    // both experiments are submitted after both producers started: only the active one hears of them
    const submit = async (name: string, spec: string): Promise<string> => {
      const file = path.join(scene.dir, `${name}.yaml`);
      await writeFile(file, spec);
      const s = scene.start(`submit-${name}`, ['submit', file, ...common]);
      expect((await s.exited).code).toBe(0);
      return (JSON.parse(s.stdout.trim()) as { experimentId: string }).experimentId;
    };
    const main = await submit('main', SPEC);
    const other = await submit('other', OTHER);
    await waitFor(() => of(main, 'accepted').length === 1 && of(other, 'accepted').length === 1, 30_000, 'both experiments accepted');
    const accepting = producers.filter((p) => p.stderr.includes('"msg":"experiment accepted') && p.stderr.includes(main));
    expect(accepting).toHaveLength(1);
    const active = accepting[0] as ServiceProcess;
    const standby = producers.find((p) => p !== active) as ServiceProcess;
    expect(standby.stderr).not.toContain('"msg":"experiment accepted');

    // a few chunks are priced; the worker stops (its job in hand finished or handed back) and the
    // active producer stores every landing the trainer reported, so no event of `main` is left for the standby
    await waitFor(() => of(main, 'chunkAccepted').length >= 3, 30_000, 'three chunks stored');
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    await new Promise((r) => setTimeout(r, 500)); // the trainer's last ChunkAccepted, if any
    await waitFor(async () => (await landedInRedis(main)) === of(main, 'chunkAccepted').length, 10_000, 'the landings stored');
    // and acknowledged: an event still unacknowledged at the kill would go to the standby, which would
    // then learn of `main` from that message instead of from the store (what this test is about)
    const eventsPath = scene.topics.events.replace(/^persistent:\/\//, '/admin/v2/persistent/');
    await waitFor(
      async () => {
        const stats = (await admin('GET', `${eventsPath}/stats`)) as { subscriptions: Record<string, { msgBacklog: number; unackedMessages: number }> };
        const sub = stats.subscriptions[SERVICE_SUBSCRIPTIONS.producer];
        return sub !== undefined && sub.msgBacklog === 0 && sub.unackedMessages === 0;
      },
      10_000,
      'every event acknowledged by the active producer',
    );

    // the active producer dies without a word, mid-datagen
    active.child.kill('SIGKILL');
    expect((await active.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();
    const landedBefore = new Set(of(main, 'chunkAccepted').map((e) => chunkKey(e.chunkAccepted ?? {})));
    expect(landedBefore.size).toBeLessThan(CHUNKS);

    // the jobs still queued are lost with it (every job of both experiments not yet taken)
    const jobsPath = scene.topics.jobs.replace(/^persistent:\/\//, '/admin/v2/persistent/');
    await admin('POST', `${jobsPath}/subscription/datagen/skip_all`);

    // the standby answers a cancel of the other experiment at once: Pulsar hands it the commands
    const cancelOther = scene.start('cancel-other', ['cancel', other, ...common, '--reason', 'after the failover']);
    expect((await cancelOther.exited).code).toBe(0);
    expect(JSON.parse(cancelOther.stdout.trim())).toEqual({ experimentId: other, cancelled: true, reason: 'after the failover' });
    expect(standby.stderr).toMatch(new RegExp(`"experimentId":"${other}"[^\\n]*"msg":"experiment cancelled"`));

    // it supervises `main`, which it never got a message of: re-issues its lost jobs, and the experiment completes
    const worker2 = scene.start('worker-2', ['datagen-worker', ...common, '--threads', '1']);
    await worker2.waitFor(/"msg":"running/);
    await waitFor(() => of(main, 'modelReady').length === 1 || of(main, 'failed').length > 0, 45_000, 'the main experiment to end');
    expect(of(main, 'failed')).toEqual([]);
    // it learnt of `main` from the store, at a stall check (no message of it ever reached it)
    const tookIn = standby.stderr.split('\n').filter((line) => line.includes('"msg":"took in live experiments another producer accepted'));
    expect(tookIn.some((line) => line.includes(main))).toBe(true);
    expect(standby.stderr).toMatch(/"msg":"re-issued a stalled job"/);
    const reissued = of(main, 'jobReissued').map((e) => e.jobReissued as v1.IJobReissued);
    expect(reissued.length).toBeGreaterThan(0);
    expect(reissued.every((r) => (r.attempt ?? 0) >= 2)).toBe(true);
    expect(reissued.filter((r) => landedBefore.has(chunkKey(r)))).toEqual([]); // never a chunk the active one had recorded
    const firstReissue = events.find((e) => e.experimentId === main && e.jobReissued);
    expect(Number(firstReissue?.timeMs ?? 0)).toBeGreaterThanOrEqual(killedAt);
    // every chunk stored exactly once
    const stored = of(main, 'chunkAccepted').map((e) => e.chunkAccepted as v1.IChunkAccepted);
    expect(new Set(stored.map(chunkKey)).size).toBe(CHUNKS);
    expect(stored.filter((c) => !c.duplicate)).toHaveLength(CHUNKS);
    const report = JSON.parse(await readFile(path.join(scene.dir, 'artifacts', main, 'report.json'), 'utf8'));
    expect(report.dataset.chunksStored).toBe(CHUNKS);
    // the standby recorded the end in Redis; the cancelled experiment stays cancelled, nothing of it
    // re-issued since (before, its jobs queued behind those of `main` may have been: 4 s without progress)
    await waitFor(async () => (await redis.client.hget(redis.key(`exp:${main}`), 'status')) === 'succeeded', 10_000, 'succeeded in Redis');
    expect(await redis.client.hget(redis.key(`exp:${other}`), 'status')).toBe('cancelled');
    const cancelledAt = Number(of(other, 'cancelled')[0]?.timeMs ?? 0);
    expect(cancelledAt).toBeGreaterThanOrEqual(killedAt);
    expect(of(other, 'jobReissued').filter((e) => Number(e.timeMs) > cancelledAt)).toEqual([]);

    for (const p of [trainer, worker2, standby]) p.child.kill('SIGTERM');
    for (const p of [trainer, worker2, standby]) expect((await p.exited).code).toBe(0);
  });
});
