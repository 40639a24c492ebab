import { computeOutputStats, exportInferenceModel, InferenceModel, trainMlp, type MlpConfig, type TrainConfig, type TrainingData } from './index';
import { isWeightedLoss, lossWeightNormalizer, lossWeightsOf } from './loss-weights';
import { Rng } from './rng';

describe('loss weights', () => {
  it('are outputWeight·(σ/(|y| + floor·σ))² for the relative loss, and average 1 once normalized', () => {
    const outputs = Float32Array.from([2, -0.5, 0, 10]); // 2 rows × 2 outputs
    const std = [4, 0.5];
    const w = lossWeightsOf(outputs, 2, 2, std, { kind: 'relative', outputWeights: [1, 3], relativeFloor: 0.1 });
    expect(w[0]).toBeCloseTo((4 / (2 + 0.4)) ** 2, 6);
    expect(w[1]).toBeCloseTo(3 * (0.5 / (0.5 + 0.05)) ** 2, 6);
    expect(w[2]).toBeCloseTo((4 / 0.4) ** 2, 6); // y = 0: the floor keeps it finite
    expect(w[3]).toBeCloseTo(3 * (0.5 / (10 + 0.05)) ** 2, 6);
    const norm = lossWeightNormalizer(w);
    const scaled = lossWeightsOf(outputs, 2, 2, std, { kind: 'relative', outputWeights: [1, 3], relativeFloor: 0.1 }, norm);
    expect(scaled.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(1, 6);
    expect(Array.from(lossWeightsOf(outputs, 2, 2, std, { kind: 'mse', outputWeights: [2, 5] }))).toEqual([2, 5, 2, 5]);
    expect(isWeightedLoss({ kind: 'mse', outputWeights: [1, 1] }, 2)).toBe(false);
    expect(isWeightedLoss({ kind: 'mse', outputWeights: [1, 2] }, 2)).toBe(true);
    expect(isWeightedLoss({ kind: 'relative' }, 2)).toBe(true);
  });
});

describe('training with a weighted loss', () => {
  const box = { min: [-1, -1], max: [1, 1] };
  /** Two outputs of very different sizes: e^(3a) spans 0.05 … 20; the second is a small wiggle. */
  function makeData(count: number, seed: number): TrainingData {
    const rng = new Rng(seed);
    const inputs = new Float32Array(count * 2);
    const outputs = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      const a = 2 * rng.nextFloat() - 1;
      const b = 2 * rng.nextFloat() - 1;
      inputs.set([a, b], 2 * i);
      outputs.set([Math.exp(3 * a) * (1 + 0.2 * b), Math.sin(3 * a) * b], 2 * i);
    }
    return { inputs, outputs, count };
  }
  const mlp: MlpConfig = { inputDim: 2, outputDim: 2, hiddenLayers: [16, 16], activation: 'silu' };
  const config: TrainConfig = { epochs: 8, batchSize: 32, learningRate: 1e-2, finalLearningRate: 1e-4, seed: 5, threads: 1 };
  const train = makeData(4096, 1);
  const test = makeData(2048, 2);
  const stats = computeOutputStats(train.outputs, train.count, 2);
  const normalization = { inputMin: box.min, inputMax: box.max, outputMean: stats.mean, outputStd: stats.std };

  async function errorsOf(c: TrainConfig): Promise<{ maxRel0: number; rmse: number[] }> {
    const model = await trainMlp(train, mlp, normalization, c, { validation: test });
    const im = await InferenceModel.load(exportInferenceModel(model, { inputNames: ['a', 'b'], outputNames: ['y0', 'y1'] }));
    try {
      const p = await im.predict(test.inputs, test.count);
      let maxRel0 = 0;
      const se = [0, 0];
      for (let i = 0; i < test.count; i++) {
        const y0 = test.outputs[2 * i];
        maxRel0 = Math.max(maxRel0, Math.abs(p[2 * i] - y0) / Math.abs(y0));
        for (let k = 0; k < 2; k++) se[k] += (p[2 * i + k] - test.outputs[2 * i + k]) ** 2;
      }
      expect(model.valLossHistory).toHaveLength(8);
      return { maxRel0, rmse: se.map((s) => Math.sqrt(s / test.count)) };
    } finally {
      await im.close();
    }
  }

  it('relative MSE fits the small values of an output spanning orders of magnitude far better', async () => {
    const mse = await errorsOf(config);
    const rel = await errorsOf({ ...config, loss: { kind: 'relative', relativeFloor: 0.01 } });
    expect(rel.maxRel0).toBeLessThan(mse.maxRel0 / 2);
  }, 120_000);

  it('a heavier output weight shifts the fit towards that output', async () => {
    const even = await errorsOf(config);
    const second = await errorsOf({ ...config, loss: { kind: 'mse', outputWeights: [1, 50] } });
    // the second output's error relative to the first's (measured: 0.115 → 0.056)
    expect(second.rmse[1] / second.rmse[0]).toBeLessThan(even.rmse[1] / even.rmse[0] / 1.5);
    expect(second.rmse[1]).toBeLessThan(even.rmse[1]);
  }, 120_000);

  it('rejects weights that do not fit the outputs', async () => {
    await expect(trainMlp(train, mlp, normalization, { ...config, loss: { kind: 'mse', outputWeights: [1] } })).rejects.toMatchObject({
      code: 'NN_INVALID_CONFIG',
      message: expect.stringContaining('outputWeights must be 2 positive numbers'),
    });
    await expect(trainMlp(train, mlp, normalization, { ...config, loss: { kind: 'huber' as never } })).rejects.toMatchObject({ code: 'NN_INVALID_CONFIG' });
  });
});
