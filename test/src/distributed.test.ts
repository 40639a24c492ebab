import { readFile, writeFile } from 'node:fs/promises';
import { createLogger } from '@surrogate/core';
import { openBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs, eventKind, purposeName } from '@surrogate/protocol';
import { freshNamespace, topicStats } from '@surrogate/testing';
import { TopicAudit } from './topic-audit';
import { SystemScene } from './system-scene';
import { HESTON_BOX } from './spec-boxes';

// 2^17 Heston samples in 32 chunks: slow enough (tens of µs a price) that both workers are busy
// when one is killed.
const SPEC = `
name: e2e-heston
${HESTON_BOX}
samples: 131072
chunkSize: 4096
seed: 9
training: {layers: [32, 32], epochs: 8, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 5, rmse: 2}   # this test is about delivery, not accuracy
`;

// 2^18 Heston samples in 64 training chunks (+1 validation): data generation takes two
// single-threaded workers many seconds, so a cancel finds most jobs still queued.
const BIG_SPEC = SPEC.replace('name: e2e-heston', 'name: e2e-cancel').replace('samples: 131072', 'samples: 262144');
const BIG_JOBS = 65;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


describe('services as separate processes over Pulsar', () => {
  const scene = new SystemScene('e2e');
  let bus: Bus | undefined;

  afterAll(async () => {
    await bus?.close();
  });

  it('completes with every chunk stored exactly once when a worker is SIGKILLed mid-run', async () => {
    const common = scene.common;
    const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('artifacts')]);
    const doomed = scene.start('worker-1', ['datagen-worker', ...common, '--threads', '1']);
    const survivor = scene.start('worker-2', ['datagen-worker', ...common, '--threads', '1']);
    const producer = scene.start('producer', ['producer', ...common]);
    for (const p of [trainer, doomed, survivor, producer]) await p.waitFor(/"msg":"running/);

    // Watch the events, to kill a worker once data generation is under way.
    const log = createLogger({ name: 'e2e', level: 'silent' });
    bus = await openBus(scene.url, { logger: log });
    const accepted: v1.IChunkAccepted[] = [];
    await bus.subscribe({
      topic: scene.topics.events,
      subscription: 'e2e-watch',
      type: 'exclusive',
      handler: (m) => {
        const e = Codecs.event.decode(m.payload);
        if (eventKind(e) === 'chunkAccepted' && e.chunkAccepted) accepted.push(e.chunkAccepted);
      },
    });
    const specFile = scene.file('spec.yaml');
    await writeFile(specFile, SPEC);
    const submit = scene.start('submit', ['submit', specFile, ...common, '--wait', '--quiet']);

    const deadline = Date.now() + 120_000;
    while (accepted.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    const landedBeforeKill = new Set(accepted.map((a) => `${purposeName(a.purpose)}/${a.chunkIndex}`)).size;
    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    expect(landedBeforeKill).toBeLessThan(33);

    const result = await submit.exited;
    if (result.code !== 0)
      throw new Error(`submit exited ${result.code}: ${submit.stdout}\n${submit.tail()}`);
    const summary = JSON.parse(submit.stdout.trim().split('\n').pop() as string) as {
      pass: boolean;
      report: string;
    };
    expect(summary.pass).toBe(true);
    // `submit --wait` deletes the subscription it followed the events with
    const eventSubscriptions = (await topicStats(scene.topics.events)) as { subscriptions?: Record<string, unknown> };
    expect(Object.keys(eventSubscriptions.subscriptions ?? {}).filter((name) => name.startsWith('submit-'))).toEqual([]);
    const report = JSON.parse(await readFile(summary.report, 'utf8'));
    expect(report.dataset.chunksExpected).toBe(33);
    expect(report.dataset.chunksStored).toBe(report.dataset.chunksExpected);
    expect(report.dataset.samples).toBe(131072);
    expect(report.dataset.validationSamples).toBe(4096);
    // Every chunk landed at least once, and the trainer kept each exactly once.
    const distinct = new Set(accepted.map((a) => `${purposeName(a.purpose)}/${a.chunkIndex}`));
    expect(distinct.size).toBe(33);
    expect(accepted.filter((a) => !a.duplicate)).toHaveLength(33);
    expect(accepted.filter((a) => a.duplicate)).toHaveLength(report.dataset.duplicatesDropped);

    // The others stop gracefully on SIGTERM.
    for (const p of [trainer, survivor, producer]) p.child.kill('SIGTERM');
    for (const p of [trainer, survivor, producer]) expect((await p.exited).code).toBe(0);
  });

  it("skips a cancelled experiment's queued jobs, prices its resubmission in full, and leaves no subscription behind", async () => {
    const ns = await freshNamespace('e2e-cancel');
    const common = ['--pulsar', scene.url, '--namespace', ns];
    const topics = new Topics({ namespace: ns });
    const workerEventSubscriptions = async (): Promise<string[]> => {
      const stats = (await topicStats(topics.events).catch(() => ({ subscriptions: {} }))) as { subscriptions?: Record<string, unknown> };
      return Object.keys(stats.subscriptions ?? {}).filter((name) => name.startsWith('datagen-events-'));
    };

    // What crosses the bus, under subscriptions of the test's own (created before anything is published).
    const audit = await TopicAudit.open(scene.url, topics);
    try {
      const { jobs, chunks } = audit;
      const of = (kind: string): v1.ExperimentEvent[] => audit.of(kind);
      const command = (body: Partial<v1.IExperimentCommand>): Promise<unknown> =>
        audit.bus.publish(topics.experiments, { payload: Codecs.command.encode(v1.ExperimentCommand.create(body)), key: body.experimentId as string });

      const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('cancel-artifacts')]);
      const workers = [1, 2].map((i) => scene.start(`cancel-worker-${i}`, ['datagen-worker', ...common, '--threads', '1']));
      const producer = scene.start('producer', ['producer', ...common]);
      for (const p of [trainer, ...workers, producer]) await p.waitFor(/"msg":"running/);
      expect(await workerEventSubscriptions()).toHaveLength(2); // one of its own per worker

      const specFile = scene.file('cancel-spec.yaml');
      await writeFile(specFile, BIG_SPEC);
      const submit = scene.start('submit', ['submit', specFile, ...common]);
      expect((await submit.exited).code).toBe(0);
      const { experimentId } = JSON.parse(submit.stdout.trim()) as { experimentId: string };

      // Cancel once data generation is under way, every job is queued, and the jobs were published
      // longer ago than the workers' clock-skew margin (1 s by default).
      await waitFor(() => jobs.length === BIG_JOBS && of('chunkAccepted').length >= 2, 120_000, 'jobs queued and two chunks stored');
      const lastJob = Math.max(...jobs.map((j) => j.publishTime));
      while (Date.now() < lastJob + 1500) await sleep(20);
      const pricedBeforeCancel = chunks.length;
      const cancelledAt = Date.now();
      await command({ experimentId, issuedAtMs: cancelledAt, cancel: { reason: 'e2e' } });
      const skipped = (): v1.IJobSkipped[] => of('jobSkipped').map((e) => e.jobSkipped as v1.IJobSkipped);
      await waitFor(() => chunks.length + skipped().length === BIG_JOBS, 120_000, 'every queued job priced or skipped');
      const priced = chunks.length;
      // measured: printed for the record (the workers used to price all 65)
      process.stderr.write(
        `cancel: ${BIG_JOBS} jobs queued, ${pricedBeforeCancel} priced before the cancel, ${priced} priced in all, ` +
          `${skipped().length} skipped; queue drained ${Date.now() - cancelledAt} ms after the cancel\n`,
      );
      expect(skipped().length).toBeGreaterThanOrEqual(BIG_JOBS / 2);
      expect(priced).toBeLessThanOrEqual(BIG_JOBS / 2);
      expect(skipped().every((j) => j.code === 'EXPERIMENT_CANCELLED' && j.reason === 'e2e')).toBe(true);
      expect(new Set(skipped().map((j) => `${purposeName(j.purpose)}/${j.chunkIndex}`)).size).toBe(skipped().length);

      // Submitted again (a new issuedAtMs): a new accepted, and every chunk's job issued again.
      // Each must be priced (a skipped one would stall the experiment until the producer's job
      // timeout), also those a worker takes before it has read the accepted.
      const spec = of('accepted')[0]?.accepted?.spec as v1.IExperimentSpec;
      await command({ experimentId, issuedAtMs: Date.now(), submit: { spec } });
      await waitFor(() => of('datasetReady').length === 1, 240_000, 'the resubmission to store every chunk');
      expect(jobs).toHaveLength(2 * BIG_JOBS);
      // the chunks the trainer held already come back as duplicates, maybe after DatasetReady
      await waitFor(() => chunks.length === priced + BIG_JOBS, 60_000, 'every job of the resubmission priced');
      expect(skipped()).toHaveLength(BIG_JOBS - priced); // none of the resubmission's
      await command({ experimentId, issuedAtMs: Date.now(), cancel: { reason: 'done with it' } });

      for (const p of [trainer, ...workers, producer]) p.child.kill('SIGTERM');
      for (const p of [trainer, ...workers, producer]) expect((await p.exited).code).toBe(0);
      // each worker deleted its events subscription as it stopped: the topic keeps nothing for them
      expect(await workerEventSubscriptions()).toEqual([]);
    } finally {
      await audit.close();
    }
  });
});
