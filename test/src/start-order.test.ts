import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { TopicAudit } from './topic-audit';
import { SystemScene } from './system-scene';
import { BLACK_SCHOLES_BOX } from './spec-boxes';

const SPEC = `
name: e2e-start-order
${BLACK_SCHOLES_BOX}
samples: 16384
chunkSize: 4096
training: {layers: [16], epochs: 2, batchSize: 512}
validation: {samples: 2048, maxAbsError: 50, rmse: 50}   # this test is about delivery, not accuracy
`;

describe('services started in the reverse of the advised order, in a namespace where none ever ran, over Pulsar', () => {
  const scene = new SystemScene('e2e-start-order', { 'spec.yaml': SPEC });

  it('loses nothing: the command waits for the first producer, its jobs for the first worker, their chunks for the first trainer', async () => {
    // The audit's subscriptions are its own: they create none of the services'.
    const audit = await TopicAudit.open(scene.url, scene.topics);
    try {
      const { jobs, chunks } = audit;
      const of = (kind: string): v1.ExperimentEvent[] => audit.of(kind);
      const common = scene.common;

      // 1. The experiment is submitted before any service has ever run here.
      const submit = scene.start('submit', ['submit', scene.file('spec.yaml'), ...common]);
      expect((await submit.exited).code).toBe(0);
      const { experimentId } = JSON.parse(submit.stdout.trim()) as { experimentId: string };

      // 2. The first producer finds the command and issues every job; no worker exists yet.
      const producer = scene.start('producer', ['producer', ...common]);
      await waitFor(() => of('accepted').length === 1, 60_000, 'the submission to be accepted by the first producer');
      const accepted = of('accepted')[0]?.accepted as v1.IExperimentAccepted;
      const chunkCount = Number(accepted.trainingChunks) + Number(accepted.validationChunks);
      expect(chunkCount).toBe(5);
      await waitFor(() => jobs.length === chunkCount, 60_000, 'every job issued');

      // 3. The first worker prices the queued jobs; no trainer exists yet.
      const worker = scene.start('worker', ['datagen-worker', ...common, '--threads', '1']);
      await waitFor(() => chunks.length === chunkCount, 120_000, 'every queued job priced');

      // 4. The first trainer stores the waiting chunks and trains, long before the producer's
      //    10-minute job timeout could have re-issued anything.
      const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('artifacts')]);
      await waitFor(() => of('modelReady').length + of('failed').length > 0, 180_000, 'the model');
      expect(of('failed')).toEqual([]);
      expect(of('modelReady')[0]?.experimentId).toBe(experimentId);
      expect(of('chunkAccepted')).toHaveLength(chunkCount);
      expect(jobs).toHaveLength(chunkCount);
      expect(chunks).toHaveLength(chunkCount);

      for (const p of [trainer, worker, producer]) p.child.kill('SIGTERM');
      for (const p of [trainer, worker, producer]) expect((await p.exited).code).toBe(0);
    } finally {
      await audit.close();
    }
  });
});
