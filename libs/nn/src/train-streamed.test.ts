import { computeShardStats } from './shard-stats';
import { decodeCheckpoint, encodeCheckpoint, checkpointStep, type TrainingCheckpoint } from './checkpoint';
import type { MlpConfig } from './mlp-config';
import { Rng } from './rng';
import { removeTestShards, writeTestShards, type TestDataset } from './shard-test-helpers';
import { trainStagesStreamed } from './train-streamed';
import { trainMlp } from './train-mlp';
import { exportInferenceModel } from './export-model';
import { InferenceModel } from './inference-model';
import { normalizeToRows } from './train-worker';
import type { TrainConfig } from './train-types';
import type { Normalization } from './normalization';

const mlp: MlpConfig = { inputDim: 2, outputDim: 1, hiddenLayers: [16, 16], activation: 'silu' };
const f = (a: number, b: number): number => 3 + Math.sin(2 * a) + 0.5 * a * b;

describe('training on shards streamed from disk', () => {
  let data: TestDataset;
  let held: { inputs: Float32Array; outputs: Float32Array; count: number };
  let normalization: Normalization;
  const config: TrainConfig = { epochs: 6, stages: 2, batchSize: 64, learningRate: 1e-2, finalLearningRate: 1e-4, seed: 9, threads: 1 };

  beforeAll(async () => {
    // 12 shards of uneven sizes, streamed through a window of 1,500 rows (a quarter of the data)
    const counts = [500, 700, 300, 600, 400, 500, 450, 550, 500, 350, 650, 500];
    const rng = new Rng(4);
    data = writeTestShards(counts, 2, 1, (_g, x, y) => {
      x[0] = 4 * rng.nextFloat() - 2;
      x[1] = 2 * rng.nextFloat() - 1;
      y[0] = f(x[0], x[1]);
    });
    const stats = await computeShardStats(data.source);
    normalization = { inputMin: [-2, -1], inputMax: [2, 1], outputMean: stats.outputMean, outputStd: stats.outputStd };
    const vr = new Rng(5);
    const n = 1000;
    held = { inputs: new Float32Array(2 * n), outputs: new Float32Array(n), count: n };
    for (let i = 0; i < n; i++) {
      held.inputs[2 * i] = 4 * vr.nextFloat() - 2;
      held.inputs[2 * i + 1] = 2 * vr.nextFloat() - 1;
      held.outputs[i] = f(held.inputs[2 * i], held.inputs[2 * i + 1]);
    }
  });
  afterAll(() => removeTestShards(data));

  const validationRows = () => normalizeToRows({ mlp, normalization, ...held });

  it('learns, records the validation curve, and a resumed run ends exactly where the whole one does', async () => {
    const checkpoints: TrainingCheckpoint[] = [];
    const streamed = { shards: data.source, windowRows: 1500 };
    const whole = await trainStagesStreamed(streamed, normalization, mlp, config, {
      validation: validationRows(),
      fingerprint: 'fp',
      checkpointEveryMs: 0,
      onCheckpoint: (c) => checkpoints.push(decodeCheckpoint(encodeCheckpoint(c))),
    });
    // 6,000 rows / 64 = 93 steps per epoch; stage epochs [4, 2]
    expect(whole.steps).toBe(6 * 93);
    expect(whole.valLossHistory).toHaveLength(6);
    expect(whole.valLossHistory[5]).toBeLessThan(whole.valLossHistory[0] / 4); // measured 0.22 → 0.029
    // the training MSE, from one streamed pass over the shards, agrees with the held-out MSE of
    // the same model on points from the same distribution
    expect(Math.abs(whole.finalLoss - whole.valLossHistory[5]) / whole.valLossHistory[5]).toBeLessThan(0.3);
    const stage1 = checkpoints.find((c) => c.stage === 1 && c.loop.step > 0 && c.loop.step % 93 !== 0) as TrainingCheckpoint;
    expect(stage1).toBeDefined();
    const resumed = await trainStagesStreamed(streamed, normalization, mlp, config, { validation: validationRows(), resume: stage1 });
    expect(resumed.resumedFromStep).toBe(checkpointStep(stage1));
    expect(resumed.stages.map((s) => s.theta)).toEqual(whole.stages.map((s) => s.theta));
    expect(resumed.valLossHistory).toEqual(whole.valLossHistory);
    expect(resumed.finalLoss).toBe(whole.finalLoss);
  }, 120_000);

  it('trains through trainMlp like the in-memory path, to a similar error', async () => {
    const memory = await trainMlp({ inputs: data.inputs, outputs: data.outputs, count: data.count }, mlp, normalization, config, { validation: held });
    const streamed = await trainMlp({ shards: data.source, windowRows: 1500 }, mlp, normalization, config, { validation: held });
    const lastVal = (m: { valLossHistory?: number[] }): number => (m.valLossHistory as number[])[5];
    // different batches (a shuffle window instead of a full shuffle, no resampling): not equal, but close
    expect(lastVal(streamed)).toBeLessThan(3 * lastVal(memory));
    expect(streamed.residualStages).toHaveLength(1);
  }, 120_000);

  it('refuses the relative loss, whose weights depend on each row', async () => {
    await expect(
      trainMlp({ shards: data.source }, mlp, normalization, { ...config, loss: { kind: 'relative' } }, { validation: held }),
    ).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG', message: expect.stringContaining('not available when the training set is streamed') });
  });
});

