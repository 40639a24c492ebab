import { NnError } from './nn-error';
import type { MlpConfig } from './mlp-config';

/**
 * How raw units map to the network's units: inputs go from the spec's box [min, max] onto [-1, 1];
 * outputs are standardized by the training set's mean and standard deviation.
 */
export interface Normalization {
  inputMin: readonly number[];
  inputMax: readonly number[];
  outputMean: readonly number[];
  outputStd: readonly number[];
}

/**
 * Per-output mean and (population) standard deviation of row-major `count × outputDim` values,
 * accumulated in float64. A constant output gets std 1 so that standardizing never divides by 0.
 */
export function computeOutputStats(outputs: Float32Array, count: number, outputDim: number): { mean: number[]; std: number[] } {
  if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(outputDim) || outputDim <= 0) {
    throw new NnError('NN_INVALID_DATA', `count and outputDim must be positive integers, got ${count} and ${outputDim}`, {
      details: { count, outputDim },
    });
  }
  if (outputs.length < count * outputDim) {
    throw new NnError('NN_INVALID_DATA', `outputs holds ${outputs.length} values, expected ${count * outputDim}`, {
      details: { length: outputs.length, count, outputDim },
    });
  }
  const mean = new Array<number>(outputDim).fill(0);
  for (let i = 0; i < count; i++) for (let k = 0; k < outputDim; k++) mean[k] += outputs[i * outputDim + k];
  for (let k = 0; k < outputDim; k++) mean[k] /= count;
  const variance = new Array<number>(outputDim).fill(0);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < outputDim; k++) {
      const d = outputs[i * outputDim + k] - mean[k];
      variance[k] += d * d;
    }
  }
  const std = variance.map((v) => {
    const s = Math.sqrt(v / count);
    return s > 0 && Number.isFinite(s) ? s : 1;
  });
  return { mean, std };
}

/** Throws NN_INVALID_CONFIG unless `n` fits `mlp` and maps every box onto a non-empty interval. */
export function validateNormalization(n: Normalization, mlp: MlpConfig): void {
  const fail = (message: string): never => {
    throw new NnError('NN_INVALID_CONFIG', message, { details: { normalization: n } });
  };
  if (n.inputMin.length !== mlp.inputDim || n.inputMax.length !== mlp.inputDim) {
    fail(`normalization has ${n.inputMin.length}/${n.inputMax.length} input bounds, expected ${mlp.inputDim}`);
  }
  if (n.outputMean.length !== mlp.outputDim || n.outputStd.length !== mlp.outputDim) {
    fail(`normalization has ${n.outputMean.length}/${n.outputStd.length} output statistics, expected ${mlp.outputDim}`);
  }
  for (let j = 0; j < mlp.inputDim; j++) {
    if (!Number.isFinite(n.inputMin[j]) || !Number.isFinite(n.inputMax[j]) || !(n.inputMax[j] > n.inputMin[j])) {
      fail(`input ${j}: need finite min < max, got [${n.inputMin[j]}, ${n.inputMax[j]}]`);
    }
  }
  for (let k = 0; k < mlp.outputDim; k++) {
    if (!Number.isFinite(n.outputMean[k]) || !Number.isFinite(n.outputStd[k]) || !(n.outputStd[k] > 0)) {
      fail(`output ${k}: need finite mean and std > 0, got mean ${n.outputMean[k]}, std ${n.outputStd[k]}`);
    }
  }
}

/** The affine maps of a normalization: normalized = raw·scale + shift (inputs), raw = normalized·std + mean (outputs). */
export interface NormalizationAffine {
  inputScale: Float64Array;
  inputShift: Float64Array;
  outputScale: Float64Array;
  outputShift: Float64Array;
}

export function normalizationAffine(n: Normalization): NormalizationAffine {
  const d = n.inputMin.length;
  const inputScale = new Float64Array(d);
  const inputShift = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const width = n.inputMax[j] - n.inputMin[j];
    inputScale[j] = 2 / width;
    inputShift[j] = -(n.inputMax[j] + n.inputMin[j]) / width;
  }
  return {
    inputScale,
    inputShift,
    outputScale: Float64Array.from(n.outputStd),
    outputShift: Float64Array.from(n.outputMean),
  };
}

/**
 * Normalizes row-major data (inputs onto [-1, 1], outputs standardized) from `src` into `dst`,
 * which may be the same arrays (in place).
 */
export function normalizeRows(
  n: Normalization,
  src: { inputs: Float32Array; outputs: Float32Array },
  dst: { inputs: Float32Array; outputs: Float32Array },
  count: number,
): void {
  const a = normalizationAffine(n);
  const d = a.inputScale.length;
  const k = a.outputScale.length;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < d; j++) dst.inputs[i * d + j] = src.inputs[i * d + j] * a.inputScale[j] + a.inputShift[j];
    for (let o = 0; o < k; o++) dst.outputs[i * k + o] = (src.outputs[i * k + o] - a.outputShift[o]) / a.outputScale[o];
  }
}
