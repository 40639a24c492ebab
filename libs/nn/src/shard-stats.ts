import { NnError } from './nn-error';
import { normalizationAffine, type Normalization } from './normalization';
import { assertLittleEndian, normalizeShard, readShard, shardBuffer } from './shard-reader';
import { largestShard, validateShardSource, type ShardSource } from './shard-source';
import { TargetAdjuster, type TargetAdjustment } from './target-adjust';

/**
 * Per-column count, mean and sum of squared deviations (M2), accumulated block by block: each
 * block's mean and M2 in float64 by two passes over the block, then merged with Chan, Golub and
 * LeVeque's update (mean += δ·n_b/n, M2 += M2_b + δ²·n_a·n_b/n). Sound where sums of squares are
 * not: a large mean does not cancel the variance away.
 */
export class RunningMoments {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;

  constructor(columns: number) {
    this.mean = new Float64Array(columns);
    this.m2 = new Float64Array(columns);
  }

  /** Adds `n` values of column `c`: values[offset + i·stride], i < n. Call for every column of a block, then `commit(n)`. */
  addColumn(c: number, values: ArrayLike<number>, offset: number, stride: number, n: number): void {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[offset + i * stride];
    const mb = sum / n;
    let m2b = 0;
    for (let i = 0; i < n; i++) {
      const d = values[offset + i * stride] - mb;
      m2b += d * d;
    }
    const na = this.count;
    const total = na + n;
    const delta = mb - this.mean[c];
    this.mean[c] += (delta * n) / total;
    this.m2[c] += m2b + (delta * delta * na * n) / total;
  }

  /** Counts the block whose columns were added. */
  commit(n: number): void {
    this.count += n;
  }

  /** Population standard deviations; 1 where a column is constant (standardizing never divides by 0). */
  std(): number[] {
    return Array.from(this.m2, (m2) => {
      const s = Math.sqrt(m2 / this.count);
      return s > 0 && Number.isFinite(s) ? s : 1;
    });
  }
}

/** What one pass over the raw shards finds. */
export interface ShardStats {
  count: number;
  /** Per output, in raw units: the normalization's outputMean / outputStd (std 1 for a constant output). */
  outputMean: number[];
  outputStd: number[];
  /** Per input, the smallest and largest raw value seen (to check against the spec's box). */
  inputMin: number[];
  inputMax: number[];
  /** Per output, its value when every row has the same (see constantOutputs), else undefined. */
  outputConstant: (number | undefined)[];
}

/**
 * Per-output mean and population standard deviation (as computeOutputStats computes them in
 * memory) and per-input ranges, in one pass that holds one shard at a time. Asynchronous reads:
 * the caller's event loop stays free. Throws NN_INVALID_DATA naming the file for a missing or
 * wrong-sized shard, and the file, row and column of a non-finite value.
 */
export async function computeShardStats(source: ShardSource): Promise<ShardStats> {
  validateShardSource(source);
  assertLittleEndian();
  const D = source.inputDim;
  const K = source.outputDim;
  const buffer = shardBuffer(largestShard(source), D, K);
  const moments = new RunningMoments(K);
  const inputMin = new Array<number>(D).fill(Infinity);
  const inputMax = new Array<number>(D).fill(-Infinity);
  const outputConstant: (number | undefined)[] = new Array<number | undefined>(K).fill(undefined);
  const outputVaries = new Array<boolean>(K).fill(false);
  for (const shard of source.shards) {
    await readShard(shard, D, K, buffer.bytes);
    const v = buffer.values;
    const n = shard.count;
    for (let c = 0; c < D + K; c++) {
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(v[c * n + i])) {
          const what = c < D ? `input ${c}` : `output ${c - D}`;
          throw new NnError('NN_INVALID_DATA', `shard ${shard.file}: ${what} of row ${i} is ${v[c * n + i]}`, {
            details: { file: shard.file, row: i, column: c, value: v[c * n + i] },
          });
        }
      }
    }
    for (let j = 0; j < D; j++) {
      let lo = inputMin[j];
      let hi = inputMax[j];
      for (let i = 0; i < n; i++) {
        const x = v[j * n + i];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      inputMin[j] = lo;
      inputMax[j] = hi;
    }
    for (let k = 0; k < K; k++) {
      moments.addColumn(k, v, (D + k) * n, 1, n);
      if (outputVaries[k] || n === 0) continue;
      const first = outputConstant[k] ?? (v[(D + k) * n] as number);
      for (let i = 0; i < n && !outputVaries[k]; i++) outputVaries[k] = v[(D + k) * n + i] !== first;
      outputConstant[k] = outputVaries[k] ? undefined : first;
    }
    moments.commit(n);
  }
  return { count: moments.count, outputMean: Array.from(moments.mean), outputStd: moments.std(), inputMin, inputMax, outputConstant };
}

/** Statistics of the targets the network sees (normalized units, after any adjustment). */
export interface TargetStats {
  count: number;
  mean: number[];
  /** Population std, 1 for a constant target. */
  std: number[];
  /** Mean of the squares: with an adjustment of the model so far (scale 1, shift 0), its MSE. */
  meanSquare: number[];
}

/**
 * One pass over the shards through the loader's own path (normalization, then the adjustment if
 * given): with `adjust` = { model: the stages so far, scale 1, shift 0 } the targets are the
 * residuals y − model(x), whose mean and std are the next stage's shift and scale and whose mean
 * square is the model's training MSE. Runs onnxruntime on the calling thread (one intra-op thread).
 */
export async function computeTargetStats(source: ShardSource, normalization: Normalization, adjust?: TargetAdjustment): Promise<TargetStats> {
  validateShardSource(source);
  assertLittleEndian();
  const D = source.inputDim;
  const K = source.outputDim;
  const a = normalizationAffine(normalization);
  if (a.inputScale.length !== D || a.outputScale.length !== K) {
    throw new NnError('NN_INVALID_CONFIG', `the normalization has ${a.inputScale.length} inputs and ${a.outputScale.length} outputs, the shards ${D} and ${K}`, {
      details: { inputs: a.inputScale.length, outputs: a.outputScale.length, inputDim: D, outputDim: K },
    });
  }
  const largest = largestShard(source);
  const buffer = shardBuffer(largest, D, K);
  const x = new Float32Array(largest * D);
  const y = new Float32Array(largest * K);
  const moments = new RunningMoments(K);
  const squares = new Float64Array(K);
  const adjuster = adjust ? await TargetAdjuster.create(adjust, D, K) : undefined;
  try {
    for (const shard of source.shards) {
      const n = shard.count;
      await readShard(shard, D, K, buffer.bytes);
      normalizeShard(shard, buffer.values, a, x, y);
      await adjuster?.apply(x, y, n);
      for (let k = 0; k < K; k++) {
        moments.addColumn(k, y, k, K, n);
        for (let i = 0; i < n; i++) squares[k] += y[i * K + k] * y[i * K + k];
      }
      moments.commit(n);
    }
  } finally {
    await adjuster?.release();
  }
  return {
    count: moments.count,
    mean: Array.from(moments.mean),
    std: moments.std(),
    meanSquare: Array.from(squares, (s) => s / moments.count),
  };
}
