import { shuffleSeed } from './batch-sampler';
import type { BatchLoader } from './batch-loader';
import { isWeightedLoss, outputLossWeights } from './loss-weights';
import type { MlpConfig } from './mlp-config';
import { NnError } from './nn-error';
import type { Normalization } from './normalization';
import { computeTargetStats } from './shard-stats';
import type { ShardSource } from './shard-source';
import { makeStreamPlan } from './shuffled-rows';
import { stagedModelOnnx } from './staged-model';
import { StreamBatchLoader } from './stream-batch-loader';
import { trainStagesOn, type StagedTrainOptions, type StagedTrainResult, type StagePath } from './train-stages';
import type { TrainConfig } from './train-types';

/** A training set left on disk: its shard files, streamed through a bounded shuffle window. */
export interface StreamedData {
  shards: ShardSource;
  /** Most rows held in memory at once (default: the stream loader's, 2^20, or the largest shard). */
  windowRows?: number;
  /**
   * Per output, its value when it is the same in every row (ShardStats.outputConstant): the model
   * then answers exactly that value (see pinConstantOutputs). Absent: none is pinned.
   */
  constantOutputs?: (number | undefined)[];
}

/**
 * Multi-stage training on shards streamed from disk, for training sets larger than memory: the
 * same stages, schedule, validation, early stopping and checkpoints as trainStages, with batches
 * from a StreamBatchLoader. Stage s > 0 gets its targets on the loader thread from the finished
 * stages' model; the residual statistics come from one pass over the shards per stage. There is
 * no error-driven resampling (it needs every row's error in memory) and no relative loss (its
 * weights depend on each row's value): asking for it is NN_INVALID_CONFIG. Per-output weights
 * (the same in every row) are added to each batch.
 */
export async function trainStagesStreamed(
  data: StreamedData,
  normalization: Normalization,
  mlp: MlpConfig,
  config: TrainConfig,
  options: StagedTrainOptions = {},
): Promise<StagedTrainResult> {
  if (config.loss?.kind === 'relative') {
    throw new NnError('NN_INVALID_CONFIG', 'the relative loss is not available when the training set is streamed from disk: use loss mse (per-output weights are fine), or give the trainer the memory to load the data', {
      details: { field: 'loss', value: config.loss },
    });
  }
  // per-output weights are the same in every row: the loader's batches get them as a constant
  const weights = isWeightedLoss(config.loss, mlp.outputDim) ? outputLossWeights(config.loss, mlp.outputDim, data.constantOutputs) : undefined;
  const path = streamedStagePath(data, normalization, mlp, weights);
  try {
    return await trainStagesOn(path, mlp, config, options);
  } finally {
    await path.close();
  }
}

/** A stream loader whose batches also carry the same loss weight per output in every row. */
function withOutputWeights(loader: BatchLoader, weights: Float32Array): BatchLoader {
  return {
    next: (steps, x, y, w) => {
      loader.next(steps, x, y);
      if (!w) return;
      for (let s = 0; s < steps; s++) {
        const ws = w[s] as Float32Array;
        for (let i = 0; i < ws.length; i += weights.length) ws.set(weights, i);
      }
    },
    publishWeights: (version, sampling) => loader.publishWeights(version, sampling),
    close: () => loader.close(),
  };
}

function streamedStagePath(data: StreamedData, normalization: Normalization, mlp: MlpConfig, weights: Float32Array | undefined): StagePath {
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const { shards, windowRows } = data;
  const counts = shards.shards.map((s) => s.count);
  return {
    resample: false,
    source: async (_stage, stageConfig, finished, scale, shift) => {
      const adjust = finished.length > 0 ? { model: stagedModelOnnx(mlp, finished), scale: [...scale], shift: [...shift] } : undefined;
      const seed = shuffleSeed(stageConfig.seed);
      const sp = makeStreamPlan(counts, D, K, { batchSize: stageConfig.batchSize, epochs: stageConfig.epochs, seed, windowRows });
      return {
        plan: { ...sp, weightDim: 0 },
        weighted: weights !== undefined,
        openLoader: (startStep, slots) => {
          const loader = new StreamBatchLoader({ source: shards, normalization, batchSize: stageConfig.batchSize, epochs: stageConfig.epochs, seed, windowRows, startStep, aheadSteps: slots, adjust });
          return weights ? withOutputWeights(loader, weights) : loader;
        },
        close: async () => undefined,
      };
    },
    advance: async (_theta, stages, scale) => {
      // what all stages so far leave, in stage-0 units (the model includes every shift) …
      const ones = new Array<number>(K).fill(1);
      const st = await computeTargetStats(shards, normalization, { model: stagedModelOnnx(mlp, stages), scale: ones, shift: ones.map(() => 0) });
      // … in the last stage's units; its targets need no rewriting: the next source adjusts them
      return {
        mean: st.mean.map((m, k) => m / scale[k]),
        std: st.std.map((s, k) => s / scale[k]),
        meanSquare: st.meanSquare.map((q, k) => q / (scale[k] * scale[k])),
      };
    },
    close: async () => undefined,
  };
}
