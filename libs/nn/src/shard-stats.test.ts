import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import { initParameters } from './init-parameters';
import { splitParameters, type MlpConfig } from './mlp-config';
import { forwardMlp } from './mlp-reference';
import { computeOutputStats, normalizeRows, type Normalization } from './normalization';
import { Rng } from './rng';
import { datasetShardSource } from './shard-source';
import { computeShardStats, computeTargetStats } from './shard-stats';
import { removeTestShards, writeTestShards } from './shard-test-helpers';
import { stagedModelOnnx } from './staged-model';

/** Float64 two-pass mean and population std of column k of row-major values. */
function exactStats(values: ArrayLike<number>, count: number, K: number, k: number): { mean: number; std: number; meanSquare: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < count; i++) {
    sum += values[i * K + k];
    squares += values[i * K + k] ** 2;
  }
  const mean = sum / count;
  let m2 = 0;
  for (let i = 0; i < count; i++) m2 += (values[i * K + k] - mean) ** 2;
  return { mean, std: Math.sqrt(m2 / count), meanSquare: squares / count };
}

describe('computeShardStats', () => {
  it('matches the in-memory statistics in one pass, and stays exact where sums of squares cancel', async () => {
    const rng = new Rng(2);
    // output 0: a large mean with a tiny spread (1e4 ± 1e-2); output 1: ordinary; output 2: constant
    const d = writeTestShards([500, 123, 777, 1, 640], 2, 3, (_, x, y) => {
      x[0] = 80 + 40 * rng.nextFloat();
      x[1] = rng.nextFloat();
      y[0] = 1e4 + 1e-2 * rng.nextNormal();
      y[1] = 3 * rng.nextNormal() - 1;
      y[2] = 7;
    });
    try {
      const s = await computeShardStats(d.source);
      expect(s.count).toBe(d.count);
      const memory = computeOutputStats(d.outputs, d.count, 3);
      for (let k = 0; k < 3; k++) {
        const exact = exactStats(d.outputs, d.count, 3, k);
        expect(Math.abs(s.outputMean[k] - exact.mean)).toBeLessThanOrEqual(1e-12 * Math.abs(exact.mean));
        if (k < 2) expect(Math.abs(s.outputStd[k] - exact.std) / exact.std).toBeLessThan(1e-9);
      }
      expect(s.outputMean[1]).toBeCloseTo(memory.mean[1], 12);
      expect(s.outputStd[1]).toBeCloseTo(memory.std[1], 12);
      expect(s.outputStd[2]).toBe(1); // constant output: std 1, as computeOutputStats
      expect(s.outputConstant).toEqual([undefined, undefined, 7]); // and known as constant
      for (let j = 0; j < 2; j++) {
        const col = Array.from({ length: d.count }, (_, i) => d.inputs[2 * i + j]);
        expect(s.inputMin[j]).toBe(Math.min(...col));
        expect(s.inputMax[j]).toBe(Math.max(...col));
      }
    } finally {
      removeTestShards(d);
    }
  });

  it('names the file, row and column of a non-finite value, and the file of a short shard', async () => {
    const d = writeTestShards([10, 10], 2, 1, (g, x, y) => {
      x[0] = g === 13 ? NaN : 1;
      x[1] = 1;
      y[0] = 1;
    });
    try {
      await expect(computeShardStats(d.source)).rejects.toMatchObject({
        code: 'NN_INVALID_DATA',
        message: `shard ${d.source.shards[1].file}: input 0 of row 3 is NaN`,
      });
      fs.truncateSync(d.source.shards[0].file, 12);
      await expect(computeShardStats(d.source)).rejects.toMatchObject({
        code: 'NN_INVALID_DATA',
        message: `shard ${d.source.shards[0].file} has 12 bytes, expected 120 (10 rows × 3 float32 columns)`,
      });
    } finally {
      removeTestShards(d);
    }
  });
});

