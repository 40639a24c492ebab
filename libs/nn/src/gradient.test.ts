import * as ort from 'onnxruntime-node';
import { ACTIVATIONS, parameterCount, type MlpConfig } from './mlp-config';
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
