import { computeOutputStats, matmulPeakGflops, trainingStepFlops } from './index';
import { learningRateAt } from './lr-schedule';
import { flattenParameters, parameterCount, parameterShapes, splitParameters, validateMlpConfig, type MlpConfig } from './mlp-config';
import { normalizationAffine, normalizeRows, validateNormalization } from './normalization';
import { Rng } from './rng';
import { samplingWeights, trainNormalized } from './train-loop';
import { makeBatchPlan, systematicResample, weightsVersion } from './batch-sampler';

describe('computeOutputStats', () => {
  it('returns per-output mean and population std, std 1 for constant outputs', () => {
    const outputs = Float32Array.from([1, 5, 2, 5, 3, 5, 6, 5]); // 4 rows × 2 outputs
    const { mean, std } = computeOutputStats(outputs, 4, 2);
    expect(mean[0]).toBeCloseTo(3, 12);
    expect(std[0]).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 4), 12);
    expect(mean[1]).toBe(5);
    expect(std[1]).toBe(1);
    expect(() => computeOutputStats(outputs, 5, 2)).toThrow(expect.objectContaining({ code: 'NN_INVALID_DATA' }));
  });
});

describe('normalization', () => {
  it('maps the input box onto [-1, 1] and standardizes outputs', () => {
    const n = { inputMin: [80, 0.1], inputMax: [120, 0.5], outputMean: [10], outputStd: [4] };
    const src = { inputs: Float32Array.from([80, 0.5, 100, 0.3]), outputs: Float32Array.from([14, 6]) };
    const dst = { inputs: new Float32Array(4), outputs: new Float32Array(2) };
    normalizeRows(n, src, dst, 2);
    expect(Array.from(dst.inputs)).toEqual([-1, 1, 0, expect.closeTo(0, 6)]);
    expect(Array.from(dst.outputs)).toEqual([1, -1]);
    const a = normalizationAffine(n);
    expect(120 * a.inputScale[0] + a.inputShift[0]).toBeCloseTo(1, 12);
  });

  it('rejects boxes that are empty and statistics that do not fit', () => {
    const mlp: MlpConfig = { inputDim: 1, outputDim: 1, hiddenLayers: [4], activation: 'tanh' };
    const ok = { inputMin: [0], inputMax: [1], outputMean: [0], outputStd: [1] };
    expect(() => validateNormalization(ok, mlp)).not.toThrow();
    expect(() => validateNormalization({ ...ok, inputMax: [0] }, mlp)).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
    expect(() => validateNormalization({ ...ok, outputStd: [0] }, mlp)).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
    expect(() => validateNormalization({ ...ok, outputMean: [0, 1] }, mlp)).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
  });
});

describe('mlp parameters', () => {
  const mlp: MlpConfig = { inputDim: 3, outputDim: 2, hiddenLayers: [4, 5], activation: 'silu' };
  it('lays out W1, b1, W2, b2, … with W as [fanIn, fanOut]', () => {
    expect(parameterShapes(mlp)).toEqual([[3, 4], [4], [4, 5], [5], [5, 2], [2]]);
    expect(parameterCount(mlp)).toBe(12 + 4 + 20 + 5 + 10 + 2);
    const flat = Float32Array.from({ length: parameterCount(mlp) }, (_, i) => i);
    const split = splitParameters(mlp, flat);
    expect(split[1]).toEqual(Float32Array.from([12, 13, 14, 15]));
    expect(flattenParameters(mlp, split)).toEqual(flat);
  });
  it('validates configurations', () => {
    expect(() => validateMlpConfig(mlp)).not.toThrow();
    expect(() => validateMlpConfig({ ...mlp, hiddenLayers: [4, 0] })).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
    expect(() => validateMlpConfig({ ...mlp, inputDim: 1.5 })).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
  });
});