describe('computeTargetStats and stagedModelOnnx', () => {
  const mlp: MlpConfig = { inputDim: 2, outputDim: 2, hiddenLayers: [8, 8], activation: 'silu' };
  const n: Normalization = { inputMin: [0.5, -1], inputMax: [2, 1], inputTransform: ['log', 'linear'], outputMean: [1, -2], outputStd: [0.5, 3] };

  it('sums stages in normalized units as the float64 reference does', async () => {
    const rng = new Rng(5);
    const stages = [0, 1].map((s) => ({ theta: initParameters(mlp, rng), scale: s === 0 ? [1, 1] : [0.1, 0.02], shift: s === 0 ? [0, 0] : [0.3, -0.1] }));
    const count = 64;
    const x = Float32Array.from({ length: count * 2 }, () => 2 * rng.nextFloat() - 1);
    const session = await ort.InferenceSession.create(stagedModelOnnx(mlp, stages));
    try {
      const out = (await session.run({ x: new ort.Tensor('float32', x, [count, 2]) })).y.data as Float32Array;
      const want = new Float64Array(count * 2);
      for (const s of stages) {
        const o = forwardMlp(mlp, splitParameters(mlp, s.theta), x, count);
        for (let i = 0; i < count * 2; i++) want[i] += o[i] * s.scale[i % 2] + s.shift[i % 2];
      }
      for (let i = 0; i < count * 2; i++) expect(Math.abs(out[i] - want[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i])));
    } finally {
      await session.release();
    }
    expect(() => stagedModelOnnx(mlp, [])).toThrow(expect.objectContaining({ code: 'NN_INVALID_MODEL' }));
    expect(() => stagedModelOnnx(mlp, [{ ...stages[0], scale: [1] }])).toThrow(expect.objectContaining({ code: 'NN_INVALID_MODEL' }));
  });

  it('gives the normalized targets’ statistics, and the residuals’ (next stage’s shift and scale, the MSE) with a model', async () => {
    const rng = new Rng(8);
    const d = writeTestShards([300, 200, 333], 2, 2, (_, x, y) => {
      x[0] = 0.5 + 1.5 * rng.nextFloat();
      x[1] = 2 * rng.nextFloat() - 1;
      y[0] = Math.log(x[0]) * x[1];
      y[1] = 5 * x[1] - 2;
    });
    try {
      const norm = { inputs: new Float32Array(d.count * 2), outputs: new Float32Array(d.count * 2) };
      normalizeRows(n, { inputs: d.inputs, outputs: d.outputs }, norm, d.count);
      const plain = await computeTargetStats(d.source, n);
      for (let k = 0; k < 2; k++) {
        const e = exactStats(norm.outputs, d.count, 2, k);
        expect(plain.mean[k]).toBeCloseTo(e.mean, 12);
        expect(plain.std[k]).toBeCloseTo(e.std, 12);
        expect(plain.meanSquare[k]).toBeCloseTo(e.meanSquare, 12);
      }
      const theta = initParameters(mlp, rng);
      const residual = await computeTargetStats(d.source, n, { model: stagedModelOnnx(mlp, [{ theta, scale: [1, 1], shift: [0, 0] }]), scale: [1, 1], shift: [0, 0] });
      const out = forwardMlp(mlp, splitParameters(mlp, theta), norm.inputs, d.count);
      const rho = Float64Array.from(norm.outputs, (y, i) => y - out[i]);
      for (let k = 0; k < 2; k++) {
        const e = exactStats(rho, d.count, 2, k);
        expect(residual.mean[k]).toBeCloseTo(e.mean, 5);
        expect(residual.std[k]).toBeCloseTo(e.std, 5);
        expect(residual.meanSquare[k]).toBeCloseTo(e.meanSquare, 5);
        expect(Math.abs(residual.mean[k] - plain.mean[k])).toBeGreaterThan(1e-3); // the model did change the targets
      }
    } finally {
      removeTestShards(d);
    }
  });
});

describe('datasetShardSource', () => {
  it('puts the manifest’s chunks in sequence order under the dataset directory', () => {
    const s = datasetShardSource('/data/exp', [
      { file: 'training-000002.f32', count: 5, start: 10 },
      { file: 'training-000000.f32', count: 5, start: 0 },
      { file: 'training-000001.f32', count: 5, start: 5 },
    ], 3, 1);
    expect(s).toEqual({
      shards: [0, 1, 2].map((i) => ({ file: `/data/exp/training-00000${i}.f32`, count: 5 })),
      inputDim: 3,
      outputDim: 1,
      layout: 'columns',
    });
    expect(() => datasetShardSource('/d', [{ file: 'a.f32', count: 0 }], 3, 1)).toThrow(
      expect.objectContaining({ code: 'NN_INVALID_DATA', message: 'shard source: shards[0].count must be a positive integer, got 0' }),
    );
    expect(() => datasetShardSource('/d', [], 3, 1)).toThrow(expect.objectContaining({ code: 'NN_INVALID_DATA' }));
  });
});
