import { NnError } from './nn-error';

/**
 * The training loss: `mse`, or `relative` — each squared error divided by (|y| + floor·σ)², σ the
 * output's standard deviation, so that small values are fitted to the same relative precision as
 * large ones. `outputWeights` (default 1 each) weight the outputs against each other (e.g. a price
 * and its greeks). Both become per-element weights of the step graph's loss mean(w⊙(out−y)²).
 */
export interface LossConfig {
  kind: 'mse' | 'relative';
  outputWeights?: number[];
  /** relative: the floor under |y|, in output standard deviations (default 0.01). */
  relativeFloor?: number;
}

export const DEFAULT_RELATIVE_FLOOR = 0.01;

/** Whether a loss needs per-element weights (anything but the plain MSE). */
export function isWeightedLoss(loss: LossConfig | undefined, K: number): boolean {
  if (!loss) return false;
  if (loss.kind === 'relative') return true;
  return (loss.outputWeights ?? []).slice(0, K).some((w) => w !== 1);
}

/** Throws NN_INVALID_CONFIG unless the loss fits K outputs. */
export function validateLossConfig(loss: LossConfig, K: number): void {
  const fail = (rule: string, value: unknown): never => {
    throw new NnError('NN_INVALID_CONFIG', `loss ${rule}, got ${JSON.stringify(value)}`, { details: { field: 'loss', value, rule } });
  };
  if (loss.kind !== 'mse' && loss.kind !== 'relative') fail('kind must be mse or relative', loss.kind);
  const w = loss.outputWeights;
  if (w !== undefined && (w.length !== K || !w.every((x) => Number.isFinite(x) && x > 0))) fail(`outputWeights must be ${K} positive numbers`, w);
  const f = loss.relativeFloor;
  if (f !== undefined && !(Number.isFinite(f) && f > 0)) fail('relativeFloor must be a positive number', f);
}

/**
 * Per-element loss weights [count, K] of RAW outputs: outputWeight_k, times (σ_k/(|y| + floor·σ_k))²
 * for the relative loss. Scaled by `norm` (the caller passes the training set's normalizer,
 * lossWeightNormalizer, so that training weights average 1 and the learning rate keeps its
 * meaning; validation weights use the same factor, so the two losses compare).
 */
export function lossWeightsOf(outputs: Float32Array, count: number, K: number, std: readonly number[], loss: LossConfig, norm = 1): Float32Array {
  const w = new Float32Array(count * K);
  const floor = loss.relativeFloor ?? DEFAULT_RELATIVE_FLOOR;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < K; k++) {
      let v = loss.outputWeights?.[k] ?? 1;
      if (loss.kind === 'relative') {
        const q = std[k] / (Math.abs(outputs[i * K + k]) + floor * std[k]);
        v *= q * q;
      }
      w[i * K + k] = v * norm;
    }
  }
  return w;
}

/** 1 / mean of the weights: scaling by it makes them average 1. */
export function lossWeightNormalizer(w: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += w[i];
  return sum > 0 ? w.length / sum : 1;
}

/**
 * The per-output weights of a plain (mse) loss, scaled to average 1 as lossWeightsOf and
 * lossWeightNormalizer scale them for rows in memory; an output constant over the training set
 * (`constant[k]` defined) weighs 0. What a streamed training set's batches carry (every row the same).
 */
export function outputLossWeights(loss: LossConfig | undefined, K: number, constant: readonly (number | undefined)[] = []): Float32Array {
  const w = Float32Array.from({ length: K }, (_, k) => (constant[k] === undefined ? (loss?.outputWeights?.[k] ?? 1) : 0));
  const norm = lossWeightNormalizer(w);
  return w.map((x) => x * norm);
}
