import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLogger } from '@surrogate/core';
import { createMemoryBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { MetricsRegistry } from '@surrogate/observability';
import { checkDevice } from '@surrogate/nn';
import { chunkInputs, getPricer, priceColumns } from '@surrogate/pricing';
import { v1 } from '@surrogate/proto';
import { Codecs, encodeColumns, eventKind, purposeValue } from '@surrogate/protocol';
import { parseSpec, specFromWire, planChunks, specToWire } from '@surrogate/spec';
import { DatasetStore } from './dataset-store';
import { TrainerService, type TrainerOptions } from './trainer-service';

const SPEC = parseSpec(`
name: tr
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.01, volatility: 0.2}
inputs: {spot: {min: 80, max: 120}, maturity: {min: 0.5, max: 1.5}}
samples: 4096
chunkSize: 2048
seed: 5
training: {layers: [16, 16], epochs: 20, batchSize: 128}
validation: {samples: 1024, maxAbsError: 2, rmse: 1}
`);

function chunkFor(experimentId: string, purpose: 'training' | 'validation', index: number): v1.DataChunk {
  const plan = planChunks(SPEC).find((c) => c.purpose === purpose && c.index === index)!;
  const inputs = chunkInputs({
    sampler: purpose === 'training' ? 'sobol' : 'uniform',
    seed: SPEC.seed,
    box: SPEC.inputs,
    start: plan.start,
    count: plan.count,
  });
  const outputs = priceColumns(getPricer('black-scholes'), SPEC.fixed, ['spot', 'maturity'], inputs, [
    'price',
  ]);
  return v1.DataChunk.create({
    experimentId,
    purpose: purposeValue(purpose),
    chunkIndex: index,
    chunkCount: purpose === 'training' ? 2 : 1,
    startIndex: plan.start,
    sampleCount: plan.count,
    pricer: 'black-scholes',
    pricerVersion: '1.0.0',
    inputNames: ['spot', 'maturity'],
    outputNames: ['price'],
    inputs: encodeColumns(inputs, plan.count),
    outputs: encodeColumns(outputs, plan.count),
    spec: specToWire(SPEC),
    workerId: 'test',
    attempt: 1,
  });
}

/** A dataset of SPEC, created as the trainer creates one from an experiment's first chunk. */
function newDataset(dataDir: string, experimentId: string): Promise<DatasetStore> {
  const specBase64 = Buffer.from(v1.ExperimentSpec.encode(specToWire(SPEC)).finish()).toString('base64');
  return DatasetStore.open(dataDir, experimentId, { specBase64, inputDim: 2, outputDim: 1 });
}

/** Stores a chunk straight into a dataset, as a trainer that has since died would have. */
async function storeChunk(store: DatasetStore, experimentId: string, purpose: 'training' | 'validation', index: number): Promise<void> {
  const c = chunkFor(experimentId, purpose, index);
  await store.store({
    purpose,
    index,
    expected: c.chunkCount,
    start: Number(c.startIndex),
    count: c.sampleCount,
    inputs: c.inputs,
    outputs: c.outputs,
    workerId: 'w',
    pricerVersion: '1.0.0',
  });
}

describe('TrainerService', () => {
  let bus: Bus;
  let root: string;
  let trainer: TrainerService;
  const registry = new MetricsRegistry();
  const topics = new Topics();
  const events: v1.ExperimentEvent[] = [];
  const dead: string[] = [];
  const silent = createLogger({ name: 'trainer', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

  const publish = (c: v1.DataChunk | Uint8Array): Promise<unknown> =>
    bus.publish(topics.chunks, { payload: c instanceof Uint8Array ? c : Codecs.chunk.encode(c), key: 'x' });
  const kinds = (id: string): string[] => events.filter((e) => e.experimentId === id).map(eventKind);

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trainer-'));
    bus = createMemoryBus({ logger: createLogger({ name: 'bus', level: 'silent' }) });
    await bus.subscribe({
      topic: topics.events,
      subscription: 't',
      type: 'exclusive',
      handler: (m) => void events.push(Codecs.event.decode(m.payload)),
    });
    await bus.subscribe({
      topic: `${topics.chunks}-trainer-DLQ`,
      subscription: 't',
      type: 'exclusive',
      handler: (m) => void dead.push(m.properties.DEAD_LETTER_REASON ?? ''),
    });
    trainer = new TrainerService({
      bus,
      topics,
      dataDir: path.join(root, 'data'),
      artifactsRoot: path.join(root, 'artifacts'),
      logger: silent,
      metrics: registry,
    });
    await trainer.start();
  });
  afterAll(async () => {
    await trainer.stop();
    await bus.close();
  });

  it('stores each chunk once, trains when the dataset is complete, and reports duplicates', async () => {
    await publish(chunkFor('e1', 'training', 0));
    await publish(chunkFor('e1', 'training', 0));
    await publish(chunkFor('e1', 'validation', 0));
    await publish(chunkFor('e1', 'training', 1));
    await waitFor(
      () => kinds('e1').includes('modelReady') || kinds('e1').includes('failed'),
      60_000,
      'model',
    );
    const accepted = events
      .filter((e) => e.experimentId === 'e1' && e.chunkAccepted)
      .map((e) => e.chunkAccepted!);
    expect(accepted.map((a) => a.duplicate)).toEqual([false, true, false, false]);
    const ready = events.find((e) => e.experimentId === 'e1' && e.modelReady)!.modelReady!;
    expect(ready.modelUri).toBe(path.join(root, 'artifacts', 'e1', 'model.onnx'));
    const report = JSON.parse(await readFile(ready.reportUri as string, 'utf8'));
    expect(report.dataset).toMatchObject({
      chunksExpected: 3,
      chunksStored: 3,
      duplicatesDropped: 1,
      chunksReused: 0,
      chunksGenerated: 3,
      samples: 4096,
      validationSamples: 1024,
    });
    expect(report.pricer).toEqual({ name: 'black-scholes', version: '1.0.0' });
    expect(kinds('e1').indexOf('datasetReady')).toBeLessThan(kinds('e1').indexOf('modelReady'));
    expect(kinds('e1')).toContain('trainingProgress');
    // A chunk that arrives after the model was built is recognised, not trained again.
    await publish(chunkFor('e1', 'training', 1));
    await waitFor(() => events.filter((e) => e.experimentId === 'e1' && e.chunkAccepted).length === 5, 5000);
    expect(kinds('e1').filter((k) => k === 'modelReady')).toHaveLength(1);
    // what it counted for Prometheus
    const text = registry.exposition();
    expect(text).toContain('\nsurrogate_trainer_chunks_total{purpose="training",result="stored"} 2\n');
    expect(text).toContain('\nsurrogate_trainer_chunks_total{purpose="training",result="duplicate"} 2\n');
    expect(text).toContain('\nsurrogate_trainer_chunks_total{purpose="validation",result="stored"} 1\n');
    expect(text).toContain(`\nsurrogate_trainer_trainings_total{outcome="${ready.pass ? 'passed' : 'failed_validation'}"} 1\n`);
    expect(text).toContain('\nsurrogate_trainer_training_seconds_count 1\n');
    expect(text).toContain('\nsurrogate_trainer_trainings_running 0\n');
  }, 90_000);

  it("trains on chunks of a pricer it does not have (a client's own module stays in the client's cluster)", async () => {
    const clientOnly = (purpose: 'training' | 'validation', index: number): v1.DataChunk => {
      const c = chunkFor('e-plugin', purpose, index);
      c.pricer = 'client-only-pricer';
      c.spec = { ...specToWire(SPEC), pricer: 'client-only-pricer' };
      return c;
    };
    expect(() => specFromWire({ ...specToWire(SPEC), pricer: 'client-only-pricer' })).toThrow(/unknown pricer/); // not registered here
    for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await publish(clientOnly(purpose, index));
    await waitFor(() => kinds('e-plugin').includes('modelReady') || kinds('e-plugin').includes('failed'), 60_000, 'model');
    expect(kinds('e-plugin')).not.toContain('failed');
    const ready = events.find((e) => e.experimentId === 'e-plugin' && e.modelReady)?.modelReady;
    const report = JSON.parse(await readFile(ready?.reportUri as string, 'utf8'));
    expect(report.pricer).toEqual({ name: 'client-only-pricer', version: '1.0.0' });
    expect(dead.filter((d) => /client-only-pricer/.test(d))).toEqual([]);
  }, 90_000);

  it('dead-letters malformed and non-finite chunks with a reason, storing nothing', async () => {
    await publish(new Uint8Array([0x12, 0x05, 0x01]));
    const short = chunkFor('e2', 'training', 0);
    short.inputs = short.inputs.subarray(0, 100);
    await publish(short);
    const nan = chunkFor('e2', 'training', 1);
    const values = new Float32Array(
      nan.outputs.buffer.slice(nan.outputs.byteOffset, nan.outputs.byteOffset + nan.outputs.byteLength),
    );
    values[7] = Number.NaN;
    nan.outputs = new Uint8Array(values.buffer);
    await publish(nan);
    await waitFor(() => dead.length === 3, 5000, 'three dead letters');
    expect(dead[0]).toMatch(/not a valid surrogate\.v1\.DataChunk/);
    expect(dead[1]).toMatch(/inputs has 100 bytes, expected 16384/);
    expect(dead[2]).toMatch(/output value 7 is NaN; non-finite values are never trained on/);
    expect(existsSync(path.join(root, 'data', 'e2'))).toBe(false);
  });

  it('resumes a cancelled run with missing chunks when asked: stores them and trains', async () => {
    const dataDir = path.join(root, 'data-cancelled');
    const store = await newDataset(dataDir, 'e4');
    await storeChunk(store, 'e4', 'training', 0);
    await store.setStatus('cancelled', 'interrupted');
    await store.close();
    const resumed = new TrainerService({
      bus,
      topics,
      dataDir,
      artifactsRoot: path.join(root, 'artifacts'),
      logger: silent,
      subscription: 'resumed',
      resumeOnStart: { only: 'e4' },
    });
    await resumed.start();
    try {
      await publish(chunkFor('e4', 'training', 1));
      await publish(chunkFor('e4', 'validation', 0));
      await waitFor(() => kinds('e4').includes('modelReady'), 60_000, 'model of the resumed run');
      expect(existsSync(path.join(root, 'artifacts', 'e4', 'model.onnx'))).toBe(true);
    } finally {
      await resumed.stop();
    }
    const after = await DatasetStore.open(dataDir, 'e4');
    expect(after.counts('training')).toMatchObject({ stored: 2, expected: 2 });
    expect(after.status).toBe('done');
    await after.close();
    const report = JSON.parse(await readFile(path.join(root, 'artifacts', 'e4', 'report.json'), 'utf8'));
    expect(report.dataset).toMatchObject({ chunksStored: 3, chunksReused: 1, chunksGenerated: 2, duplicatesDropped: 0 });
  }, 90_000);

  describe('an experiment accepted again (resubmitted) whose dataset it holds', () => {
    // a bus of their own: the suite's trainer would otherwise take these chunks too
    let own: Bus;
    let service: TrainerService;
    const seen: v1.ExperimentEvent[] = [];
    const seenKinds = (id: string): string[] => seen.filter((e) => e.experimentId === id).map(eventKind);
    const send = (c: v1.DataChunk): Promise<unknown> => own.publish(topics.chunks, { payload: Codecs.chunk.encode(c), key: 'x' });
    /** Publishes an event as the producer would. */
    const announce = (id: string, body: Omit<v1.IExperimentEvent, 'experimentId'>): Promise<unknown> =>
      own.publish(topics.events, {
        payload: Codecs.event.encode(v1.ExperimentEvent.create({ ...body, experimentId: id, source: 'producer' })),
        key: id,
      });
    const accepted = { accepted: { spec: specToWire(SPEC), trainingChunks: 2, validationChunks: 1 } };
    const manifestHas = (dataDir: string, id: string, text: string) => async (): Promise<boolean> =>
      (await readFile(path.join(dataDir, id, 'manifest.jsonl'), 'utf8').catch(() => '')).includes(text);

    async function startOn(dataDir: string, options: Partial<TrainerOptions> = {}): Promise<void> {
      own = createMemoryBus({ logger: createLogger({ name: 'bus', level: 'silent' }) });
      await own.subscribe({
        topic: topics.events,
        subscription: 't',
        type: 'exclusive',
        handler: (m) => void seen.push(Codecs.event.decode(m.payload)),
      });
      service = new TrainerService({ bus: own, topics, dataDir, artifactsRoot: path.join(root, 'artifacts'), logger: silent, ...options });
      await service.start();
    }
    afterEach(async () => {
      await service.stop();
      await own.close();
    });

    it('collects again after a cancel: the missing chunks are stored, the held ones count as reused', async () => {
      const dataDir = path.join(root, 'data-resubmitted');
      await startOn(dataDir);
      await announce('e5', accepted);
      await send(chunkFor('e5', 'training', 0));
      await waitFor(() => seenKinds('e5').includes('chunkAccepted'), 5000, 'the first chunk');
      await announce('e5', { cancelled: { reason: 'interrupted' } });
      await waitFor(manifestHas(dataDir, 'e5', '"cancelled"'), 5000, 'cancelled');
      // a cancelled experiment's chunks are kept (a resubmission may need them), never trained on …
      await send(chunkFor('e5', 'training', 1));
      await waitFor(() => seenKinds('e5').filter((k) => k === 'chunkAccepted').length === 2, 5000, 'the chunk after the cancel');
      await send(chunkFor('e5', 'validation', 0)); // the dataset is complete now, and still cancelled
      await waitFor(() => seenKinds('e5').filter((k) => k === 'chunkAccepted').length === 3, 5000, 'the last chunk');
      await new Promise((r) => setTimeout(r, 200));
      expect(seenKinds('e5')).not.toContain('datasetReady');
      // … until it is accepted again: then it trains on what it holds
      await announce('e5', accepted);
      await waitFor(manifestHas(dataDir, 'e5', '"resumed"'), 5000, 'resumed');
      await waitFor(() => seenKinds('e5').includes('modelReady'), 60_000, 'model of the resubmitted run');
      const report = JSON.parse(await readFile(path.join(root, 'artifacts', 'e5', 'report.json'), 'utf8'));
      expect(report.dataset).toMatchObject({ chunksStored: 3, chunksReused: 3, chunksGenerated: 0, duplicatesDropped: 0 });
    }, 90_000);

    it('takes a late-read accepted of the submission whose chunks it holds for what it is (nothing reused), and another for a resubmission', async () => {
      const dataDir = path.join(root, 'data-late-accepted');
      const S = 1_700_000_000_001;
      const ofSubmission = (id: string, purpose: 'training' | 'validation', index: number): v1.DataChunk => {
        const c = chunkFor(id, purpose, index);
        c.submittedAtMs = S;
        return c;
      };
      await startOn(dataDir);
      for (const id of ['same', 'again']) {
        await send(ofSubmission(id, 'training', 0));
        await send(ofSubmission(id, 'training', 1));
      }
      await waitFor(() => ['same', 'again'].every((id) => seenKinds(id).filter((k) => k === 'chunkAccepted').length === 2), 5000, 'two chunks each');
      // the trainer restarts before it has read their accepted events
      await service.stop();
      await own.close();
      await startOn(dataDir);
      await announce('same', { accepted: { ...accepted.accepted, submittedAtMs: S } });
      await announce('again', { accepted: { ...accepted.accepted, submittedAtMs: S + 1000 } }); // submitted anew
      // events are handled in order: once the second is recorded, the first has been handled too
      await waitFor(manifestHas(dataDir, 'again', '"resumed"'), 5000, 'the resubmission recorded');
      for (const id of ['same', 'again']) await send(ofSubmission(id, 'validation', 0));
      await waitFor(() => ['same', 'again'].every((id) => seenKinds(id).includes('modelReady')), 90_000, 'both models');
      const dataset = async (id: string): Promise<unknown> => JSON.parse(await readFile(path.join(root, 'artifacts', id, 'report.json'), 'utf8')).dataset;
      expect(await dataset('same')).toMatchObject({ chunksStored: 3, chunksReused: 0, chunksGenerated: 3 });
      expect(await dataset('again')).toMatchObject({ chunksStored: 3, chunksReused: 2, chunksGenerated: 1 });
    }, 120_000);

    it('keeps a resubmission\'s chunks that arrive before its accepted, and trains once that arrives', async () => {
      const dataDir = path.join(root, 'data-early-chunks');
      await startOn(dataDir);
      await announce('e8', accepted);
      await send(chunkFor('e8', 'training', 0));
      await waitFor(() => seenKinds('e8').includes('chunkAccepted'), 5000, 'the first chunk');
      await announce('e8', { cancelled: { reason: 'user asked' } });
      await waitFor(manifestHas(dataDir, 'e8', '"cancelled"'), 5000, 'cancelled');
      // resubmitted: its workers' chunks overtake its accepted event
      await send(chunkFor('e8', 'training', 1));
      await send(chunkFor('e8', 'validation', 0));
      await waitFor(() => seenKinds('e8').filter((k) => k === 'chunkAccepted').length === 3, 5000, 'the early chunks');
      await announce('e8', accepted);
      await waitFor(() => seenKinds('e8').includes('modelReady'), 60_000, 'model of the resubmission');
      expect(seenKinds('e8').filter((k) => k === 'chunkAccepted')).toHaveLength(3);
    }, 90_000);

    it('a chunk of an experiment cancelled before its first chunk is stored as cancelled: never trained on', async () => {
      const dataDir = path.join(root, 'data-cancelled-first');
      await startOn(dataDir);
      await announce('e9', { cancelled: { reason: 'user asked' } });
      await new Promise((r) => setTimeout(r, 100));
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('e9', purpose, index));
      await waitFor(() => seenKinds('e9').filter((k) => k === 'chunkAccepted').length === 3, 5000, 'the chunks');
      await waitFor(manifestHas(dataDir, 'e9', '"cancelled"'), 5000, 'the dataset marked cancelled');
      await new Promise((r) => setTimeout(r, 300));
      expect(seenKinds('e9')).not.toContain('datasetReady');
    }, 30_000);

    it("a producer's failure ends collection as a cancel does, before the first chunk or after some; the trainer's own failure events change nothing", async () => {
      const dataDir = path.join(root, 'data-failed-by-producer');
      await startOn(dataDir);
      // before the first chunk
      await announce('e13', { failed: { code: 'JOB_ATTEMPTS_EXHAUSTED', stage: 'datagen', reason: 'chunk 1 kept failing' } });
      await new Promise((r) => setTimeout(r, 100));
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('e13', purpose, index));
      await waitFor(() => seenKinds('e13').filter((k) => k === 'chunkAccepted').length === 3, 5000, 'the chunks of e13');
      await waitFor(manifestHas(dataDir, 'e13', '"cancelled"'), 5000, 'e13 marked ended');
      // after some chunks: the dataset is marked failed, and the last chunks start no training
      await send(chunkFor('e14', 'training', 0));
      await waitFor(() => seenKinds('e14').includes('chunkAccepted'), 5000, 'the first chunk of e14');
      await announce('e14', { failed: { code: 'JOB_ATTEMPTS_EXHAUSTED', stage: 'datagen', reason: 'chunk 1 kept failing' } });
      await waitFor(manifestHas(dataDir, 'e14', 'chunk 1 kept failing'), 5000, 'e14 marked failed');
      for (const [purpose, index] of [['training', 1], ['validation', 0]] as const) await send(chunkFor('e14', purpose, index));
      await waitFor(() => seenKinds('e14').filter((k) => k === 'chunkAccepted').length === 3, 5000, 'the chunks of e14');
      // a failure this trainer itself announced (source trainer) is not taken as one from elsewhere
      await own.publish(topics.events, {
        payload: Codecs.event.encode(v1.ExperimentEvent.create({ experimentId: 'e15', source: 'trainer', failed: { code: 'X', stage: 'training', reason: 'own' } })),
        key: 'e15',
      });
      await new Promise((r) => setTimeout(r, 100));
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('e15', purpose, index));
      await waitFor(() => seenKinds('e15').includes('datasetReady'), 10_000, 'e15 collected and trained');
      await new Promise((r) => setTimeout(r, 300));
      expect(seenKinds('e13')).not.toContain('datasetReady');
      expect(seenKinds('e14')).not.toContain('datasetReady');
      await service.idle('e15');
    }, 90_000);

    it('remembers across a restart a cancel that came before the first chunk: the late chunks are stored as cancelled', async () => {
      const dataDir = path.join(root, 'data-cancelled-first-restart');
      await startOn(dataDir);
      await announce('e12', { cancelled: { reason: 'user asked' } });
      await waitFor(() => existsSync(path.join(dataDir, 'cancelled-before-data.jsonl')), 5000, 'the cancel on disk');
      // the cancel was taken (acknowledged); this trainer dies and the next one starts on the same directory
      await service.stop();
      service = new TrainerService({ bus: own, topics, dataDir, artifactsRoot: path.join(root, 'artifacts'), logger: silent });
      await service.start();
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('e12', purpose, index));
      await waitFor(() => seenKinds('e12').filter((k) => k === 'chunkAccepted').length === 3, 5000, 'the chunks');
      await waitFor(manifestHas(dataDir, 'e12', '"cancelled"'), 5000, 'the dataset marked cancelled');
      await new Promise((r) => setTimeout(r, 300));
      expect(seenKinds('e12')).not.toContain('datasetReady');
      // submitted again: it runs, also after one more restart
      await announce('e12', accepted);
      await waitFor(() => seenKinds('e12').includes('modelReady'), 60_000, 'model of the resubmission');
    }, 90_000);

    it('collects and trains an experiment submitted again after a cancel that came before its first chunk', async () => {
      const dataDir = path.join(root, 'data-cancelled-early-resubmitted');
      await startOn(dataDir);
      await announce('e10', { cancelled: { reason: 'user asked' } });
      await announce('e10', accepted); // submitted again
      await new Promise((r) => setTimeout(r, 100));
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('e10', purpose, index));
      await waitFor(() => seenKinds('e10').includes('modelReady'), 60_000, 'model of the resubmission');
    }, 90_000);

    it('fails an experiment at once when it is accepted asking for a device this trainer cannot train on', async () => {
      await startOn(path.join(root, 'data-device'));
      const usable = await checkDevice('cuda').then(
        () => true,
        () => false,
      );
      const cuda = specToWire({ ...SPEC, training: { ...SPEC.training, device: 'cuda' } });
      await announce('e-cuda', { accepted: { spec: cuda, trainingChunks: 2, validationChunks: 1 } });
      await announce('e-cpu', accepted);
      if (usable) {
        await new Promise((r) => setTimeout(r, 300));
        expect(seenKinds('e-cuda')).not.toContain('failed');
      } else {
        await waitFor(() => seenKinds('e-cuda').includes('failed'), 10_000, 'the refusal');
        const failed = seen.find((e) => e.experimentId === 'e-cuda' && e.failed)?.failed;
        expect(failed).toMatchObject({ code: 'NN_DEVICE_UNAVAILABLE', stage: 'training' });
        expect(failed?.reason).toMatch(/^training\.device: device cuda: onnxruntime's CUDA execution provider is not installed here/);
      }
      // a CPU experiment is never refused
      expect(seenKinds('e-cpu')).not.toContain('failed');
    });

    it('fails an experiment at once when it is accepted with the relative loss on a training set it would stream', async () => {
      await startOn(path.join(root, 'data-stream'), { memoryBudgetBytes: 64 * 1024 }); // 64 KiB: SPEC's training set is streamed
      const relative = specToWire({ ...SPEC, training: { ...SPEC.training, loss: 'relative' } });
      await announce('e-relative', { accepted: { spec: relative, trainingChunks: 2, validationChunks: 1 } });
      await announce('e-mse', accepted);
      await waitFor(() => seenKinds('e-relative').includes('failed'), 10_000, 'the refusal');
      const failed = seen.find((e) => e.experimentId === 'e-relative' && e.failed)?.failed;
      expect(failed).toMatchObject({ code: 'RELATIVE_LOSS_STREAMED', stage: 'training' });
      expect(failed?.reason).toMatch(/^training\.loss: relative: not available when the training set is streamed from disk.*64 KiB.*use loss mse/);
      expect(seenKinds('e-mse')).not.toContain('failed'); // streamed with the mse loss is fine
    });

    it('trains one complete dataset at a time: the others wait for the slot in turn, and a cancelled one never trains', async () => {
      const dataDir = path.join(root, 'data-slots');
      const ids = ['s1', 's2', 's3'];
      for (const id of ids) {
        const store = await newDataset(dataDir, id);
        for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await storeChunk(store, id, purpose, index);
        await store.close();
      }
      await startOn(dataDir, { maxConcurrentTrainings: 1 }); // the three were complete when a trainer died: all resume
      await waitFor(() => ids.every((id) => seenKinds(id).includes('datasetReady')), 10_000, 'all three announced ready');
      const index = (id: string, kind: string): number => seen.findIndex((e) => e.experimentId === id && eventKind(e) === kind);
      await waitFor(() => ids.some((id) => index(id, 'trainingProgress') >= 0), 30_000, 'one training');
      const first = ids.find((id) => index(id, 'trainingProgress') >= 0) as string;
      const [cancelled, last] = ids.filter((id) => id !== first) as [string, string];
      expect(index(cancelled, 'trainingProgress')).toBe(-1);
      await announce(cancelled, { cancelled: { reason: 'user asked' } });
      await waitFor(() => seenKinds(last).includes('modelReady'), 60_000, 'the model of the last one');
      expect(index(first, 'modelReady')).toBeGreaterThanOrEqual(0);
      // one at a time: the last one's training began after the first one's had ended
      expect(index(last, 'trainingProgress')).toBeGreaterThan(index(first, 'modelReady'));
      expect(seenKinds(cancelled).filter((k) => k === 'trainingProgress' || k === 'modelReady')).toEqual([]);
    }, 120_000);

    it('trains a complete one at once, and ignores an accepted experiment it holds nothing of', async () => {
      const dataDir = path.join(root, 'data-complete');
      const store = await newDataset(dataDir, 'e6');
      for (const [purpose, index] of [
        ['training', 0],
        ['training', 1],
        ['validation', 0],
      ] as const)
        await storeChunk(store, 'e6', purpose, index);
      await store.setStatus('cancelled', 'interrupted');
      await store.close();
      await startOn(dataDir);
      await new Promise((r) => setTimeout(r, 200));
      expect(seenKinds('e6')).toHaveLength(0); // cancelled: not trained on start
      await announce('e7', accepted);
      await announce('e6', accepted);
      await waitFor(() => seenKinds('e6').includes('modelReady'), 60_000, 'model of the complete dataset');
      const report = JSON.parse(await readFile(path.join(root, 'artifacts', 'e6', 'report.json'), 'utf8'));
      expect(report.dataset).toMatchObject({ chunksStored: 3, chunksReused: 3, chunksGenerated: 0 });
      expect(report.timings.datagenSeconds).toBe(0);
      expect(existsSync(path.join(dataDir, 'e7'))).toBe(false);
      // a redelivered accepted of a finished experiment changes nothing
      await announce('e6', accepted);
      await new Promise((r) => setTimeout(r, 200));
      expect(seenKinds('e6').filter((k) => k === 'modelReady')).toHaveLength(1);
    }, 90_000);
  });

  describe('when the broker does not take an event', () => {
    // a bus of their own: the suite's trainer would otherwise take these chunks too
    let own: Bus;
    const started: TrainerService[] = [];
    const seen: v1.ExperimentEvent[] = [];
    const seenKinds = (id: string): string[] => seen.filter((e) => e.experimentId === id).map(eventKind);
    const send = (c: v1.DataChunk): Promise<unknown> => own.publish(topics.chunks, { payload: Codecs.chunk.encode(c), key: 'x' });
    const manifestLines = async (dataDir: string, id: string): Promise<{ type: string; status?: string }[]> =>
      (await readFile(path.join(dataDir, id, 'manifest.jsonl'), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { type: string; status?: string });
    const lastStatus = async (dataDir: string, id: string): Promise<string | undefined> =>
      (await manifestLines(dataDir, id)).filter((r) => r.type === 'status').pop()?.status;

    /** The bus, except that publishing an event `refuse` picks fails, as when the broker does not confirm it. */
    function refusing(refuse: (e: v1.ExperimentEvent) => boolean): Bus {
      return {
        publish: async (topic, message) => {
          if (topic === topics.events && refuse(Codecs.event.decode(message.payload))) throw new Error('the broker did not confirm the event (test)');
          return own.publish(topic, message);
        },
        subscribe: (o) => own.subscribe(o),
        ensureSubscription: (o) => own.ensureSubscription(o),
        close: () => own.close(),
      };
    }
    async function startOn(dataDir: string, bus: Bus, options: Partial<ConstructorParameters<typeof TrainerService>[0]> = {}): Promise<TrainerService> {
      const service = new TrainerService({ bus, topics, dataDir, artifactsRoot: path.join(root, 'artifacts'), logger: silent, ...options });
      started.push(service);
      await service.start();
      return service;
    }
    beforeEach(async () => {
      own = createMemoryBus({ logger: createLogger({ name: 'bus', level: 'silent' }) });
      await own.subscribe({ topic: topics.events, subscription: 't', type: 'exclusive', handler: (m) => void seen.push(Codecs.event.decode(m.payload)) });
    });
    afterEach(async () => {
      for (const s of started.splice(0)) await s.stop();
      await own.close();
    });

    it('trains when the last chunk comes again because its ChunkAccepted failed after it was stored', async () => {
      const dataDir = path.join(root, 'data-accepted-refused');
      let refused = 0;
      const bus = refusing((e) => e.experimentId === 'f1' && e.chunkAccepted?.purpose === purposeValue('validation') && refused++ === 0);
      await startOn(dataDir, bus);
      await send(chunkFor('f1', 'training', 0));
      await send(chunkFor('f1', 'training', 1));
      await send(chunkFor('f1', 'validation', 0)); // stored, then its handler fails: redelivered as a duplicate
      await waitFor(() => seenKinds('f1').includes('modelReady'), 60_000, 'the model');
      expect(refused).toBe(2);
      expect(seen.filter((e) => e.experimentId === 'f1' && e.chunkAccepted).map((e) => e.chunkAccepted?.duplicate)).toEqual([false, false, true]);
    }, 90_000);

    it('announces the model again until the broker takes it, and records the run done only then', async () => {
      const dataDir = path.join(root, 'data-ready-refused');
      let refused = 0;
      const bus = refusing((e) => e.experimentId === 'f2' && eventKind(e) === 'modelReady' && refused++ < 2);
      await startOn(dataDir, bus, { eventRetryMs: 50 });
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('f2', purpose, index));
      await waitFor(() => refused >= 1, 60_000, 'the first ModelReady refused');
      expect(await lastStatus(dataDir, 'f2')).toBe('training');
      await waitFor(() => seenKinds('f2').includes('modelReady'), 10_000, 'the model announced');
      expect(refused).toBe(3);
      await waitFor(async () => (await lastStatus(dataDir, 'f2')) === 'done', 5000, 'the run recorded as done');
    }, 90_000);

    it('a trainer stopped (or killed) before its ModelReady was taken leaves the run to the next one, which announces it', async () => {
      const dataDir = path.join(root, 'data-ready-never');
      let refuse = true;
      const first = await startOn(dataDir, refusing((e) => refuse && e.experimentId === 'f3' && eventKind(e) === 'modelReady'), { eventRetryMs: 50 });
      for (const [purpose, index] of [['training', 0], ['training', 1], ['validation', 0]] as const) await send(chunkFor('f3', purpose, index));
      await waitFor(() => existsSync(path.join(root, 'artifacts', 'f3', 'report.json')), 60_000, 'the model written');
      await new Promise((r) => setTimeout(r, 200));
      await first.stop();
      started.splice(started.indexOf(first), 1);
      expect(seenKinds('f3')).not.toContain('modelReady');
      expect(await lastStatus(dataDir, 'f3')).toBe('training');
      refuse = false;
      await startOn(dataDir, own);
      await waitFor(() => seenKinds('f3').includes('modelReady'), 60_000, 'the model announced by the next trainer');
      await waitFor(async () => (await lastStatus(dataDir, 'f3')) === 'done', 5000, 'the run recorded as done');
    }, 90_000);
  });

  it('trains a dataset that was complete when a previous trainer died, whether or not it had recorded that it trains', async () => {
    // a directory of its own: the datasets a dead trainer left (this file's running trainer holds root/data)
    const dataDir = path.join(root, 'data-left-behind');
    // e3: died while training; e3c: died after storing the last chunk, before recording that it trains
    for (const id of ['e3', 'e3c']) {
      const store = await newDataset(dataDir, id);
      for (const [purpose, index] of [
        ['training', 0],
        ['training', 1],
        ['validation', 0],
      ] as const)
        await storeChunk(store, id, purpose, index);
      if (id === 'e3') await store.setStatus('training');
      await store.close();
    }
    const second = new TrainerService({
      bus,
      topics,
      dataDir,
      artifactsRoot: path.join(root, 'artifacts'),
      logger: silent,
      subscription: 'second',
    });
    await second.start();
    try {
      await waitFor(() => kinds('e3').includes('modelReady') && kinds('e3c').includes('modelReady'), 60_000, 'resumed models');
      expect(existsSync(path.join(root, 'artifacts', 'e3', 'report.json'))).toBe(true);
      expect(existsSync(path.join(root, 'artifacts', 'e3c', 'report.json'))).toBe(true);
    } finally {
      await second.stop();
    }
  }, 90_000);
});
