import type { MlpConfig } from './mlp-config';
import type { ShardSource } from './shard-source';
import type { Normalization } from './normalization';
import type { TrainConfig, TrainProgress } from './train-types';
import type { StagedTrainResult } from './train-stages';

/** What trainMlp hands the training worker (as workerData). */
export interface TrainWorkerInput {
  mlp: MlpConfig;
  normalization: Normalization;
  config: TrainConfig;
  /** RAW units, only read: transferred copies, or the caller's SharedArrayBuffers. */
  inputs: Float32Array;
  outputs: Float32Array;
  count: number;
  /** Instead of inputs/outputs (then empty): the training set's shards, streamed from disk. */
  streamed?: { shards: ShardSource; windowRows?: number };
  /** Held-out samples (RAW units) whose loss is recorded after every epoch. */
  validation?: { inputs: Float32Array; outputs: Float32Array; count: number };
  checkpoint?: CheckpointSettings;
  /** Per output, its value when it is constant over the training set: a weighted loss gives it weight 0. */
  constantOutputs?: (number | undefined)[];
  /** Int32Array[1] over shared memory; the caller stores STOP_REQUESTED in cell 0 to stop training. */
  control: SharedArrayBuffer;
}

/** Where and how often the worker checkpoints, and whether it starts from the checkpoint there. */
export interface CheckpointSettings {
  file: string;
  /** Identifies the run; a checkpoint with another fingerprint is refused. */
  fingerprint: string;
  everySeconds: number;
  /** Carry on from `file` if it exists (a missing file means a fresh start). */
  resume: boolean;
}

/** Value of the control cell that asks the worker to stop at the next step boundary. */
export const STOP_REQUESTED = 1;

/** An error crossing the thread boundary. */
export interface SerializedError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** Messages from the training worker. */
export type TrainWorkerMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'checkpoint'; step: number }
  /** Writing the checkpoint of `step` failed (a full disk…): training went on, the last one written stays. */
  | { type: 'checkpoint-failed'; step: number; reason: string }
  | { type: 'done'; result: StagedTrainResult }
  | { type: 'error'; error: SerializedError };
