import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { topicStats } from '@surrogate/testing';
import { TopicAudit } from './topic-audit';
import { SystemScene } from './system-scene';
import { BLACK_SCHOLES_BOX } from './spec-boxes';

// No worker runs until the experiment has been cancelled: its jobs wait in the queue (the producer
// creates the workers' subscription before its first job).
const SPEC = `
name: e2e-late-worker
${BLACK_SCHOLES_BOX}
samples: 65536
chunkSize: 16384
`;


describe('a datagen worker started after a cancel, over Pulsar', () => {
  const scene = new SystemScene('e2e-late-worker', { 'spec.yaml': SPEC });

  const eventSubscriptions = async (): Promise<Record<string, { isDurable?: boolean }>> => {
    const stats = (await topicStats(scene.topics.events).catch(() => ({}))) as { subscriptions?: Record<string, { isDurable?: boolean }> };
    return Object.fromEntries(Object.entries(stats.subscriptions ?? {}).filter(([name]) => name.startsWith('datagen-events-')));
  };

  it('learns of the cancel from the recent events and skips the stale jobs; killed, it leaves no events subscription', async () => {
    const audit = await TopicAudit.open(scene.url, scene.topics);
    try {
      const { jobs, chunks } = audit;
      const of = (kind: string): v1.ExperimentEvent[] => audit.of(kind);

      const common = scene.common;
      const producer = scene.start('producer', ['producer', ...common]);
      await producer.waitFor(/"msg":"running/);
      const submit = scene.start('submit', ['submit', scene.file('spec.yaml'), ...common]);
      expect((await submit.exited).code).toBe(0);
      const { experimentId } = JSON.parse(submit.stdout.trim()) as { experimentId: string };
      const chunkCount = (): number =>
        Number(of('accepted')[0]?.accepted?.trainingChunks ?? 0) + Number(of('accepted')[0]?.accepted?.validationChunks ?? 0);
      await waitFor(() => chunkCount() > 0 && jobs.length === chunkCount(), 60_000, 'every job queued');
      const expected = chunkCount();
      // Past the workers' clock-skew margin (1 s by default): the queued jobs are stale once cancelled.
      await new Promise((r) => setTimeout(r, 1500));
      const cancel = scene.start('cancel', ['cancel', experimentId, ...common, '--reason', 'before any worker']);
      expect((await cancel.exited).code).toBe(0);

      // Only now a worker starts: it reads the recent events (default look-back 30 min) before taking jobs.
      const worker = scene.start('worker', ['datagen-worker', ...common, '--threads', '1']);
      await worker.waitFor(/"msg":"running/);
      expect(worker.stderr).toMatch(/"msg":"recent events read"/);
      const skipped = (): v1.IJobSkipped[] => of('jobSkipped').map((e) => e.jobSkipped as v1.IJobSkipped);
      await waitFor(() => skipped().length === expected, 60_000, 'every stale job skipped');
      expect(skipped().every((j) => j.code === 'EXPERIMENT_CANCELLED' && j.reason === 'before any worker')).toBe(true);
      expect(chunks).toHaveLength(0);

      // Its events subscription is non-durable: killed outright, the worker leaves nothing behind.
      const own = await eventSubscriptions();
      expect(Object.values(own)).toEqual([expect.objectContaining({ isDurable: false })]);
      worker.child.kill('SIGKILL');
      await worker.exited;
      await waitFor(async () => Object.keys(await eventSubscriptions()).length === 0, 30_000, 'the killed worker’s events subscription to go');

      producer.child.kill('SIGTERM');
      expect((await producer.exited).code).toBe(0);
    } finally {
      await audit.close();
    }
  });
});
