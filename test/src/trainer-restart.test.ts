import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs, purposeName } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import { TopicAudit } from './topic-audit';
import type { ServiceProcess } from './service-process';
import { SystemScene } from './system-scene';
import { BLACK_SCHOLES_BOX, HESTON_BOX } from './spec-boxes';

/**
 * A trainer SIGKILLed at each moment of an experiment's life, and restarted at once with the same
 * --artifacts and --data directories, loses nothing: every experiment reaches ModelReady, every
 * chunk is stored exactly once, and a training interrupted after a checkpoint carries on from it.
 *
 * One producer and one single-threaded datagen worker serve the whole file; the trainer is the
 * process that dies. No job is re-issued: a chunk the trainer had not acknowledged when it died is
 * redelivered by the broker to the next trainer, and chunks published while no trainer runs wait in
 * its durable subscription. The producer's job timeout is short (15 s: a lost chunk would be
 * re-issued within the test's time and show up as a JobReissued event), and the test asserts that
 * none was needed.
 */

const JOB_TIMEOUT_MS = 15_000;

/**
 * a. Chunks arriving: 16 Heston chunks of 4096 samples take one worker thread a few seconds
 * (~0.15 s a chunk), so the trainer can be killed with some stored and the rest still to come.
 */
const ARRIVING = `name: restart-arriving
${HESTON_BOX}
samples: 65536
chunkSize: 4096
seed: 3
training: {layers: [16], epochs: 4, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 1000, rmse: 1000}   # delivery and resumption, not accuracy
`;

/**
 * b. Training, after a checkpoint: 400 epochs of 16,384 samples through a [32, 32] network (and
 * the validation loss after each) take ~3.6 s on this 2-core host (~1.8 M samples/s), at least
 * ~1 s on a host several times faster; a checkpoint every 0.2 s.
 */
const TRAINING = `name: restart-training
${BLACK_SCHOLES_BOX}
samples: 16384
chunkSize: 4096
seed: 4
training: {layers: [32, 32], epochs: 400, batchSize: 256, checkpointSeconds: 0.2}
validation: {samples: 4096, maxAbsError: 1000, rmse: 1000}
`;

/**
 * c. The dataset complete, training not begun: killed as the trainer logs that the dataset is
 * complete (it has recorded that it trains and published DatasetReady), ~0.5 s before the training
 * thread has built its step graph and taken a step; no checkpoint can exist (one every 60 s).
 * The moment before that, with the last chunk in the manifest but 'training' not yet recorded, lasts
 * one ChunkAccepted publish (a millisecond or two), too short for a kill from outside to land in
 * reliably; a restart treats both states alike (a complete dataset that has not finished is
 * trained), and the trainer's unit test "trains a dataset that was complete when a previous trainer
 * died" covers that one.
 */
const COMPLETE = `name: restart-complete
${BLACK_SCHOLES_BOX}
samples: 16384
chunkSize: 4096
seed: 5
training: {layers: [32, 32], epochs: 20, batchSize: 256, checkpointSeconds: 60}
validation: {samples: 4096, maxAbsError: 1000, rmse: 1000}
`;

/**
 * d. Validation and export: 2^19 held-out points make them last ~0.3 s here (the exported model
 * predicts every point, the errors are ranked, report.html is drawn), a window the kill, on the
 * trainer's own log line that training finished, lands in.
 */
const VALIDATING = `name: restart-validating
${BLACK_SCHOLES_BOX}
samples: 16384
chunkSize: 32768
seed: 6
training: {layers: [32, 32], epochs: 100, batchSize: 256, checkpointSeconds: 0.2}
validation: {samples: 524288, maxAbsError: 1000, rmse: 1000}
`;

interface ManifestLine {
  type: string;
  purpose?: string;
  index?: number;
  status?: string;
}

interface Report {
  dataset: { chunksExpected: number; chunksStored: number; duplicatesDropped: number; chunksReused: number; samples: number };
  training: { steps: number; resumedFromStep: number };
}

