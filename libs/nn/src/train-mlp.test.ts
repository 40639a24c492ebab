import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkDevice, computeOutputStats, exportInferenceModel, InferenceModel, trainMlp, TrainingDivergedError, type MlpConfig, type Normalization, type TrainConfig, type TrainingData, type TrainProgress } from './index';
import { predictModelRaw, predictRaw } from './mlp-reference';
import { stageEpochs } from './train-types';
import { DIVERGED_LOSS } from './train-loop';
import { Rng } from './rng';

const mlp: MlpConfig = { inputDim: 2, outputDim: 1, hiddenLayers: [16, 16], activation: 'silu' };
const box = { min: [0, -2], max: [3, 2] };
const f = (a: number, b: number): number => 10 + 2 * Math.sin(a) + 0.5 * b * b;

function makeData(count: number, seed: number, shared = false): TrainingData {
  const rng = new Rng(seed);
  const inputs = new Float32Array(shared ? new SharedArrayBuffer(count * 8) : new ArrayBuffer(count * 8));
  const outputs = new Float32Array(shared ? new SharedArrayBuffer(count * 4) : new ArrayBuffer(count * 4));
  for (let i = 0; i < count; i++) {
    inputs[2 * i] = box.min[0] + rng.nextFloat() * (box.max[0] - box.min[0]);
    inputs[2 * i + 1] = box.min[1] + rng.nextFloat() * (box.max[1] - box.min[1]);
    outputs[i] = f(inputs[2 * i], inputs[2 * i + 1]);
  }
  return { inputs, outputs, count };
}

function normalizationOf(data: TrainingData): Normalization {
  const s = computeOutputStats(data.outputs, data.count, 1);
  return { inputMin: box.min, inputMax: box.max, outputMean: s.mean, outputStd: s.std };
}

const config: TrainConfig = { epochs: 6, batchSize: 16, learningRate: 1e-2, finalLearningRate: 1e-4, seed: 7, threads: 1 };

