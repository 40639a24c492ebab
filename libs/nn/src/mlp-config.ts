import { NnError } from './nn-error';

/** Hidden-layer nonlinearity. */
export type Activation = 'tanh' | 'silu' | 'softplus' | 'gelu' | 'relu';

/** `gelu` is the tanh form z/2·(1 + tanh(√(2/π)(z + 0.044715z³))) (Hendrycks & Gimpel 2016). */
export const ACTIVATIONS: readonly Activation[] = ['tanh', 'silu', 'softplus', 'gelu', 'relu'];

/** A fully connected network: inputDim → hiddenLayers… → outputDim, linear output layer. */
export interface MlpConfig {
  inputDim: number;
  outputDim: number;
  hiddenLayers: readonly number[];
  activation: Activation;
}

/** One dense layer `z = h·W + b`; W is stored row-major as [fanIn, fanOut]. */
export interface LayerShape {
  fanIn: number;
  fanOut: number;
}

/** The dense layers of an MLP, input to output. */
export function layerShapes(mlp: MlpConfig): LayerShape[] {
  const widths = [mlp.inputDim, ...mlp.hiddenLayers, mlp.outputDim];
  const layers: LayerShape[] = [];
  for (let i = 0; i + 1 < widths.length; i++) layers.push({ fanIn: widths[i], fanOut: widths[i + 1] });
  return layers;
}

/** Shapes of the parameter tensors in the order W1, b1, W2, b2, … */
export function parameterShapes(mlp: MlpConfig): number[][] {
  return layerShapes(mlp).flatMap((l) => [[l.fanIn, l.fanOut], [l.fanOut]]);
}

/** Total number of scalar parameters. */
export function parameterCount(mlp: MlpConfig): number {
  return parameterShapes(mlp).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/** Throws NN_INVALID_CONFIG unless `mlp` describes a network this package can build. */
export function validateMlpConfig(mlp: MlpConfig): void {
  const fail = (message: string, details: Record<string, unknown>): never => {
    throw new NnError('NN_INVALID_CONFIG', message, { details });
  };
  if (!isPositiveInt(mlp.inputDim)) fail(`inputDim must be a positive integer, got ${mlp.inputDim}`, { inputDim: mlp.inputDim });
  if (!isPositiveInt(mlp.outputDim)) fail(`outputDim must be a positive integer, got ${mlp.outputDim}`, { outputDim: mlp.outputDim });
  if (!Array.isArray(mlp.hiddenLayers) || !mlp.hiddenLayers.every(isPositiveInt)) {
    fail('hiddenLayers must be an array of positive integers', { hiddenLayers: mlp.hiddenLayers });
  }
  if (!ACTIVATIONS.includes(mlp.activation)) {
    fail(`activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(mlp.activation)}`, { activation: mlp.activation });
  }
}

/** Splits a flat parameter vector (W1, b1, W2, b2, … concatenated) into one array per tensor. */
export function splitParameters(mlp: MlpConfig, flat: Float32Array): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  for (const shape of parameterShapes(mlp)) {
    const n = shape.reduce((a, b) => a * b, 1);
    out.push(flat.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

/** Concatenates per-tensor parameters into one flat vector, checking each tensor's size. */
export function flattenParameters(mlp: MlpConfig, parameters: readonly Float32Array[]): Float32Array {
  const shapes = parameterShapes(mlp);
  if (parameters.length !== shapes.length) {
    throw new NnError('NN_INVALID_MODEL', `expected ${shapes.length} parameter tensors, got ${parameters.length}`, {
      details: { expected: shapes.length, actual: parameters.length },
    });
  }
  const flat = new Float32Array(parameterCount(mlp));
  let offset = 0;
  shapes.forEach((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (parameters[i].length !== n) {
      throw new NnError('NN_INVALID_MODEL', `parameter tensor ${i} has ${parameters[i].length} values, expected ${n}`, {
        details: { index: i, shape, actual: parameters[i].length },
      });
    }
    flat.set(parameters[i], offset);
    offset += n;
  });
  return flat;
}
