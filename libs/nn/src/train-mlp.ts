import * as path from 'path';
import { Worker } from 'worker_threads';
import { constantOutputs, pinConstantOutputs } from './constant-outputs';
import { splitParameters, validateMlpConfig, type MlpConfig } from './mlp-config';
import { validateLossConfig } from './loss-weights';
import { NnError, TrainingAbortedError, TrainingDivergedError, type NnErrorCode } from './nn-error';
import { validateNormalization, type Normalization } from './normalization';
import { sourceRows, validateShardSource } from './shard-source';
import type { StreamedData } from './train-streamed';
import { validateTrainConfig, validateTrainingData, type TrainConfig, type TrainedModel, type TrainingData, type TrainProgress } from './train-types';
import { STOP_REQUESTED, type CheckpointSettings, type SerializedError, type TrainWorkerInput, type TrainWorkerMessage } from './worker-protocol';

/** The compiled worker entry, next to this file in dist/. */
export const TRAIN_WORKER_FILE = path.join(__dirname, 'train-worker.js');

/** How long a worker asked to stop may take before it is terminated. */
const STOP_GRACE_MS = 10_000;

function isShared(a: Float32Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

function deserialize(e: SerializedError): NnError {
  if (e.code === 'TRAINING_DIVERGED') return new TrainingDivergedError(Number(e.details.step), Number(e.details.loss), e.details);
  return new NnError(e.code as NnErrorCode, e.message, { details: e.details });
}

export interface TrainMlpOptions {
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
  /** Held-out RAW samples: their loss is recorded after every epoch and drives the plateau schedule and early stopping. */
  validation?: TrainingData;
  /**
   * Checkpoint the training to `file` (atomically) every `everySeconds`; with `resume`, carry on
   * from the checkpoint there (refused with CHECKPOINT_CORRUPT or CHECKPOINT_MISMATCH when it is
   * damaged or belongs to another run; a missing file means a fresh start).
   */
  checkpoint?: CheckpointSettings;
  /** Called after each checkpoint is on disk, with the optimizer step it holds. */
  onCheckpoint?: (step: number) => void;
  /**
   * Called when a checkpoint could not be written (training goes on; the last one written stays on
   * disk), with its step and the reason.
   */
  onCheckpointFailed?: (step: number, reason: string) => void;
}

/**
 * Trains an MLP on RAW-unit data in a worker thread (session.run blocks its thread; the caller's
 * event loop stays free). Data in SharedArrayBuffers is shared with the worker; otherwise it is
 * copied once and the copy transferred. `signal` stops the worker at its next step boundary, after
 * a last checkpoint when checkpoints are on (or terminates it after a grace period), and then
 * rejects with TRAINING_ABORTED; a non-finite loss stops training with TRAINING_DIVERGED naming the step.
 */
export async function trainMlp(
  data: TrainingData | StreamedData,
  mlp: MlpConfig,
  normalization: Normalization,
  config: TrainConfig,
  options: TrainMlpOptions = {},
): Promise<TrainedModel> {
  validateMlpConfig(mlp);
  validateNormalization(normalization, mlp);
  validateTrainConfig(config);
  const streamed = 'shards' in data ? data : undefined;
  if (streamed) {
    validateShardSource(streamed.shards);
    if (streamed.shards.inputDim !== mlp.inputDim || streamed.shards.outputDim !== mlp.outputDim) {
      throw new NnError('NN_INVALID_DATA', `the shards hold ${streamed.shards.inputDim} inputs and ${streamed.shards.outputDim} outputs, the model ${mlp.inputDim} and ${mlp.outputDim}`);
    }
  } else validateTrainingData(data as TrainingData, mlp);
  if (config.loss) validateLossConfig(config.loss, mlp.outputDim);
  if (options.validation) validateTrainingData(options.validation, mlp);
  const cp = options.checkpoint;
  if (cp && !(cp.file && cp.fingerprint && Number.isFinite(cp.everySeconds) && cp.everySeconds > 0)) {
    throw new NnError('NN_INVALID_CONFIG', 'checkpoint needs a file, a fingerprint and an interval (everySeconds > 0)', {
      details: { file: cp.file, everySeconds: cp.everySeconds },
    });
  }
  const { signal, onProgress } = options;
  if (signal?.aborted) throw new TrainingAbortedError('training aborted before it started', { cause: signal.reason });

  const mlpCopy: MlpConfig = { ...mlp, hiddenLayers: [...mlp.hiddenLayers] };
  const normCopy: Normalization = {
    inputMin: [...normalization.inputMin],
    inputMax: [...normalization.inputMax],
    ...(normalization.inputTransform ? { inputTransform: [...normalization.inputTransform] } : {}),
    outputMean: [...normalization.outputMean],
    outputStd: [...normalization.outputStd],
  };
  const rows = streamed ? { inputs: new Float32Array(0), outputs: new Float32Array(0), count: sourceRows(streamed.shards) } : (data as TrainingData);
  const shared = isShared(rows.inputs) && isShared(rows.outputs);
  const inputs = shared ? rows.inputs : rows.inputs.slice();
  const outputs = shared ? rows.outputs : rows.outputs.slice();
  const validation = options.validation
    ? { inputs: options.validation.inputs.slice(), outputs: options.validation.outputs.slice(), count: options.validation.count }
    : undefined;
  // outputs that never vary: the model is made to answer their value exactly (pinConstantOutputs)
  const constant = streamed ? (streamed.constantOutputs ?? []).slice(0, mlp.outputDim) : constantOutputs(rows.outputs, rows.count, mlp.outputDim);
  const control = new SharedArrayBuffer(4);
  const workerData: TrainWorkerInput = {
    mlp: mlpCopy,
    normalization: normCopy,
    config: { ...config },
    inputs,
    outputs,
    count: rows.count,
    ...(streamed ? { streamed: { shards: streamed.shards, ...(streamed.windowRows ? { windowRows: streamed.windowRows } : {}) } } : {}),
    ...(validation ? { validation } : {}),
    ...(cp ? { checkpoint: { ...cp } } : {}),
    ...(constant.some((c) => c !== undefined) ? { constantOutputs: constant } : {}),
    control,
  };
  const transferList = [
    ...(shared ? [] : [inputs.buffer as ArrayBuffer, outputs.buffer as ArrayBuffer]),
    ...(validation ? [validation.inputs.buffer as ArrayBuffer, validation.outputs.buffer as ArrayBuffer] : []),
  ];

  return new Promise<TrainedModel>((resolve, reject) => {
    const worker = new Worker(TRAIN_WORKER_FILE, { workerData, transferList });
    let settled = false;
    let exited = false;
    const finish = (err: Error | undefined, model?: TrainedModel): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (!exited) stopWorker();
      if (err) reject(err);
      else resolve(model as TrainedModel);
    };
    // Terminating a thread while it is inside onnxruntime's native code can abort the process, so
    // the worker is first asked to stop at its next step boundary (within one session.run) and is
    // terminated only if it has not exited after a grace period.
    const stopWorker = (): void => {
      Atomics.store(new Int32Array(control), 0, STOP_REQUESTED);
      const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      timer.unref();
      worker.once('exit', () => clearTimeout(timer));
    };
    // Aborted: the worker stops at its next step boundary after a last checkpoint (when checkpoints
    // are on); the promise settles once it has exited, so that a service that stops after this
    // does not end the process before that checkpoint is on disk (at most STOP_GRACE_MS).
    let aborted: TrainingAbortedError | undefined;
    const onAbort = (): void => {
      aborted = new TrainingAbortedError('training aborted', { cause: signal?.reason });
      if (exited) return finish(aborted);
      stopWorker(); // settled by the worker's answer (after its checkpoint) or its exit
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (msg: TrainWorkerMessage) => {
      if (settled) return;
      if (msg.type === 'progress' || msg.type === 'checkpoint' || msg.type === 'checkpoint-failed') {
        try {
          if (msg.type === 'progress') onProgress?.(msg.progress);
          else if (msg.type === 'checkpoint') options.onCheckpoint?.(msg.step);
          else options.onCheckpointFailed?.(msg.step, msg.reason);
        } catch (err) {
          const callback = msg.type === 'progress' ? 'onProgress' : msg.type === 'checkpoint' ? 'onCheckpoint' : 'onCheckpointFailed';
          finish(new NnError('TRAINING_FAILED', `the ${callback} callback threw`, { cause: err }));
        }
      } else if (msg.type === 'done') {
        const r = msg.result;
        // stage maps are in stage-0 normalized units; raw = normalized·std (+ mean for stage 0)
        const std = normCopy.outputStd;
        const trained: TrainedModel = {
          mlp: mlpCopy,
          normalization: normCopy,
          parameters: splitParameters(mlpCopy, r.stages[0].theta),
          residualStages: r.stages.slice(1).map((s) => ({
            parameters: splitParameters(mlpCopy, s.theta),
            outputScale: s.scale.map((c, k) => c * std[k]),
            outputShift: s.shift.map((c, k) => c * std[k]),
          })),
          finalLoss: r.finalLoss,
          epochs: r.epochs,
          steps: r.steps,
          lossHistory: r.lossHistory,
          valLossHistory: r.valLossHistory,
          resumedFromStep: r.resumedFromStep,
          stoppedEarly: r.stoppedEarly,
        };
        finish(undefined, pinConstantOutputs(trained, constant));
      } else {
        finish(aborted ?? deserialize(msg.error));
      }
    });
    worker.on('error', (err) => finish(new NnError('TRAINING_FAILED', `training worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      exited = true;
      finish(aborted ?? new NnError('TRAINING_FAILED', `training worker exited (code ${code}) without a result`, { details: { exitCode: code } }));
    });
  });
}
