import { layerShapes, type Activation, type MlpConfig } from './mlp-config';
import { normalizationAffine, normalizeInput, type Normalization } from './normalization';
import type { TrainedModel } from './train-types';

/** Plain-JS activations in float64 (the reference the ONNX graphs are checked against). */
export function activate(z: number, activation: Activation): number {
  switch (activation) {
    case 'tanh':
      return Math.tanh(z);
    case 'silu':
      return z / (1 + Math.exp(-z));
    case 'softplus':
      return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    case 'gelu':
      return 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
    case 'relu':
      return Math.max(z, 0);
  }
}

/**
 * Float64 forward pass of an MLP on `count` row-major rows of normalized inputs; returns the
 * network's (normalized) outputs. `parameters` are W1, b1, W2, b2, … with W row-major [fanIn, fanOut].
 */
export function forwardMlp(mlp: MlpConfig, parameters: readonly ArrayLike<number>[], x: ArrayLike<number>, count: number): Float64Array {
  const layers = layerShapes(mlp);
  let h = Float64Array.from({ length: count * mlp.inputDim }, (_, i) => x[i]);
  layers.forEach((layer, l) => {
    const W = parameters[2 * l];
    const b = parameters[2 * l + 1];
    const z = new Float64Array(count * layer.fanOut);
    for (let n = 0; n < count; n++) {
      for (let o = 0; o < layer.fanOut; o++) {
        let acc = b[o];
        for (let i = 0; i < layer.fanIn; i++) acc += h[n * layer.fanIn + i] * W[i * layer.fanOut + o];
        z[n * layer.fanOut + o] = l === layers.length - 1 ? acc : activate(acc, mlp.activation);
      }
    }
    h = z;
  });
  return h;
}

/** Float64 prediction in RAW units: normalizes the inputs, runs the MLP, de-standardizes the outputs. */
export function predictRaw(
  mlp: MlpConfig,
  normalization: Normalization,
  parameters: readonly ArrayLike<number>[],
  x: ArrayLike<number>,
  count: number,
): Float64Array {
  const a = normalizationAffine(normalization);
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const xn = new Float64Array(count * D);
  for (let n = 0; n < count; n++) for (let j = 0; j < D; j++) xn[n * D + j] = normalizeInput(a, j, x[n * D + j]);
  const y = forwardMlp(mlp, parameters, xn, count);
  for (let n = 0; n < count; n++) for (let k = 0; k < K; k++) y[n * K + k] = y[n * K + k] * a.outputScale[k] + a.outputShift[k];
  return y;
}

/** Float64 prediction of a whole (possibly multi-stage) model in RAW units: stage 0 plus every residual stage. */
export function predictModelRaw(
  model: Pick<TrainedModel, 'mlp' | 'normalization' | 'parameters' | 'residualStages'>,
  x: ArrayLike<number>,
  count: number,
): Float64Array {
  const { mlp, normalization } = model;
  const y = predictRaw(mlp, normalization, model.parameters, x, count);
  const stages = model.residualStages ?? [];
  if (stages.length === 0) return y;
  const a = normalizationAffine(normalization);
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const xn = new Float64Array(count * D);
  for (let n = 0; n < count; n++) for (let j = 0; j < D; j++) xn[n * D + j] = normalizeInput(a, j, x[n * D + j]);
  for (const stage of stages) {
    const out = forwardMlp(mlp, stage.parameters, xn, count);
    for (let n = 0; n < count; n++) for (let k = 0; k < K; k++) y[n * K + k] += out[n * K + k] * stage.outputScale[k] + stage.outputShift[k];
  }
  return y;
}
