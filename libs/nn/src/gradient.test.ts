import * as ort from 'onnxruntime-node';
import { ACTIVATIONS, parameterCount, splitParameters, type MlpConfig } from './mlp-config';
import { forwardMlp } from './mlp-reference';
import { initParameters } from './init-parameters';
import { Rng } from './rng';
import { buildGradientGraph } from './train-step-graph';
import { randomArray, referenceLoss, runGradient } from './test-helpers';

// The hand-derived backward pass, run by onnxruntime in a float64 graph, against central finite
// differences of an independent plain-JS float64 forward loss — for every parameter.
describe.each(ACTIVATIONS)('gradient graph (%s)', (activation) => {
  const mlp: MlpConfig = { inputDim: 3, outputDim: 2, hiddenLayers: [5, 4], activation };
  const count = 7;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    session = await ort.InferenceSession.create(buildGradientGraph(mlp, 'float64'));
  });
  afterAll(async () => {
    await session.release();
  });

  it('computes the MSE loss of the forward pass', async () => {
    const rng = new Rng(11);
    const theta = Float64Array.from(initParameters(mlp, rng));
    const x = randomArray(count * 3, rng, 1.5);
    const y = randomArray(count * 2, rng);
    const { loss } = await runGradient(session, mlp, theta, x, y, count);
    expect(loss).toBeCloseTo(referenceLoss(mlp, theta, x, y, count), 12);
  });

  it('matches central finite differences for every parameter', async () => {
    const rng = new Rng(12);
    const P = parameterCount(mlp);
    // random (not Glorot) parameters with non-zero biases, so every term of the derivative matters
    const theta = randomArray(P, rng, 0.9);
    const x = randomArray(count * 3, rng, 1.5);
    const y = randomArray(count * 2, rng);
    const { grad } = await runGradient(session, mlp, theta, x, y, count);
    const h = 1e-5;
    const fd = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[i] += h;
      minus[i] -= h;
      fd[i] = (referenceLoss(mlp, plus, x, y, count) - referenceLoss(mlp, minus, x, y, count)) / (2 * h);
    }
    const scale = Math.max(...fd.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    for (let i = 0; i < P; i++) expect(Math.abs(grad[i] - fd[i])).toBeLessThan(1e-8 * scale + 1e-10);
  });

  it('matches finite differences of its own loss in float32 too', async () => {
    const s32 = await ort.InferenceSession.create(buildGradientGraph(mlp, 'float32'));
    try {
      const rng = new Rng(13);
      const P = parameterCount(mlp);
      const theta = new Float32Array(randomArray(P, rng, 0.9));
      const x = new Float32Array(randomArray(count * 3, rng, 1.5));
      const y = new Float32Array(randomArray(count * 2, rng));
      const feeds = (t: Float32Array): Record<string, ort.Tensor> => ({
        theta: new ort.Tensor('float32', t, [P]),
        x: new ort.Tensor('float32', x, [count, 3]),
        y: new ort.Tensor('float32', y, [count, 2]),
      });
      const out = await s32.run(feeds(theta));
      const grad = out.grad.data as Float32Array;
      // relu's kink: a step of 1e-2 can carry a pre-activation across 0, where the derivative jumps
      const h = activation === 'relu' ? 1e-3 : 1e-2;
      for (let i = 0; i < P; i++) {
        const plus = Float32Array.from(theta);
        const minus = Float32Array.from(theta);
        plus[i] += h;
        minus[i] -= h;
        const lp = ((await s32.run(feeds(plus))).loss.data as Float32Array)[0];
        const lm = ((await s32.run(feeds(minus))).loss.data as Float32Array)[0];
        const fd = (lp - lm) / (plus[i] - minus[i]);
        expect(Math.abs(grad[i] - fd)).toBeLessThan(2e-3 * (1 + Math.abs(fd)));
      }
    } finally {
      await s32.release();
    }
  });
});

