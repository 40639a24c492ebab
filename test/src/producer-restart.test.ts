import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { purposeName } from '@surrogate/protocol';
import { admin } from '@surrogate/testing';
import { TopicAudit } from './topic-audit';
import { SceneRedis } from './scene-redis';
import { SystemScene } from './system-scene';
import { HESTON_BOX } from './spec-boxes';

// 2^17 Heston samples in 32 training chunks (+1 validation): one single-threaded worker takes
// seconds, so the producer is killed with most chunks still to price.
const SPEC = `
name: e2e-restart
${HESTON_BOX}
samples: 131072
chunkSize: 4096
seed: 11
training: {layers: [32, 32], epochs: 8, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 5, rmse: 2}   # this test is about the producer, not accuracy
`;
const CHUNKS = 33;
// a second experiment, to be cancelled after the restart
const OTHER = SPEC.replace('name: e2e-restart', 'name: e2e-restart-other').replace('samples: 131072', 'samples: 16384');
/** The restarted producer's job timeout: it re-issues what is lost this long after it starts. */
const JOB_TIMEOUT_MS = 4000;


describe('a producer with Redis, SIGKILLed mid-run and started again, over Pulsar', () => {
  const scene = new SystemScene('e2e-restart');
  const redis = new SceneRedis(scene);
  let audit: TopicAudit | undefined;

  afterAll(async () => {
    await audit?.close();
  });

  it('resumes supervision: re-issues a job lost meanwhile, completes, cancels a running experiment and refuses to cancel an ended one', async () => {
    const common = scene.common;

    // what crosses the bus, under a subscription of the test's own
    audit = await TopicAudit.open(scene.url, scene.topics, ['events']);
    const { events } = audit;
    const of = (id: string, kind: string): v1.ExperimentEvent[] => (audit as TopicAudit).of(kind, id);
    const chunkKey = (c: { purpose?: v1.ChunkPurpose | null; chunkIndex?: number | null }): string => `${purposeName(c.purpose ?? 0)}/${c.chunkIndex}`;

    // (a worker's subscription starts at the latest job: it runs before anything is submitted)
    const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('artifacts')]);
    const worker = scene.start('worker-1', ['datagen-worker', ...common, '--threads', '1']);
    const first = scene.start('producer-1', ['producer', ...common, '--redis', redis.url]);
    for (const p of [trainer, worker, first]) await p.waitFor(/"msg":"running/);
    expect(first.stderr).toMatch(/"msg":"experiment state in redis"/);

    const submit = async (name: string, spec: string): Promise<string> => {
      const file = path.join(scene.dir, `${name}.yaml`);
      await writeFile(file, spec);
      const s = scene.start(`submit-${name}`, ['submit', file, ...common]);
      expect((await s.exited).code).toBe(0);
      return (JSON.parse(s.stdout.trim()) as { experimentId: string }).experimentId;
    };
    const main = await submit('main', SPEC);
    const other = await submit('other', OTHER);
    await waitFor(() => of(other, 'accepted').length === 1, 60_000, 'both experiments accepted');

    // the worker prices a few chunks, then stops (its job in hand is finished or handed back)
    await waitFor(() => of(main, 'chunkAccepted').length >= 3, 120_000, 'three chunks stored');
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);

    // the producer dies without a word
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const landedBefore = new Set(of(main, 'chunkAccepted').map((e) => chunkKey(e.chunkAccepted ?? {})));
    expect(landedBefore.size).toBeLessThan(CHUNKS);

    // while no producer runs, the queued jobs are lost (every job of both experiments not yet taken)
    const jobsPath = scene.topics.jobs.replace(/^persistent:\/\//, '/admin/v2/persistent/');
    await admin('POST', `${jobsPath}/subscription/datagen/skip_all`);

    const restartedAt = Date.now();
    const second = scene.start('producer-2', ['producer', ...common, '--redis', redis.url, '--job-timeout-ms', String(JOB_TIMEOUT_MS)]);
    await second.waitFor(/"msg":"running/);
    expect(second.stderr).toMatch(/resumed the live experiments of the store/);
    expect(second.stderr).toContain(main);

    // a running experiment is cancelled by the new producer (it would say UNKNOWN_EXPERIMENT without the store)
    const cancelOther = scene.start('cancel-other', ['cancel', other, ...common, '--reason', 'after the restart']);
    expect((await cancelOther.exited).code).toBe(0);
    expect(JSON.parse(cancelOther.stdout.trim())).toEqual({ experimentId: other, cancelled: true, reason: 'after the restart' });

    // the lost jobs of the main experiment are re-issued once the restarted producer's timeout passed
    const worker2 = scene.start('worker-2', ['datagen-worker', ...common, '--threads', '1']);
    await worker2.waitFor(/"msg":"running/);
    await waitFor(() => of(main, 'modelReady').length === 1 || of(main, 'failed').length > 0, 240_000, 'the main experiment to end');
    expect(of(main, 'failed')).toEqual([]);
    const reissued = of(main, 'jobReissued').map((e) => e.jobReissued as v1.IJobReissued);
    expect(reissued.length).toBeGreaterThan(0);
    expect(reissued.every((r) => (r.attempt ?? 0) >= 2)).toBe(true);
    // never a chunk that had landed before the producer died
    expect(reissued.filter((r) => landedBefore.has(chunkKey(r)))).toEqual([]);
    // the stall clock started at the restart: nothing was re-issued before a whole timeout had passed since
    const firstReissue = events.find((e) => e.experimentId === main && e.jobReissued);
    expect(Number(firstReissue?.timeMs ?? 0)).toBeGreaterThanOrEqual(restartedAt + JOB_TIMEOUT_MS);
    expect(second.stderr).toMatch(/"msg":"re-issued a stalled job"/);
    // every chunk stored exactly once
    const stored = of(main, 'chunkAccepted').map((e) => e.chunkAccepted as v1.IChunkAccepted);
    expect(new Set(stored.map(chunkKey)).size).toBe(CHUNKS);
    expect(stored.filter((c) => !c.duplicate)).toHaveLength(CHUNKS);
    const report = JSON.parse(await readFile(path.join(scene.dir, 'artifacts', main, 'report.json'), 'utf8'));
    expect(report.dataset.chunksStored).toBe(CHUNKS);
    // the other experiment stays cancelled: none of its jobs was re-issued
    expect(of(other, 'jobReissued')).toEqual([]);

    // an ended experiment: the producer refuses the cancel as EXPERIMENT_ENDED
    const cancelEnded = scene.start('cancel-ended', ['cancel', main, ...common]);
    expect((await cancelEnded.exited).code).toBe(1);
    expect(JSON.parse(cancelEnded.stdout.trim())).toMatchObject({ experimentId: main, cancelled: false, ended: true, rejected: { code: 'EXPERIMENT_ENDED' } });
    await waitFor(() => of(main, 'rejected').length === 1, 30_000, 'the refusal on the events topic');
    expect(of(main, 'rejected')[0]?.rejected).toMatchObject({ code: 'EXPERIMENT_ENDED', command: v1.CommandKind.COMMAND_KIND_CANCEL });

    for (const p of [trainer, worker2, second]) p.child.kill('SIGTERM');
    for (const p of [trainer, worker2, second]) expect((await p.exited).code).toBe(0);
  });
});