describe('trainMlp', () => {
  const data = makeData(4096, 1);
  const normalization = normalizationOf(data);

  it('learns a smooth function, reports progress per epoch and keeps the event loop free', async () => {
    const progress: TrainProgress[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const inputsBefore = Float32Array.from(data.inputs);
    const started = Date.now();
    const model = await trainMlp(data, mlp, normalization, config, { onProgress: (p) => progress.push(p) });
    const elapsed = Date.now() - started;
    clearInterval(timer);

    expect(ticks).toBeGreaterThan(elapsed / 5 / 4); // the main thread kept running timers while training
    expect(data.inputs).toEqual(inputsBefore); // caller's data untouched
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress[5]).toMatchObject({ epochs: 6, step: 6 * 256 });
    expect(progress.every((p) => p.samplesPerSec > 0 && p.learningRate > 0)).toBe(true);
    expect(model.steps).toBe(6 * 256);
    expect(model.epochs).toBe(6);
    expect(model.lossHistory).toHaveLength(6);
    expect(model.lossHistory[5]).toBeLessThan(model.lossHistory[0] / 10);
    expect(model.finalLoss).toBeLessThan(2e-3);
    expect(model.parameters.map((p) => p.length)).toEqual([32, 16, 256, 16, 16, 1]);

    // the exported ONNX model reproduces the trained network and the target function
    const test = makeData(500, 99);
    const im = await InferenceModel.load(exportInferenceModel(model, { inputNames: ['a', 'b'], outputNames: ['f'] }));
    const y = await im.predict(test.inputs, test.count);
    await im.close();
    const ref = predictRaw(model.mlp, model.normalization, model.parameters, test.inputs, test.count);
    let se = 0;
    for (let i = 0; i < test.count; i++) {
      expect(y[i]).toBeCloseTo(ref[i], 3);
      se += (y[i] - test.outputs[i]) ** 2;
    }
    expect(Math.sqrt(se / test.count)).toBeLessThan(0.1 * normalization.outputStd[0]);
    // finalLoss is the plain MSE of the final model over the training set, in normalized units
    const fit = predictRaw(model.mlp, model.normalization, model.parameters, data.inputs, data.count);
    let trainSe = 0;
    for (let i = 0; i < data.count; i++) trainSe += ((fit[i] - data.outputs[i]) / normalization.outputStd[0]) ** 2;
    expect(model.finalLoss).toBeCloseTo(trainSe / data.count, 6);
  });

  it('answers an output that is constant over the training set exactly, whatever the loss', async () => {
    // outputs: f (varies), 0 and 2.5 everywhere; the relative loss would weigh a constant 0 ~10^4 times f
    const K = 3;
    const wide: MlpConfig = { ...mlp, outputDim: K };
    const d = makeData(1024, 3);
    const outputs = new Float32Array(d.count * K);
    for (let i = 0; i < d.count; i++) outputs.set([d.outputs[i], 0, 2.5], i * K);
    const s = computeOutputStats(outputs, d.count, K);
    const norm: Normalization = { inputMin: box.min, inputMax: box.max, outputMean: s.mean, outputStd: s.std };
    for (const loss of [undefined, { kind: 'relative' as const }]) {
      const model = await trainMlp({ inputs: d.inputs, outputs, count: d.count }, wide, norm, { ...config, epochs: 3, stages: 2, ...(loss ? { loss } : {}) });
      const test = makeData(300, 5);
      const im = await InferenceModel.load(exportInferenceModel(model, { inputNames: ['a', 'b'], outputNames: ['f', 'zero', 'c'] }));
      const y = await im.predict(test.inputs, test.count);
      await im.close();
      let se = 0;
      for (let i = 0; i < test.count; i++) {
        expect([y[i * K + 1], y[i * K + 2]]).toEqual([0, 2.5]);
        se += (y[i * K] - test.outputs[i]) ** 2;
      }
      // the varying output still trains (not starved by the constant one's weight)
      expect(Math.sqrt(se / test.count)).toBeLessThan(0.2 * s.std[0]);
    }
  });

  it('trains residual stages whose sum fits better than the first network, and exports their sum', async () => {
    const staged = { ...config, epochs: 8, stages: 2 };
    const progress: TrainProgress[] = [];
    const model = await trainMlp(data, mlp, normalization, staged, { onProgress: (p) => progress.push(p) });
    expect(stageEpochs(8, 2)).toEqual([5, 3]);
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((e) => e * 256));
    expect(model.steps).toBe(8 * 256);
    expect(model.lossHistory).toHaveLength(8);
    expect(model.residualStages).toHaveLength(1);
    const mse = (pred: Float64Array): number => {
      let se = 0;
      for (let i = 0; i < data.count; i++) se += ((pred[i] - data.outputs[i]) / normalization.outputStd[0]) ** 2;
      return se / data.count;
    };
    const first = mse(predictRaw(model.mlp, model.normalization, model.parameters, data.inputs, data.count));
    const whole = mse(predictModelRaw(model, data.inputs, data.count));
    // finalLoss is the whole model's training MSE (normalized units), computed independently here
    expect(model.finalLoss).toBeCloseTo(whole, 6);
    expect(whole).toBeLessThan(0.7 * first);
    // the second stage trained at unit scale: its output scale is the first stage's residual size
    expect(model.residualStages![0].outputScale[0]).toBeCloseTo(Math.sqrt(first) * normalization.outputStd[0], 1);
    // the later epochs' losses are reported in the first stage's units: they continue, not jump
    expect(model.lossHistory[5]).toBeLessThan(model.lossHistory[4] * 10);
    const im = await InferenceModel.load(exportInferenceModel(model, { inputNames: ['a', 'b'], outputNames: ['f'] }));
    const test = makeData(300, 98);
    const y = await im.predict(test.inputs, test.count);
    await im.close();
    const ref = predictModelRaw(model, test.inputs, test.count);
    for (let i = 0; i < test.count; i++) expect(Math.abs(y[i] - ref[i])).toBeLessThan(2e-4);
  });

  it('shares epochs out across stages: 60% to the first, the rest evenly, at least one each', () => {
    expect(stageEpochs(10, 1)).toEqual([10]);
    expect(stageEpochs(160, 2)).toEqual([96, 64]);
    expect(stageEpochs(10, 3)).toEqual([6, 2, 2]);
    expect(stageEpochs(3, 3)).toEqual([1, 1, 1]);
    expect(stageEpochs(11, 4)).toEqual([7, 2, 1, 1]);
    for (const [e, s] of [[7, 2], [100, 5], [4, 4]]) {
      const split = stageEpochs(e, s);
      expect(split).toHaveLength(s);
      expect(split.reduce((a, b) => a + b, 0)).toBe(e);
      expect(Math.min(...split)).toBeGreaterThanOrEqual(1);
    }
  });

  it('is reproducible given the seed, and the seed matters', async () => {
    const short = { ...config, epochs: 2 };
    const a = await trainMlp(data, mlp, normalization, short);
    const b = await trainMlp(data, mlp, normalization, short);
    const c = await trainMlp(data, mlp, normalization, { ...short, seed: 8 });
    expect(b.parameters).toEqual(a.parameters);
    expect(b.lossHistory).toEqual(a.lossHistory);
    expect(c.parameters[0]).not.toEqual(a.parameters[0]);
  });

  it('goes on training when a checkpoint cannot be written, saying so, and ends as a run without checkpoints does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'surrogate-ckpt-fail-'));
    try {
      const file = path.join(dir, 'checkpoint.bin');
      mkdirSync(path.join(dir, '.checkpoint.bin.tmp')); // every write of it fails (EISDIR), as one on a full disk does
      const failed: Array<{ step: number; reason: string }> = [];
      const short = { ...config, epochs: 2 };
      const model = await trainMlp(data, mlp, normalization, short, {
        checkpoint: { file, fingerprint: 'fp', everySeconds: 0.001, resume: false },
        onCheckpoint: () => {
          throw new Error('no checkpoint can have been written');
        },
        onCheckpointFailed: (step, reason) => failed.push({ step, reason }),
      });
      const plain = await trainMlp(data, mlp, normalization, short);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed[0]?.reason).toMatch(/EISDIR/);
      expect(failed.map((f) => f.step)).toEqual([...failed.map((f) => f.step)].sort((a, b) => a - b));
      expect(existsSync(file)).toBe(false);
      expect(model.parameters).toEqual(plain.parameters);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies AdamW weight decay to the weights and leaves the biases alone', async () => {
    const short = { ...config, epochs: 2 };
    const plain = await trainMlp(data, mlp, normalization, short);
    const decayed = await trainMlp(data, mlp, normalization, { ...short, weightDecay: 2 });
    const norm = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    // W1 and W2 shrink markedly under decay
    expect(norm(decayed.parameters[0])).toBeLessThan(0.8 * norm(plain.parameters[0]));
    expect(norm(decayed.parameters[2])).toBeLessThan(0.8 * norm(plain.parameters[2]));
    await expect(trainMlp(data, mlp, normalization, { ...short, weightDecay: -1 })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
  });

  it('runs on cuda only where its provider is installed, and says what to install otherwise', async () => {
    const short = { ...config, epochs: 1, device: 'cuda' as const };
    const result = await trainMlp(data, mlp, normalization, short).then(
      (m) => ({ ok: true as const, m }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    if (result.ok) {
      // a machine with an NVIDIA GPU and the CUDA provider: training works there
      expect(result.m.lossHistory).toHaveLength(1);
    } else {
      expect(result.e).toMatchObject({ code: 'NN_DEVICE_UNAVAILABLE', message: expect.stringContaining('or train with device: cpu') });
    }
    await expect(trainMlp(data, mlp, normalization, { ...config, device: 'tpu' as never })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
    // checkDevice tells the same before any training: CPU always, CUDA exactly when training could use it
    await expect(checkDevice('cpu')).resolves.toBeUndefined();
    const check = await checkDevice('cuda').then(
      () => true,
      (e: unknown) => {
        expect(e).toMatchObject({ code: 'NN_DEVICE_UNAVAILABLE', message: expect.stringContaining('or train with device: cpu') });
        return false;
      },
    );
    expect(check).toBe(result.ok);
  });

  it('trains from SharedArrayBuffers without modifying them', async () => {
    const shared = makeData(2048, 1, true);
    const before = Float32Array.from(shared.outputs);
    const model = await trainMlp(shared, mlp, normalizationOf(shared), { ...config, epochs: 2 });
    expect(shared.outputs).toEqual(before);
    expect(model.lossHistory[1]).toBeLessThan(model.lossHistory[0]);
  });

  it('aborts through the signal with TRAINING_ABORTED', async () => {
    const controller = new AbortController();
    const long = { ...config, epochs: 10_000 };
    const promise = trainMlp(data, mlp, normalization, long, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.epoch === 2) controller.abort();
      },
    });
    await expect(promise).rejects.toMatchObject({ code: 'TRAINING_ABORTED', name: 'TrainingAbortedError' });
    const already = AbortSignal.abort();
    await expect(trainMlp(data, mlp, normalization, config, { signal: already })).rejects.toMatchObject({ code: 'TRAINING_ABORTED' });
  });

  it('keeps what it trained when stopped: a last checkpoint is on disk before the promise settles, and a resume carries on from it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stop-checkpoint-'));
    try {
      const file = path.join(dir, 'checkpoint.bin');
      // no checkpoint is due within the run (one an hour): only the stop writes one
      const checkpoint = { file, fingerprint: 'fp-stop', everySeconds: 3600, resume: true };
      const long = { ...config, epochs: 400 };
      const written: number[] = [];
      const controller = new AbortController();
      const stopped = trainMlp(data, mlp, normalization, long, {
        signal: controller.signal,
        checkpoint,
        onCheckpoint: (step) => written.push(step),
        onProgress: (p) => {
          if (p.epoch === 3) controller.abort();
        },
      });
      await expect(stopped).rejects.toMatchObject({ code: 'TRAINING_ABORTED' });
      expect(existsSync(file)).toBe(true); // on disk when the promise settled: a service exiting next keeps it
      expect(written).toHaveLength(1);
      const stepsPerEpoch = Math.ceil(data.count / long.batchSize);
      expect(written[0]).toBeGreaterThanOrEqual(3 * stepsPerEpoch);
      // the resume starts where the stop left off, not from the beginning: its first epoch is the 4th or later
      let firstEpoch = 0;
      const again = new AbortController();
      await trainMlp(data, mlp, normalization, long, {
        checkpoint,
        signal: again.signal,
        onProgress: (p) => {
          if (firstEpoch > 0) return;
          firstEpoch = p.epoch;
          again.abort();
        },
      }).catch(() => undefined);
      expect(firstEpoch).toBeGreaterThan(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops with TRAINING_DIVERGED when the loss blows up without overflowing, far above what predicting the mean scores', async () => {
    // Adam's steps are bounded by the rate: at 1000 the weights grow huge but finite (loss ~1e27 seen)
    const err = await trainMlp(data, mlp, normalization, { ...config, learningRate: 1000, finalLearningRate: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const d = err as TrainingDivergedError;
    expect(d.details.loss).toBeGreaterThan(DIVERGED_LOSS);
    expect(Number.isFinite(d.details.loss)).toBe(true);
    expect(d.message).toMatch(/training diverged: loss \S+ \(normalized units, where predicting the mean scores about 1\) at step \d+; likely cause: a learning rate too high/);
    // a sane rate on the same data never comes near the threshold
    const sane = await trainMlp(data, mlp, normalization, { ...config, epochs: 2 });
    expect(Math.max(...sane.lossHistory)).toBeLessThan(100);
  });

  it('stops with TRAINING_DIVERGED naming the step when the loss is not finite', async () => {
    const err = await trainMlp(data, mlp, normalization, { ...config, learningRate: 1e30, finalLearningRate: 1e30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const d = err as TrainingDivergedError;
    expect(d.code).toBe('TRAINING_DIVERGED');
    expect(Number.isInteger(d.step)).toBe(true);
    expect(d.step).toBeGreaterThan(0); // step 0's loss is computed before any update
    expect(d.details.step).toBe(d.step);
    expect(d.message).toContain(`step ${d.step}`);
  });

  it('rejects invalid configurations and data with typed errors', async () => {
    await expect(trainMlp(data, mlp, normalization, { ...config, epochs: 0 })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
    await expect(trainMlp(data, mlp, normalization, { ...config, threads: -1 })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
    await expect(trainMlp(data, mlp, normalization, { ...config, stages: 0 })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
    await expect(trainMlp(data, mlp, normalization, { ...config, epochs: 2, stages: 3 })).rejects.toMatchObject({
      code: 'NN_INVALID_CONFIG',
      message: expect.stringContaining('at least the number of stages'),
    });
    await expect(trainMlp(data, { ...mlp, activation: 'sigmoid' as never }, normalization, config)).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
    await expect(trainMlp(data, mlp, { ...normalization, inputMax: [0, 2] }, config)).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
    await expect(trainMlp({ ...data, count: 4097 }, mlp, normalization, config)).rejects.toMatchObject({ code: 'NN_INVALID_DATA' });
    const bad = makeData(256, 3);
    bad.outputs[17] = NaN;
    await expect(trainMlp(bad, mlp, normalization, config)).rejects.toMatchObject({ code: 'NN_INVALID_DATA', details: { row: 17, output: 0 } });
  });
});