/** Float64 weighted MSE (1/(N·K))·Σ w·(out − y)², independent of the graph. */
function weightedReferenceLoss(mlp: MlpConfig, theta: Float64Array, x: Float64Array, y: Float64Array, w: Float64Array, count: number): number {
  const params: Float64Array[] = [];
  let offset = 0;
  for (const p of splitParameters(mlp, new Float32Array(parameterCount(mlp)))) {
    params.push(theta.subarray(offset, offset + p.length));
    offset += p.length;
  }
  const out = forwardMlp(mlp, params, x, count);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += w[i] * (out[i] - y[i]) ** 2;
  return sum / out.length;
}

// The per-element loss weight: mean(w ⊙ (out − y)²), checked like the plain loss.
describe('weighted gradient graph', () => {
  const mlp: MlpConfig = { inputDim: 3, outputDim: 2, hiddenLayers: [5, 4], activation: 'silu' };
  const P = parameterCount(mlp);
  const count = 7;

  async function run(
    session: ort.InferenceSession,
    type: 'float32' | 'float64',
    theta: Float64Array,
    x: Float64Array,
    y: Float64Array,
    w?: Float64Array,
  ): Promise<{ loss: number; grad: Float64Array }> {
    const t = (a: Float64Array, dims: number[]): ort.Tensor => new ort.Tensor(type, type === 'float32' ? Float32Array.from(a) : a, dims);
    const feeds: Record<string, ort.Tensor> = { theta: t(theta, [P]), x: t(x, [count, 3]), y: t(y, [count, 2]) };
    if (w !== undefined) feeds.w = t(w, [count, 2]);
    const out = await session.run(feeds);
    return { loss: Number(out.loss.data[0]), grad: Float64Array.from(out.grad.data as Float32Array | Float64Array) };
  }

  it('matches the weighted loss and its central finite differences for every parameter (float64)', async () => {
    const session = await ort.InferenceSession.create(buildGradientGraph(mlp, 'float64', { weighted: true }));
    try {
      const rng = new Rng(14);
      const theta = randomArray(P, rng, 0.9);
      const x = randomArray(count * 3, rng, 1.5);
      const y = randomArray(count * 2, rng);
      // positive weights spread over two decades, so a graph that ignored them would be far off
      const w = Float64Array.from({ length: count * 2 }, () => Math.exp(4.6 * rng.nextFloat() - 2.3));
      const { loss, grad } = await run(session, 'float64', theta, x, y, w);
      expect(loss).toBeCloseTo(weightedReferenceLoss(mlp, theta, x, y, w, count), 12);
      expect(Math.abs(loss - referenceLoss(mlp, theta, x, y, count))).toBeGreaterThan(1e-3);
      const h = 1e-5;
      const fd = new Float64Array(P);
      for (let i = 0; i < P; i++) {
        const plus = Float64Array.from(theta);
        const minus = Float64Array.from(theta);
        plus[i] += h;
        minus[i] -= h;
        fd[i] = (weightedReferenceLoss(mlp, plus, x, y, w, count) - weightedReferenceLoss(mlp, minus, x, y, w, count)) / (2 * h);
      }
      const scale = Math.max(...fd.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-3);
      for (let i = 0; i < P; i++) expect(Math.abs(grad[i] - fd[i])).toBeLessThan(1e-8 * scale + 1e-10);
    } finally {
      await session.release();
    }
  });

  it.each(['float64', 'float32'] as const)('with all weights 1 gives exactly the unweighted loss and gradient (%s)', async (type) => {
    const weighted = await ort.InferenceSession.create(buildGradientGraph(mlp, type, { weighted: true }));
    const plain = await ort.InferenceSession.create(buildGradientGraph(mlp, type));
    try {
      expect(plain.inputNames).toEqual(['theta', 'x', 'y']);
      expect(weighted.inputNames).toEqual(['theta', 'x', 'y', 'w']);
      const rng = new Rng(15);
      const theta = randomArray(P, rng, 0.9);
      const x = randomArray(count * 3, rng, 1.5);
      const y = randomArray(count * 2, rng);
      const a = await run(weighted, type, theta, x, y, new Float64Array(count * 2).fill(1));
      const b = await run(plain, type, theta, x, y);
      expect(a.loss).toBe(b.loss);
      expect(Array.from(a.grad)).toEqual(Array.from(b.grad));
      expect(Math.max(...b.grad.map(Math.abs))).toBeGreaterThan(1e-3);
    } finally {
      await weighted.release();
      await plain.release();
    }
  });
});
