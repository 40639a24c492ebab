import { checkDevice, NnError } from '@surrogate/nn';
import type { ExperimentSpec } from '@surrogate/spec';
import { streamsTrainingSetOf } from './training-run';

/** Why a trainer cannot train a spec at all, found before any of its data is generated. */
export interface TrainingRefusal {
  code: 'NN_DEVICE_UNAVAILABLE' | 'RELATIVE_LOSS_STREAMED';
  /** The spec field at fault. */
  field: string;
  /** What is wrong and what to do instead (without the field's name). */
  reason: string;
}

/**
 * What stops this trainer from training `spec` (undefined when nothing does): a device it cannot
 * use (CUDA without onnxruntime's CUDA provider), or the relative loss on a training set that is
 * streamed from disk under `memoryBudgetBytes` (default: half the machine's memory). The embedded
 * `run` refuses such a spec as bad input, a remote trainer fails it when it is accepted: either
 * way before its data is generated, not after.
 */
export async function trainingRefusal(spec: ExperimentSpec, memoryBudgetBytes?: number): Promise<TrainingRefusal | undefined> {
  try {
    await checkDevice(spec.training.device);
  } catch (err) {
    if (err instanceof NnError && err.code === 'NN_DEVICE_UNAVAILABLE') return { code: err.code, field: 'training.device', reason: err.message };
    throw err;
  }
  if (spec.training.loss === 'relative' && streamsTrainingSetOf(spec, memoryBudgetBytes))
    return {
      code: 'RELATIVE_LOSS_STREAMED',
      field: 'training.loss',
      reason:
        `relative: not available when the training set is streamed from disk, as ${spec.samples} samples are under ` +
        `this trainer's memory budget (${memoryBudgetBytes === undefined ? "half the machine's memory" : mebibytes(memoryBudgetBytes)}); ` +
        'use loss mse (per-output weights are fine), or give the trainer more memory (--memory-budget-mb)',
    };
  return undefined;
}

function mebibytes(bytes: number): string {
  return bytes >= 1048576 ? `${Math.round(bytes / 1048576)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
