import * as ort from 'onnxruntime-node';
import { parameterCount, type MlpConfig } from './mlp-config';
import { Rng } from './rng';
import { ADAM, adamStepScalars, buildGradientGraph, buildTrainStepGraph, STEP_IO, weightMaskOf } from './train-step-graph';
import { randomArray, runGradient } from './test-helpers';

/**
 * Textbook Adam (Kingma & Ba, Algorithm 1) in plain JS float64, independent of the graph's
 * rewriting; with weightDecay > 0, AdamW (Loshchilov & Hutter, Algorithm 2: θ ← θ − lr·λ·θ before
 * the Adam step) on the parameters where `decays` is true.
 */
class JsAdam {
  m: Float64Array;
  v: Float64Array;
  t = 0;
  constructor(
    n: number,
    private readonly weightDecay = 0,
    private readonly decays: (i: number) => boolean = () => true,
  ) {
    this.m = new Float64Array(n);
    this.v = new Float64Array(n);
  }
  step(theta: Float64Array, g: Float64Array, lr: number): void {
    this.t++;
    for (let i = 0; i < theta.length; i++) {
      if (this.decays(i)) theta[i] -= lr * this.weightDecay * theta[i];
      this.m[i] = ADAM.beta1 * this.m[i] + (1 - ADAM.beta1) * g[i];
      this.v[i] = ADAM.beta2 * this.v[i] + (1 - ADAM.beta2) * g[i] * g[i];
      const mHat = this.m[i] / (1 - ADAM.beta1 ** this.t);
      const vHat = this.v[i] / (1 - ADAM.beta2 ** this.t);
      theta[i] -= (lr * mHat) / (Math.sqrt(vHat) + ADAM.epsilon);
    }
  }
}

