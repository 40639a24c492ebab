import { NnError } from './nn-error';
import type { MlpConfig } from './mlp-config';
import { applyInputTransform, INPUT_TRANSFORMS, inputTransformDomainRule, type InputTransform } from './input-transform';

/**
 * How raw units map to the network's units: each input goes through its transform t (default
 * linear), then from [t(min), t(max)] of the spec's box onto [-1, 1]; outputs are standardized by
 * the training set's mean and standard deviation.
 */
export interface Normalization {
  inputMin: readonly number[];
  inputMax: readonly number[];
  /** Per input; absent means every input is linear. */
  inputTransform?: readonly InputTransform[];
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
  if (n.inputTransform !== undefined && n.inputTransform.length !== mlp.inputDim) {
    fail(`normalization has ${n.inputTransform.length} input transforms, expected ${mlp.inputDim}`);
  }
  for (let j = 0; j < mlp.inputDim; j++) {
    if (!Number.isFinite(n.inputMin[j]) || !Number.isFinite(n.inputMax[j]) || !(n.inputMax[j] > n.inputMin[j])) {
      fail(`input ${j}: need finite min < max, got [${n.inputMin[j]}, ${n.inputMax[j]}]`);
    }
    const t = inputTransformOf(n, j);
    if (!INPUT_TRANSFORMS.includes(t)) fail(`input ${j}: transform must be one of ${INPUT_TRANSFORMS.join(', ')}, got ${String(t)}`);
    const rule = inputTransformDomainRule(t, n.inputMin[j]);
    if (rule) fail(`input ${j}: ${rule}, got min ${n.inputMin[j]}`);
  }
  for (let k = 0; k < mlp.outputDim; k++) {
    if (!Number.isFinite(n.outputMean[k]) || !Number.isFinite(n.outputStd[k]) || !(n.outputStd[k] > 0)) {
      fail(`output ${k}: need finite mean and std > 0, got mean ${n.outputMean[k]}, std ${n.outputStd[k]}`);
    }
  }
}

/** Input j's transform (linear when the normalization names none). */
export function inputTransformOf(n: Normalization, j: number): InputTransform {
  return n.inputTransform?.[j] ?? 'linear';
}

/**
 * The affine maps of a normalization: normalized = t(raw)·scale + shift (inputs, t = the input's
 * transform), raw = normalized·std + mean (outputs).
 */
export interface NormalizationAffine {
  inputTransform: InputTransform[];
  inputScale: Float64Array;
  inputShift: Float64Array;
  outputScale: Float64Array;
  outputShift: Float64Array;
}

export function normalizationAffine(n: Normalization): NormalizationAffine {
  const d = n.inputMin.length;
  const inputScale = new Float64Array(d);
  const inputShift = new Float64Array(d);
  const inputTransform: InputTransform[] = [];
  for (let j = 0; j < d; j++) {
    const t = inputTransformOf(n, j);
    const lo = applyInputTransform(t, n.inputMin[j]);
    const hi = applyInputTransform(t, n.inputMax[j]);
    const width = hi - lo;
    inputTransform.push(t);
    inputScale[j] = 2 / width;
    inputShift[j] = -(hi + lo) / width;
  }
  return {
    inputTransform,
    inputScale,
    inputShift,
    outputScale: Float64Array.from(n.outputStd),
    outputShift: Float64Array.from(n.outputMean),
  };
}

/** Input j of a raw row in network units: t(x)·scale + shift. */
export function normalizeInput(a: NormalizationAffine, j: number, x: number): number {
  return applyInputTransform(a.inputTransform[j], x) * a.inputScale[j] + a.inputShift[j];
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
    for (let j = 0; j < d; j++) dst.inputs[i * d + j] = normalizeInput(a, j, src.inputs[i * d + j]);
    for (let o = 0; o < k; o++) dst.outputs[i * k + o] = (src.outputs[i * k + o] - a.outputShift[o]) / a.outputScale[o];
  }
}
