/**
 * Entry point of the training worker thread (dist/train-worker.js): normalizes the data it was
 * handed, trains, and posts progress, the result (parameters transferred) or a typed error.
 */
import { parentPort, workerData } from 'worker_threads';
import { SurrogateError } from '@surrogate/core';
import { checkpointStep, readCheckpointFile, writeCheckpointFile } from './checkpoint';
import { isWeightedLoss, lossWeightNormalizer, lossWeightsOf, outputLossWeights } from './loss-weights';
import { NnError } from './nn-error';
import { normalizationAffine, normalizeInput } from './normalization';
import { rowWidth, type NormalizedRows } from './train-loop';
import { trainStages, type StagedTrainOptions, type StagedTrainResult } from './train-stages';
import { trainStagesStreamed } from './train-streamed';
import { STOP_REQUESTED, type SerializedError, type TrainWorkerInput, type TrainWorkerMessage } from './worker-protocol';

function post(message: TrainWorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

/**
 * Normalizes RAW samples straight into interleaved rows ([count, D+K]) in a SharedArrayBuffer,
 * ready for the loader thread; rejects non-finite values.
 */
export function normalizeToRows(
  input: Pick<TrainWorkerInput, 'mlp' | 'normalization' | 'count' | 'inputs' | 'outputs'>,
  weights?: Float32Array,
): NormalizedRows {
  const { mlp, count } = input;
  const a = normalizationAffine(input.normalization);
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const W = rowWidth(mlp, weights !== undefined);
  const rows = new Float32Array(new SharedArrayBuffer(count * W * 4));
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < D; j++) {
      const raw = input.inputs[i * D + j];
      const v = normalizeInput(a, j, raw);
      if (!Number.isFinite(v)) {
        const why = Number.isFinite(raw) ? ` (outside the domain of its ${a.inputTransform[j]} transform)` : '';
        throw new NnError('NN_INVALID_DATA', `input ${j} of row ${i} is ${raw}${why}`, { details: { row: i, column: j } });
      }
      rows[i * W + j] = v;
    }
    for (let k = 0; k < K; k++) {
      const raw = input.outputs[i * K + k];
      if (!Number.isFinite(raw)) throw new NnError('NN_INVALID_DATA', `output ${k} of row ${i} is ${raw}`, { details: { row: i, output: k } });
      rows[i * W + D + k] = (raw - a.outputShift[k]) / a.outputScale[k];
      if (weights) rows[i * W + D + K + k] = weights[i * K + k];
    }
  }
  return { rows, count, weighted: weights !== undefined };
}

/**
 * Loss weights [count, K] with a constant output's set to 0: the model answers its value exactly
 * (pinConstantOutputs), and a relative loss would otherwise weigh a constant 0 ~10^4 times the rest.
 */
function withoutConstantOutputs(w: Float32Array, constant: readonly (number | undefined)[] | undefined, K: number): Float32Array {
  if (!constant) return w;
  for (let k = 0; k < K; k++) {
    if (constant[k] === undefined) continue;
    for (let i = k; i < w.length; i += K) w[i] = 0;
  }
  return w;
}

function serialize(err: unknown): SerializedError {
  if (err instanceof SurrogateError) return { code: err.code, message: err.message, details: { ...err.details } };
  return { code: 'TRAINING_FAILED', message: err instanceof Error ? err.message : String(err), details: {} };
}

async function main(): Promise<void> {
  const input = workerData as TrainWorkerInput;
  const { mlp, config, normalization } = input;
  const K = mlp.outputDim;
  let trainWeights: Float32Array | undefined;
  let valWeights: Float32Array | undefined;
  if (config.loss && isWeightedLoss(config.loss, K) && input.streamed) {
    // streamed: per-output weights only (trainStagesStreamed refuses the relative loss); the
    // validation rows, in memory, carry the same weights as the streamed batches
    if (input.validation && config.loss.kind !== 'relative') {
      const perOutput = outputLossWeights(config.loss, K, input.constantOutputs);
      valWeights = new Float32Array(input.validation.count * K);
      for (let i = 0; i < valWeights.length; i += K) valWeights.set(perOutput, i);
    }
  } else if (config.loss && isWeightedLoss(config.loss, K)) {
    const raw = withoutConstantOutputs(lossWeightsOf(input.outputs, input.count, K, normalization.outputStd, config.loss), input.constantOutputs, K);
    const norm = lossWeightNormalizer(raw);
    trainWeights = raw.map((w) => w * norm);
    if (input.validation)
      valWeights = withoutConstantOutputs(
        lossWeightsOf(input.validation.outputs, input.validation.count, K, normalization.outputStd, config.loss, norm),
        input.constantOutputs,
        K,
      );
  }
  const validation = input.validation ? normalizeToRows({ ...input, ...input.validation }, valWeights) : undefined;
  const control = new Int32Array(input.control);
  const cp = input.checkpoint;
  const resume = cp?.resume ? readCheckpointFile(cp.file, cp.fingerprint) : undefined;
  const train = (options: StagedTrainOptions): Promise<StagedTrainResult> =>
    input.streamed
      ? trainStagesStreamed({ ...input.streamed, ...(input.constantOutputs ? { constantOutputs: input.constantOutputs } : {}) }, normalization, mlp, config, options)
      : trainStages(normalizeToRows(input, trainWeights), mlp, config, options);
  const result = await train({
    validation,
    onProgress: (progress) => post({ type: 'progress', progress }),
    shouldStop: () => Atomics.load(control, 0) === STOP_REQUESTED,
    ...(cp
      ? {
          resume,
          fingerprint: cp.fingerprint,
          checkpointEveryMs: cp.everySeconds * 1000,
          onCheckpoint: (c) => {
            // A checkpoint only shortens a rerun: one that cannot be written (a full disk) must not
            // end the run. Training goes on; the last checkpoint written stays as it was.
            try {
              writeCheckpointFile(cp.file, c);
            } catch (err) {
              post({ type: 'checkpoint-failed', step: checkpointStep(c), reason: err instanceof Error ? err.message : String(err) });
              return;
            }
            post({ type: 'checkpoint', step: checkpointStep(c) });
          },
        }
      : {}),
  });
  post({ type: 'done', result }, result.stages.map((s) => s.theta.buffer as ArrayBuffer));
}

if (parentPort) {
  main().catch((err: unknown) => post({ type: 'error', error: serialize(err) }));
}
