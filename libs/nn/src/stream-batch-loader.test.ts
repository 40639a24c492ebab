import * as fs from 'fs';
import { GraphBuilder } from './onnx-builder';
import { normalizeRows, type Normalization } from './normalization';
import { NnError } from './nn-error';
import { Rng } from './rng';
import { removeTestShards, writeTestShards, type TestDataset } from './shard-test-helpers';
import { StreamBatchLoader, type StreamLoaderOptions } from './stream-batch-loader';

/** Batches of steps from … to−1 through the loader's public interface, 3 steps per call. */
async function batches(options: StreamLoaderOptions, to: number): Promise<{ x: Float32Array[]; y: Float32Array[]; peak: number; window: number }> {
  const loader = new StreamBatchLoader(options);
  const { batch, inputDim: D, outputDim: K } = loader.plan;
  const x: Float32Array[] = [];
  const y: Float32Array[] = [];
  try {
    for (let step = options.startStep ?? 0; step < to; ) {
      const n = Math.min(3, to - step);
      const xs = Array.from({ length: n }, () => new Float32Array(batch * D));
      const ys = Array.from({ length: n }, () => new Float32Array(batch * K));
      loader.next(n, xs, ys);
      x.push(...xs);
      y.push(...ys);
      step += n;
    }
    return { x, y, peak: loader.peakWindowRows, window: loader.plan.windowRows };
  } finally {
    await loader.close();
  }
}

/** Inputs linear on the box [0, 1]³, outputs untouched: row g has targets (g, 2g). */
const ID_NORMALIZATION: Normalization = { inputMin: [0, 0, 0], inputMax: [1, 1, 1], outputMean: [0, 0], outputStd: [1, 1] };