describe('Rng', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const c = new Rng(6);
    const xs = Array.from({ length: 10000 }, () => a.nextFloat());
    expect(Array.from({ length: 10000 }, () => b.nextFloat())).toEqual(xs);
    expect(c.nextFloat()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
  it('shuffles into a permutation', () => {
    const p = Uint32Array.from({ length: 1000 }, (_, i) => i);
    new Rng(1).shuffle(p);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('learningRateAt', () => {
  it('warms up, peaks at the initial rate and decays monotonically to the final rate', () => {
    const T = 1000;
    const lr = Array.from({ length: T }, (_, t) => learningRateAt(t, T, 1e-2, 1e-5));
    const warm = Math.floor(T * 0.01);
    expect(lr[0]).toBeCloseTo(1e-2 / warm, 12);
    expect(lr[warm]).toBeCloseTo(1e-2, 12);
    expect(lr[T - 1]).toBeCloseTo(1e-5, 12);
    for (let t = warm + 1; t < T; t++) expect(lr[t]).toBeLessThanOrEqual(lr[t - 1]);
    expect(learningRateAt(500, T, 1e-3, 1e-3)).toBeCloseTo(1e-3, 12);
  });
});

describe('error-driven resampling', () => {
  it('mixes uniform and error-proportional probabilities', () => {
    const w = samplingWeights(Float32Array.from([0, 1, 4, 0]), { startFraction: 0, everyEpochs: 1, mix: 0.5, power: 2 });
    expect(Array.from(w)).toEqual([0.125, 0.125 + 0.1, 0.125 + 0.4, 0.125].map((x) => expect.closeTo(x, 6)));
  });

  it('draws each row about n·w times (systematic resampling)', () => {
    const weights = Float64Array.from([0.5, 0.25, 0.125, 0.125]);
    const out = new Uint32Array(16);
    systematicResample(weights, out, 0.3);
    const counts = [0, 0, 0, 0];
    out.forEach((i) => counts[i]++);
    expect(counts).toEqual([8, 4, 2, 2]);
    const plan = makeBatchPlan(100, 10, 10, 1, 1, 1, { startEpoch: 4, everyEpochs: 3 });
    expect([0, 3, 4, 6, 7, 9].map((e) => weightsVersion(plan, e))).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

describe('trainNormalized', () => {
  it('gives the same result however many steps each session.run unrolls (including a tail)', async () => {
    const mlp: MlpConfig = { inputDim: 2, outputDim: 1, hiddenLayers: [8], activation: 'tanh' };
    const rng = new Rng(3);
    const count = 300;
    const inputs = Float32Array.from({ length: count * 2 }, () => 2 * rng.nextFloat() - 1);
    const outputs = Float32Array.from({ length: count }, (_, i) => Math.sin(2 * inputs[2 * i]) * inputs[2 * i + 1]);
    const config = { epochs: 3, batchSize: 32, learningRate: 1e-2, finalLearningRate: 1e-3, seed: 4, threads: 1 };
    // 300 rows / 32 = 9 steps per epoch (last partial batch dropped), 27 steps: 5 runs of 5 + a tail of 2
    const unrolled = await trainNormalized({ inputs, outputs, count }, mlp, config, { stepsPerRun: 5 });
    const single = await trainNormalized({ inputs, outputs, count }, mlp, config, { stepsPerRun: 1 });
    expect(unrolled.steps).toBe(27);
    expect(unrolled.lossHistory).toHaveLength(3);
    for (let i = 0; i < single.theta.length; i++) expect(unrolled.theta[i]).toBeCloseTo(single.theta[i], 5);
    unrolled.lossHistory.forEach((l, i) => expect(l).toBeCloseTo(single.lossHistory[i], 6));
  });

  it('gathers the same batches on the loader thread as inline', async () => {
    const mlp: MlpConfig = { inputDim: 3, outputDim: 2, hiddenLayers: [8], activation: 'silu' };
    const rng = new Rng(5);
    const count = 1000;
    const inputs = Float32Array.from({ length: count * 3 }, () => 2 * rng.nextFloat() - 1);
    const outputs = Float32Array.from({ length: count * 2 }, (_, i) => Math.cos(inputs[3 * (i >> 1) + (i & 1)]));
    const config = { epochs: 4, batchSize: 30, learningRate: 1e-2, finalLearningRate: 1e-3, seed: 6, threads: 1 };
    // resampling every epoch from epoch 1 on exercises the hand-over of sampling weights too
    const resample = { startFraction: 0.25, everyEpochs: 1, mix: 0.5, power: 2 };
    const threaded = await trainNormalized({ inputs, outputs, count }, mlp, config, { loader: 'thread', stepsPerRun: 4, resample });
    const inline = await trainNormalized({ inputs, outputs, count }, mlp, config, { loader: 'inline', stepsPerRun: 4, resample });
    const plain = await trainNormalized({ inputs, outputs, count }, mlp, config, { loader: 'inline', stepsPerRun: 4, resample: null });
    expect(threaded.steps).toBe(4 * 33);
    expect(threaded.theta).toEqual(inline.theta);
    expect(threaded.lossHistory).toEqual(inline.lossHistory);
    expect(plain.lossHistory[0]).toBe(inline.lossHistory[0]); // epoch 0 is a plain shuffle either way
    expect(plain.lossHistory[1]).not.toBe(inline.lossHistory[1]);
  });
});

describe('compute throughput', () => {
  it('counts a training step: 2·B·fanIn·fanOut per matmul, three per layer but two in the first', () => {
    // 2 → 3 → 1 at batch 5: first layer z and ∂W (4·5·2·3 = 120), last layer z, ∂W and ∂h (6·5·3·1 = 90)
    expect(trainingStepFlops({ inputDim: 2, outputDim: 1, hiddenLayers: [3], activation: 'silu' }, 5)).toBe(210);
  });

  it("measures onnxruntime's matmul rate", async () => {
    const g = await matmulPeakGflops({ size: 64, seconds: 0.05 });
    expect(g).toBeGreaterThan(0);
    expect(Number.isFinite(g)).toBe(true);
  });
});
