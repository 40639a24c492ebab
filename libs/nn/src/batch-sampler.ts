import { Rng } from './rng';

/** How the optimizer steps map onto the rows of the training set. */
export interface BatchPlan {
  /** Training rows. */
  count: number;
  /** Rows per mini-batch. */
  batch: number;
  /** floor(count / batch): the last partial batch of an epoch is dropped. */
  stepsPerEpoch: number;
  totalSteps: number;
  inputDim: number;
  outputDim: number;
  /** Seed of the per-epoch shuffles. */
  seed: number;
  /** Loss-weight columns after the outputs in each row: 0, or outputDim (a weighted loss). */
  weightDim: number;
  /** Error-driven resampling of the later epochs; absent: every epoch is a plain shuffle. */
  resample?: ResamplePlan;
}

/**
 * From epoch `startEpoch` on, each epoch draws its `count` rows (with repetition) from sampling
 * weights that the trainer recomputes from the per-row errors every `everyEpochs` epochs
 * (weights version 1, 2, …), instead of a plain shuffle of all rows.
 */
export interface ResamplePlan {
  startEpoch: number;
  everyEpochs: number;
}

export function makeBatchPlan(
  count: number,
  batchSize: number,
  epochs: number,
  inputDim: number,
  outputDim: number,
  seed: number,
  resample?: ResamplePlan,
  weightDim = 0,
): BatchPlan {
  const batch = Math.min(batchSize, count);
  const stepsPerEpoch = Math.floor(count / batch);
  const plan: BatchPlan = { count, batch, stepsPerEpoch, totalSteps: stepsPerEpoch * epochs, inputDim, outputDim, seed, weightDim };
  if (resample && resample.startEpoch < epochs) plan.resample = resample;
  return plan;
}

/** The sampling-weights version epoch `epoch` uses: 0 for a plain shuffle. */
export function weightsVersion(plan: BatchPlan, epoch: number): number {
  const r = plan.resample;
  if (!r || epoch < r.startEpoch) return 0;
  return 1 + Math.floor((epoch - r.startEpoch) / r.everyEpochs);
}

/**
 * Fills `out` with `out.length` row indices by systematic resampling from `weights` (summing to
 * about 1): row i appears ⌊n·wᵢ⌋ or ⌈n·wᵢ⌉ times.
 */
export function systematicResample(weights: ArrayLike<number>, out: Uint32Array, u0: number): void {
  const n = out.length;
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  const stride = total / n;
  let u = u0 * stride;
  let c = weights[0];
  let i = 0;
  for (let j = 0; j < n; j++) {
    while (u >= c && i < weights.length - 1) c += weights[++i];
    out[j] = i;
    u += stride;
  }
}

/** The seed of the shuffle stream, distinct from the initialization stream of the same seed. */
export function shuffleSeed(seed: number): number {
  return (Math.trunc(seed) ^ 0x5bd1e995) + 0x27d4eb2f;
}

/**
 * Interleaves normalized inputs, outputs and (with a weighted loss) loss weights row by row
 * ([count, D+K(+K)]) so that gathering a random row touches one cache line instead of several.
 * `buffer` lets the caller choose a SharedArrayBuffer.
 */
export function interleaveRows(
  inputs: Float32Array,
  outputs: Float32Array,
  count: number,
  D: number,
  K: number,
  buffer?: ArrayBufferLike,
  weights?: Float32Array,
): Float32Array {
  const Kw = weights ? K : 0;
  const W = D + K + Kw;
  const rows = new Float32Array(buffer ?? new ArrayBuffer(count * W * 4), 0, count * W);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < D; j++) rows[i * W + j] = inputs[i * D + j];
    for (let k = 0; k < K; k++) rows[i * W + D + k] = outputs[i * K + k];
    for (let k = 0; k < Kw; k++) rows[i * W + D + K + k] = (weights as Float32Array)[i * K + k];
  }
  return rows;
}

/**
 * Produces the mini-batches of consecutive optimizer steps: step g uses batch g mod stepsPerEpoch
 * of the seeded shuffle of epoch ⌊g / stepsPerEpoch⌋. Steps must be requested in increasing order.
 */
export class BatchSampler {
  private readonly perm: Uint32Array;
  private readonly rng: Rng;
  private epoch = -1;

  /** `weightsFor(version)` returns the sampling weights of that version (see ResamplePlan). */
  constructor(
    private readonly rows: Float32Array,
    private readonly plan: BatchPlan,
    private readonly weightsFor: (version: number) => ArrayLike<number> = () => {
      throw new Error('no sampling weights');
    },
  ) {
    this.rng = new Rng(plan.seed);
    this.perm = new Uint32Array(plan.count);
    for (let i = 0; i < plan.count; i++) this.perm[i] = i;
  }

  /**
   * Writes step `step`'s inputs into x[xOffset…] (B×D), outputs into y[yOffset…] (B×K) and, with
   * a weighted loss, the loss weights into w[wOffset…] (B×K).
   */
  fill(step: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number, w?: Float32Array, wOffset = 0): void {
    const { batch, stepsPerEpoch, inputDim: D, outputDim: K, weightDim: Kw } = this.plan;
    const epoch = Math.floor(step / stepsPerEpoch);
    while (this.epoch < epoch) {
      this.epoch++;
      const version = weightsVersion(this.plan, this.epoch);
      if (version > 0) systematicResample(this.weightsFor(version), this.perm, this.rng.nextFloat());
      this.rng.shuffle(this.perm);
    }
    const W = D + K + Kw;
    const rows = this.rows;
    const perm = this.perm;
    const first = (step - epoch * stepsPerEpoch) * batch;
    for (let i = 0; i < batch; i++) {
      const r = perm[first + i] * W;
      for (let j = 0; j < D; j++) x[xOffset + i * D + j] = rows[r + j];
      for (let k = 0; k < K; k++) y[yOffset + i * K + k] = rows[r + D + k];
    }
    if (Kw > 0 && w) {
      for (let i = 0; i < batch; i++) {
        const r = perm[first + i] * W + D + K;
        for (let k = 0; k < Kw; k++) w[wOffset + i * Kw + k] = rows[r + k];
      }
    }
  }
}