describe('training step graph (Adam)', () => {
  const mlp: MlpConfig = { inputDim: 2, outputDim: 1, hiddenLayers: [6, 5], activation: 'silu' };
  const P = parameterCount(mlp);
  const batch = 9;
  const steps = 3;
  const rates = [3e-2, 1e-2, 5e-3];

  /** The steps' batches stacked row-wise, as the step graph takes them. */
  function stack(parts: readonly Float64Array[]): Float64Array {
    const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return all;
  }

  function batches(rng: Rng): { x: Float64Array; y: Float64Array }[] {
    return Array.from({ length: steps }, () => ({ x: randomArray(batch * 2, rng), y: randomArray(batch, rng) }));
  }

  it.each([
    [0, false],
    [0.1, false],
    [0.1, true],
  ])('runs several unrolled steps exactly like textbook Adam(W) on the graph gradients (float64, decay %s, weighted %s)', async (weightDecay, weighted) => {
    const rng = new Rng(21);
    const theta0 = randomArray(P, rng, 0.8);
    const data = batches(rng);
    // per-step loss weights (weighted graph only): positive, different per row and step
    const weights = Array.from({ length: steps }, () => Float64Array.from({ length: batch }, () => 0.2 + 3 * rng.nextFloat()));
    const stepSession = await ort.InferenceSession.create(buildTrainStepGraph(mlp, steps, 'float64', { weighted, weightDecay: weightDecay > 0 }));
    const gradSession = await ort.InferenceSession.create(buildGradientGraph(mlp, 'float64', { weighted }));
    try {
      // reference: JS Adam fed with gradients of the (finite-difference-checked) gradient graph
      const theta = Float64Array.from(theta0);
      // the weights of W1 [2×6], W2 [6×5], W3 [5×1] decay; the biases b1 [6], b2 [5], b3 [1] do not
      const weightRanges = [[0, 12], [18, 48], [53, 58]];
      const adam = new JsAdam(P, weightDecay, (i) => weightRanges.some(([a, b]) => i >= a && i < b));
      expect(Array.from(weightMaskOf(mlp)).filter((w) => w === 1)).toHaveLength(12 + 30 + 5);
      const refLosses: number[] = [];
      for (let s = 0; s < steps; s++) {
        const { loss, grad } = await runGradient(gradSession, mlp, theta, data[s].x, data[s].y, batch, weighted ? weights[s] : undefined);
        refLosses.push(loss);
        adam.step(theta, grad, rates[s]);
      }
      const feeds: Record<string, ort.Tensor> = {
        [STEP_IO.theta]: new ort.Tensor('float64', theta0, [P]),
        [STEP_IO.m]: new ort.Tensor('float64', new Float64Array(P), [P]),
        [STEP_IO.v]: new ort.Tensor('float64', new Float64Array(P), [P]),
        [STEP_IO.alpha]: new ort.Tensor('float64', Float64Array.from(rates, (lr, s) => adamStepScalars(lr, s + 1).alpha), [steps]),
        [STEP_IO.eps]: new ort.Tensor('float64', Float64Array.from(rates, (lr, s) => adamStepScalars(lr, s + 1).eps), [steps]),
        [STEP_IO.x]: new ort.Tensor('float64', stack(data.map((d) => d.x)), [steps * batch, 2]),
        [STEP_IO.y]: new ort.Tensor('float64', stack(data.map((d) => d.y)), [steps * batch, 1]),
      };
      if (weightDecay > 0) feeds[STEP_IO.decay] = new ort.Tensor('float64', Float64Array.from(rates, (lr) => lr * weightDecay), [steps]);
      if (weighted) feeds[STEP_IO.w] = new ort.Tensor('float64', stack(weights), [steps * batch, 1]);
      expect(stepSession.inputNames.includes(STEP_IO.w)).toBe(weighted);
      expect(stepSession.inputNames.includes(STEP_IO.decay)).toBe(weightDecay > 0);
      const out = await stepSession.run(feeds);
      const got = out[STEP_IO.thetaOut].data as Float64Array;
      const m = out[STEP_IO.mOut].data as Float64Array;
      const v = out[STEP_IO.vOut].data as Float64Array;
      const losses = out[STEP_IO.losses].data as Float64Array;
      for (let i = 0; i < P; i++) {
        expect(got[i]).toBeCloseTo(theta[i], 10);
        expect(m[i]).toBeCloseTo(adam.m[i], 12);
        expect(v[i]).toBeCloseTo(adam.v[i], 12);
        expect(got[i]).not.toBeCloseTo(theta0[i], 6); // every parameter actually moved
      }
      losses.forEach((l, s) => expect(l).toBeCloseTo(refLosses[s], 12));
    } finally {
      await stepSession.release();
      await gradSession.release();
    }
  });

  it('the float32 training graph agrees with the float64 reference to float32 precision', async () => {
    const rng = new Rng(22);
    const theta0 = randomArray(P, rng, 0.8);
    const data = batches(rng);
    const run = async (type: 'float32' | 'float64'): Promise<Float64Array> => {
      const session = await ort.InferenceSession.create(buildTrainStepGraph(mlp, steps, type, { weightDecay: true }));
      const arr = (a: ArrayLike<number>): Float32Array | Float64Array => (type === 'float32' ? Float32Array.from(a) : Float64Array.from(a));
      try {
        const feeds: Record<string, ort.Tensor> = {
          [STEP_IO.theta]: new ort.Tensor(type, arr(theta0), [P]),
          [STEP_IO.m]: new ort.Tensor(type, arr(new Float64Array(P)), [P]),
          [STEP_IO.v]: new ort.Tensor(type, arr(new Float64Array(P)), [P]),
          [STEP_IO.alpha]: new ort.Tensor(type, arr(rates.map((lr, s) => adamStepScalars(lr, s + 1).alpha)), [steps]),
          [STEP_IO.eps]: new ort.Tensor(type, arr(rates.map((lr, s) => adamStepScalars(lr, s + 1).eps)), [steps]),
          [STEP_IO.decay]: new ort.Tensor(type, arr(rates.map((lr) => lr * 0.01)), [steps]),
          [STEP_IO.x]: new ort.Tensor(type, arr(stack(data.map((d) => d.x))), [steps * batch, 2]),
          [STEP_IO.y]: new ort.Tensor(type, arr(stack(data.map((d) => d.y))), [steps * batch, 1]),
        };
        return Float64Array.from((await session.run(feeds))[STEP_IO.thetaOut].data as Float32Array);
      } finally {
        await session.release();
      }
    };
    const f32 = await run('float32');
    const f64 = await run('float64');
    // Adam's first steps move each parameter by about ±lr; float32 rounding may flip a tiny m/√v
    for (let i = 0; i < P; i++) expect(Math.abs(f32[i] - f64[i])).toBeLessThan(1e-4);
  });
});
