/** Helpers shared by this package's tests (not exported from the package). */
import * as ort from 'onnxruntime-node';
import { parameterCount, splitParameters, type MlpConfig } from './mlp-config';
import { forwardMlp } from './mlp-reference';
import { Rng } from './rng';

/** Random row-major values uniform in [-scale, scale]. */
export function randomArray(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => (2 * rng.nextFloat() - 1) * scale);
}

/** Float64 MSE of an MLP against targets, with parameters given flat. */
export function referenceLoss(mlp: MlpConfig, theta: Float64Array, x: Float64Array, y: Float64Array, count: number): number {
  const shapes = splitParameters(mlp, new Float32Array(parameterCount(mlp)));
  const params: Float64Array[] = [];
  let offset = 0;
  for (const s of shapes) {
    params.push(theta.subarray(offset, offset + s.length));
    offset += s.length;
  }
  const out = forwardMlp(mlp, params, x, count);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += (out[i] - y[i]) ** 2;
  return sum / out.length;
}

/** Runs the float64 gradient graph once; `w`: the per-element loss weights of a weighted graph. */
export async function runGradient(
  session: ort.InferenceSession,
  mlp: MlpConfig,
  theta: Float64Array,
  x: Float64Array,
  y: Float64Array,
  count: number,
  w?: Float64Array,
): Promise<{ loss: number; grad: Float64Array }> {
  const out = await session.run({
    theta: new ort.Tensor('float64', theta, [theta.length]),
    x: new ort.Tensor('float64', x, [count, mlp.inputDim]),
    y: new ort.Tensor('float64', y, [count, mlp.outputDim]),
    ...(w === undefined ? {} : { w: new ort.Tensor('float64', w, [count, mlp.outputDim]) }),
  });
  return { loss: (out.loss.data as Float64Array)[0], grad: new Float64Array(out.grad.data as Float64Array) };
}