describe('a trainer SIGKILLed at any moment and restarted with the same directories, over Pulsar', () => {
  const scene = new SystemScene('e2e-trainer-restart');
  let audit: TopicAudit;
  let trainer: ServiceProcess;
  let common: string[];
  const artifacts = (): string => scene.file('artifacts');
  const data = (): string => scene.file('data');
  const trainerArgs = (): string[] => ['trainer', ...common, '--artifacts', artifacts(), '--data', data()];

  beforeAll(async () => {
    common = scene.common;
    audit = await TopicAudit.open(scene.url, scene.topics);
    const producer = scene.start('producer', ['producer', ...common, '--job-timeout-ms', String(JOB_TIMEOUT_MS)]);
    const worker = scene.start('worker', ['datagen-worker', ...common, '--threads', '1']);
    trainer = scene.start('trainer', trainerArgs());
    for (const p of [producer, worker, trainer]) await p.waitFor(/"msg":"running/);
  }, 120_000);

  afterAll(async () => {
    await audit?.close();
  });

  /** Submits a spec under an id of the test's own, as `surrogate submit` would. */
  async function submit(yaml: string): Promise<{ id: string; chunks: number }> {
    const spec = parseSpec(yaml);
    const id = `${spec.name}-${Date.now().toString(36)}`;
    await audit.bus.publish(scene.topics.experiments, {
      payload: Codecs.command.encode(v1.ExperimentCommand.create({ experimentId: id, issuedAtMs: Date.now(), submit: { spec: specToWire(spec) } })),
      key: id,
    });
    await waitFor(() => audit.of('accepted', id).length === 1, 30_000, `${id} accepted`);
    const a = audit.of('accepted', id)[0]?.accepted as v1.IExperimentAccepted;
    return { id, chunks: Number(a.trainingChunks) + Number(a.validationChunks) };
  }

  /** SIGKILLs the trainer (at once, or the moment its stderr matches `when`) and waits for it to die. */
  async function killTrainer(when?: RegExp, timeoutMs = 60_000): Promise<void> {
    const victim = trainer;
    if (when) {
      // Killed from the stderr listener itself, within a millisecond or so of the line.
      const stderr = victim.child.stderr;
      if (!stderr) throw new Error('the trainer has no stderr');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`trainer: no ${when} within ${timeoutMs} ms:\n${victim.tail()}`)), timeoutMs);
        const check = (): void => {
          if (!when.test(victim.stderr)) return;
          victim.child.kill('SIGKILL');
          stderr.off('data', check);
          clearTimeout(timer);
          resolve();
        };
        stderr.on('data', check);
        check();
      });
    } else victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
  }

  /** A new trainer on the same directories. */
  async function restartTrainer(): Promise<void> {
    trainer = scene.start('trainer', trainerArgs());
    await trainer.waitFor(/"msg":"running/);
  }

  async function manifest(id: string): Promise<ManifestLine[]> {
    const text = await readFile(path.join(data(), id, 'manifest.jsonl'), 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ManifestLine);
  }
  const storedChunks = (lines: ManifestLine[]): string[] => lines.filter((l) => l.type === 'chunk').map((l) => `${l.purpose}/${l.index}`);
  const checkpoint = (id: string): string => path.join(data(), id, 'checkpoint.bin');
  const logLine = (id: string, msg: string): RegExp => new RegExp(`"experimentId":"${id}"[^\\n]*"msg":"${msg}"`);

  /**
   * What every case must end with: its ModelReady, every chunk in the manifest exactly once (and
   * as many duplicates dropped as the report says), every chunk accepted, no job issued twice, the
   * checkpoint gone. Returns the report.
   */
  async function expectDelivered(id: string, chunks: number): Promise<Report> {
    await waitFor(() => audit.of('modelReady', id).length + audit.of('failed', id).length > 0, 90_000, `${id}: the model`);
    expect(audit.of('failed', id)).toEqual([]);
    const ready = audit.of('modelReady', id)[0]?.modelReady as v1.IModelReady;
    expect(ready.modelUri).toBe(path.join(artifacts(), id, 'model.onnx'));
    const report = JSON.parse(await readFile(path.join(artifacts(), id, 'report.json'), 'utf8')) as Report;
    // once the broker has taken the ModelReady (the audit may see it first), the run is recorded
    // done, then its checkpoint deleted
    const recordedDone = async (): Promise<boolean> =>
      (await manifest(id)).filter((l) => l.type === 'status').pop()?.status === 'done' && !existsSync(checkpoint(id));
    await waitFor(recordedDone, 10_000, `${id}: the run recorded done and its checkpoint deleted`);

    const lines = await manifest(id);
    const stored = storedChunks(lines);
    expect(stored).toHaveLength(chunks);
    expect(new Set(stored).size).toBe(chunks); // each exactly once
    expect(report.dataset.chunksExpected).toBe(chunks);
    expect(report.dataset.chunksStored).toBe(chunks);
    expect(report.dataset.chunksReused).toBe(0); // no resubmission: a restart is not one
    expect(report.dataset.duplicatesDropped).toBe(lines.filter((l) => l.type === 'duplicate').length);
    expect(lines.filter((l) => l.type === 'status').pop()?.status).toBe('done');
    const accepted = audit.of('chunkAccepted', id).map((e) => e.chunkAccepted as v1.IChunkAccepted);
    expect(new Set(accepted.map((a) => `${purposeName(a.purpose)}/${a.chunkIndex}`)).size).toBe(chunks);

    // not one job re-issued: nothing the trainer took was lost, so nothing was priced twice
    expect(audit.of('jobReissued', id)).toEqual([]);
    expect(audit.jobs.filter((j) => j.job.experimentId === id)).toHaveLength(chunks);
    return report;
  }

  it('a. killed while chunks are arriving: the stored ones stay, the rest wait in its subscription, none is priced twice', async () => {
    const { id, chunks } = await submit(ARRIVING);
    await waitFor(() => audit.of('chunkAccepted', id).length >= 4, 60_000, `${id}: four chunks stored`);
    await killTrainer();
    const heldAtKill = new Set(storedChunks(await manifest(id))).size;
    const pricedAtKill = audit.chunks.filter((c) => c.experimentId === id).length;
    expect(heldAtKill).toBeGreaterThanOrEqual(4);
    expect(heldAtKill).toBeLessThan(chunks);
    await restartTrainer();
    // the worker went on pricing while no trainer ran
    expect(audit.chunks.filter((c) => c.experimentId === id).length).toBeGreaterThan(pricedAtKill);

    const report = await expectDelivered(id, chunks);
    expect(report.training.resumedFromStep).toBe(0);
    process.stderr.write(
      `a: ${heldAtKill} of ${chunks} chunks stored at the kill; ${report.dataset.duplicatesDropped} redelivered as duplicates\n`,
    );
  });

  it('b. killed while training, after a checkpoint: the next trainer carries on from the checkpoint', async () => {
    const { id, chunks } = await submit(TRAINING);
    await waitFor(() => existsSync(checkpoint(id)), 60_000, `${id}: a checkpoint`, 2);
    await killTrainer();
    expect(audit.of('modelReady', id)).toEqual([]); // killed before training ended
    expect(existsSync(checkpoint(id))).toBe(true);
    await restartTrainer();

    const report = await expectDelivered(id, chunks);
    expect(report.training.resumedFromStep).toBeGreaterThan(0);
    expect(report.training.resumedFromStep).toBeLessThan(report.training.steps);
    process.stderr.write(`b: resumed from step ${report.training.resumedFromStep} of ${report.training.steps}\n`);
  });

  it('c. killed once the dataset is complete, before training has begun: the next trainer trains it from the start', async () => {
    const { id, chunks } = await submit(COMPLETE);
    await killTrainer(logLine(id, 'dataset complete; training'));
    expect(new Set(storedChunks(await manifest(id))).size).toBe(chunks);
    expect(existsSync(checkpoint(id))).toBe(false);
    expect(existsSync(path.join(artifacts(), id))).toBe(false);
    await restartTrainer();

    const report = await expectDelivered(id, chunks);
    expect(report.training.resumedFromStep).toBe(0);
  });

  it('d. killed during validation and export: the next trainer finishes from the last checkpoint', async () => {
    const { id, chunks } = await submit(VALIDATING);
    await killTrainer(logLine(id, 'training finished; validating and exporting'));
    expect(audit.of('modelReady', id)).toEqual([]);
    // the kill landed before the report was written, and the checkpoint is still there
    expect(existsSync(path.join(artifacts(), id, 'report.json'))).toBe(false);
    expect(existsSync(checkpoint(id))).toBe(true);
    await restartTrainer();

    const report = await expectDelivered(id, chunks);
    expect(report.training.resumedFromStep).toBeGreaterThan(0);
  });

  it('trains nothing again that had finished: one model each, also after one more restart', async () => {
    await killTrainer();
    const readyBefore = audit.of('datasetReady').length;
    await restartTrainer();
    await new Promise((r) => setTimeout(r, 1000));
    expect(audit.of('datasetReady')).toHaveLength(readyBefore);
    for (const name of ['restart-arriving', 'restart-training', 'restart-complete', 'restart-validating'])
      expect(audit.of('modelReady').filter((e) => e.experimentId.startsWith(`${name}-`))).toHaveLength(1);
    trainer.child.kill('SIGTERM');
    expect((await trainer.exited).code).toBe(0);
  });
});