describe('StreamBatchLoader', () => {
  let data: TestDataset;
  beforeAll(() => {
    const rng = new Rng(1);
    const counts = Array.from({ length: 30 }, (_, s) => 200 + ((s * 53) % 97)); // ~7,300 rows in 30 shards
    data = writeTestShards(counts, 3, 2, (g, x, y) => {
      for (let j = 0; j < 3; j++) x[j] = rng.nextFloat();
      y[0] = g;
      y[1] = 2 * g;
    });
  });
  afterAll(() => removeTestShards(data));

  const base = (): StreamLoaderOptions => ({
    source: data.source,
    normalization: ID_NORMALIZATION,
    batchSize: 128,
    epochs: 2,
    seed: 42,
    windowRows: Math.floor(data.count / 10),
    aheadSteps: 4,
  });

  it('yields every row once per epoch from data 10× its window, never holding more than the window', async () => {
    const o = base();
    const steps = Math.floor(data.count / 128);
    const r = await batches(o, 2 * steps);
    expect(r.window * 10).toBeLessThanOrEqual(data.count);
    for (let e = 0; e < 2; e++) {
      const ids = r.y.slice(e * steps, (e + 1) * steps).flatMap((y) => Array.from(y).filter((_, i) => i % 2 === 0));
      expect(ids).toHaveLength(steps * 128);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((g) => Number.isInteger(g) && g >= 0 && g < data.count)).toBe(true);
      // each row's inputs and other target travel with it
      for (let s = e * steps; s < (e + 1) * steps; s++) {
        for (let i = 0; i < 128; i++) {
          const g = r.y[s][2 * i];
          expect(r.y[s][2 * i + 1]).toBe(2 * g);
          for (let j = 0; j < 3; j++) expect(r.x[s][3 * i + j]).toBeCloseTo(2 * data.inputs[3 * g + j] - 1, 6);
        }
      }
    }
    expect(r.peak).toBeGreaterThan(0);
    expect(r.peak).toBeLessThanOrEqual(r.window);
  });

  it('is deterministic per seed, differs across epochs and seeds, and resumes at any step exactly', async () => {
    const o = base();
    const steps = Math.floor(data.count / 128);
    const total = 2 * steps;
    const full = await batches(o, total);
    expect((await batches(o, total)).y).toEqual(full.y);
    const otherSeed = await batches({ ...o, seed: 43 }, steps);
    expect(otherSeed.y[0]).not.toEqual(full.y[0]);
    expect(full.y[steps]).not.toEqual(full.y[0]);
    for (const k of [1, 17, steps - 1, steps, steps + 5, total - 1]) {
      const resumed = await batches({ ...o, startStep: k }, Math.min(total, k + 4));
      expect(resumed.y).toEqual(full.y.slice(k, k + 4));
      expect(resumed.x).toEqual(full.x.slice(k, k + 4));
    }
  });

  it('normalizes exactly as normalization.ts does (transforms, box, standardized outputs)', async () => {
    // output 0 is a real target with its own mean and std; output 1 carries the row id through (mean 0, std 1)
    const rng = new Rng(3);
    const d = writeTestShards([300, 250, 310], 3, 2, (g, x, y) => {
      x[0] = 80 + 40 * rng.nextFloat();
      x[1] = 0.01 + 2 * rng.nextFloat();
      x[2] = 0.1 + rng.nextFloat();
      y[0] = 12 + 3 * rng.nextNormal();
      y[1] = g;
    });
    try {
      const n: Normalization = {
        inputMin: [80, 0.01, 0.1],
        inputMax: [120, 2.01, 1.1],
        inputTransform: ['linear', 'sqrt', 'log'],
        outputMean: [12.3, 0],
        outputStd: [2.9, 1],
      };
      const r = await batches({ source: d.source, normalization: n, batchSize: 50, epochs: 1, seed: 1 }, 17);
      const expected = { inputs: new Float32Array(d.count * 3), outputs: new Float32Array(d.count * 2) };
      normalizeRows(n, { inputs: d.inputs, outputs: d.outputs }, expected, d.count);
      for (let s = 0; s < 17; s++) {
        for (let i = 0; i < 50; i++) {
          const g = r.y[s][2 * i + 1];
          expect(Array.from(r.x[s].subarray(3 * i, 3 * i + 3))).toEqual(Array.from(expected.inputs.subarray(3 * g, 3 * g + 3)));
          expect(r.y[s][2 * i]).toBe(expected.outputs[2 * g]);
        }
      }
    } finally {
      removeTestShards(d);
    }
  });

  it('turns the targets into a residual stage’s: (y − model(x) − shift) / scale', async () => {
    // model(x) = x·A + b, a linear map written as ONNX by hand
    const A = [0.5, -1, 2, 0.25, -0.75, 1.5]; // [3, 2]
    const b = [0.1, -0.2];
    const g = new GraphBuilder('float32');
    const x = g.input('x', ['N', 3]);
    g.output('y', g.op1('Add', [g.op1('MatMul', [x, g.constant(A, [3, 2])]), g.constant(b, [2])]), ['N', 2]);
    const adjust = { model: g.encode({ name: 'linear' }), scale: [0.5, 4], shift: [1, -3] };
    const steps = 20;
    const plain = await batches(base(), steps);
    const adjusted = await batches({ ...base(), adjust }, steps);
    expect(adjusted.x).toEqual(plain.x);
    let worst = 0;
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < 128; i++) {
        for (let k = 0; k < 2; k++) {
          let m = b[k];
          for (let j = 0; j < 3; j++) m += plain.x[s][3 * i + j] * A[j * 2 + k];
          const want = (plain.y[s][2 * i + k] - m - adjust.shift[k]) / adjust.scale[k];
          worst = Math.max(worst, Math.abs(adjusted.y[s][2 * i + k] - want) / Math.max(1, Math.abs(want)));
        }
      }
    }
    expect(worst).toBeLessThan(1e-6);
    expect(worst).toBeGreaterThanOrEqual(0);
    // the adjusted targets are not the plain ones
    expect(adjusted.y[0]).not.toEqual(plain.y[0]);
  });

  it('names the file and the byte counts of a missing or short shard', async () => {
    const d = writeTestShards([40, 40, 40], 3, 2, (gi, x, y) => {
      x.fill(0.5);
      y.fill(gi);
    });
    try {
      const o: StreamLoaderOptions = { source: d.source, normalization: ID_NORMALIZATION, batchSize: 10, epochs: 1, seed: 1, windowRows: 40 };
      const [, second, third] = d.source.shards;
      fs.truncateSync(second.file, 100);
      expect(() => new StreamBatchLoader(o)).toThrow(
        expect.objectContaining({ code: 'NN_INVALID_DATA', message: `shard ${second.file} has 100 bytes, expected 800 (40 rows × 5 float32 columns)` }),
      );
      fs.rmSync(third.file);
      expect(() => new StreamBatchLoader({ ...o, source: { ...o.source, shards: [o.source.shards[0], third] } })).toThrow(
        expect.objectContaining({ code: 'NN_INVALID_DATA', message: `shard ${third.file} is missing; expected 800 bytes (40 rows)` }),
      );

      // a shard that goes short after the loader was built fails the step that needs it
      const ok = writeTestShards(Array.from({ length: 6 }, () => 40), 3, 2, (gi, x, y) => {
        x.fill(0.5);
        y.fill(gi);
      });
      try {
        const loader = new StreamBatchLoader({ ...o, source: ok.source, aheadSteps: 1 });
        for (const s of ok.source.shards) fs.truncateSync(s.file, 796);
        let caught: unknown;
        try {
          const xs = [new Float32Array(30)];
          const ys = [new Float32Array(20)];
          for (let step = 0; step < loader.plan.totalSteps; step++) loader.next(1, xs, ys);
        } catch (err) {
          caught = err;
        } finally {
          await loader.close();
        }
        expect(caught).toBeInstanceOf(NnError);
        expect(caught).toMatchObject({ code: 'NN_INVALID_DATA', details: { bytes: 796, expectedBytes: 800 } });
        expect((caught as Error).message).toMatch(/^shard .*training-00000\d\.f32 has 796 bytes, expected 800/);
      } finally {
        removeTestShards(ok);
      }
    } finally {
      removeTestShards(d);
    }
  });

  it('refuses error-driven resampling, bad options, and steps past the plan', async () => {
    expect(() => new StreamBatchLoader({ ...base(), windowRows: 10 })).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
    expect(() => new StreamBatchLoader({ ...base(), startStep: -1 })).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
    expect(() => new StreamBatchLoader({ ...base(), normalization: { ...ID_NORMALIZATION, outputStd: [1] } })).toThrow(
      expect.objectContaining({ code: 'NN_INVALID_CONFIG' }),
    );
    const loader = new StreamBatchLoader({ ...base(), epochs: 1 });
    try {
      expect(() => loader.publishWeights(1, new Float32Array(data.count))).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
      const total = loader.plan.totalSteps;
      expect(() => loader.next(total + 1, [], [])).toThrow(expect.objectContaining({ code: 'TRAINING_FAILED' }));
    } finally {
      await loader.close();
    }
  });
});