describe('per-output loss weights on a streamed training set', () => {
  const two: MlpConfig = { ...mlp, outputDim: 2 };
  const g = (a: number, b: number): number => Math.sin(a) * b;
  const config: TrainConfig = { epochs: 8, stages: 1, batchSize: 64, learningRate: 1e-2, finalLearningRate: 1e-4, seed: 3, threads: 1 };
  let data: TestDataset;
  let normalization: Normalization;
  const n = 1000;
  const held = { inputs: new Float32Array(2 * n), outputs: new Float32Array(2 * n), count: n };

  beforeAll(async () => {
    const rng = new Rng(6);
    data = writeTestShards([1500, 1000, 1500], 2, 2, (_g, x, y) => {
      x[0] = 4 * rng.nextFloat() - 2;
      x[1] = 2 * rng.nextFloat() - 1;
      y[0] = f(x[0], x[1]);
      y[1] = g(x[0], x[1]);
    });
    const stats = await computeShardStats(data.source);
    normalization = { inputMin: [-2, -1], inputMax: [2, 1], outputMean: stats.outputMean, outputStd: stats.outputStd };
    const vr = new Rng(7);
    for (let i = 0; i < n; i++) {
      const a = 4 * vr.nextFloat() - 2;
      const b = 2 * vr.nextFloat() - 1;
      held.inputs.set([a, b], 2 * i);
      held.outputs.set([f(a, b), g(a, b)], 2 * i);
    }
  });
  afterAll(() => removeTestShards(data));

  /** Held-out RMSE of each output, in units of its std. */
  async function errors(weights: number[]): Promise<number[]> {
    const model = await trainMlp({ shards: data.source, windowRows: 1500 }, two, normalization, { ...config, loss: { kind: 'mse', outputWeights: weights } }, { validation: held });
    expect(model.valLossHistory).toHaveLength(8);
    const im = await InferenceModel.load(exportInferenceModel(model, { inputNames: ['a', 'b'], outputNames: ['f', 'g'] }));
    const y = await im.predict(held.inputs, n);
    await im.close();
    return [0, 1].map((k) => {
      let se = 0;
      for (let i = 0; i < n; i++) se += (y[2 * i + k] - held.outputs[2 * i + k]) ** 2;
      return Math.sqrt(se / n) / normalization.outputStd[k];
    });
  }

  it('trains with them (they used to be refused) and they trade the outputs off', async () => {
    const favourF = await errors([8, 1]);
    const favourG = await errors([1, 8]);
    expect(favourF[0]).toBeLessThan(favourG[0]);
    expect(favourG[1]).toBeLessThan(favourF[1]);
  }, 120_000);
});
