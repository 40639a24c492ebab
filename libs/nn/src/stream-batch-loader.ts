import * as path from 'path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'worker_threads';
import { LOADER, RING, type BatchLoader } from './batch-loader';
import { NnError, type NnErrorCode } from './nn-error';
import { validateNormalization, type Normalization } from './normalization';
import { checkShardFile } from './shard-reader';
import { validateShardSource, type ShardSource } from './shard-source';
import { makeStreamPlan, type StreamPlan } from './shuffled-rows';
import { validateTargetAdjustment, type TargetAdjustment } from './target-adjust';
import type { MlpConfig } from './mlp-config';

export interface StreamLoaderOptions {
  source: ShardSource;
  /** Inputs go through the transform and box map, outputs are standardized by its mean and std. */
  normalization: Normalization;
  batchSize: number;
  epochs: number;
  /** Seed of the per-epoch shuffles. */
  seed: number;
  /** Most rows held in memory (the shuffle window, ≥ the largest shard); default DEFAULT_WINDOW_ROWS. */
  windowRows?: number;
  /** The first step to produce (resuming from a checkpoint); default 0. */
  startStep?: number;
  /** Steps gathered ahead of the trainer (ring slots); default 32. */
  aheadSteps?: number;
  /** Residual-stage targets (y − model(x) − shift)/scale instead of y. */
  adjust?: TargetAdjustment;
  /** How long `next` waits for a step's batch before failing; default 120 s. */
  timeoutMs?: number;
}

/** Cells of the status array after the ring's slot states. */
export const STREAM_CONTROL = { LOADER_STATE: 0, PEAK_ROWS: 1 } as const;

/** What the stream loader thread is handed. */
export interface StreamLoaderThreadInput {
  source: ShardSource;
  normalization: Normalization;
  plan: StreamPlan;
  startStep: number;
  slots: number;
  /** Float32 ring: one step's batch per slot, x (B×D) then y (B×K). */
  ring: SharedArrayBuffer;
  /** Int32: slot states, then the STREAM_CONTROL cells. */
  status: SharedArrayBuffer;
  adjust?: TargetAdjustment;
  /** Where the thread posts its error (a SerializedStreamError) before it flags LOADER.FAILED. */
  errors: MessagePort;
}

/** An error crossing from the loader thread. */
export interface SerializedStreamError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

const DEFAULT_AHEAD_STEPS = 32;
const DEFAULT_TIMEOUT_MS = 120_000;
/** How long close() lets the thread finish a shard read or an onnxruntime run before terminating it. */
const CLOSE_GRACE_MS = 10_000;

/**
 * Shuffled mini-batches streamed from shard files (datasets larger than memory): a helper thread
 * reads shards with positional reads into a bounded shuffle window (see ShuffledRows), normalizes
 * them as the in-memory trainer does, optionally turns the targets into a residual stage's, and
 * gathers each step's batch into a ring of shared slots ahead of the training thread. The batches
 * depend only on (source, seed, batch size, window) and the step, so a loader started at step k
 * produces exactly what a loader started at 0 produces from step k on.
 *
 * The shard files are checked (exist, right size) when the loader is built; errors found later on
 * the thread (a file changed, a non-finite value) come out of `next` as the thread's NnError.
 * Error-driven resampling is not available: `publishWeights` throws.
 */
export class StreamBatchLoader implements BatchLoader {
  readonly plan: StreamPlan;
  private readonly worker: Worker;
  private readonly errors: MessagePort;
  private readonly ring: Float32Array;
  private readonly status: Int32Array;
  private readonly slots: number;
  private readonly xSize: number;
  private readonly stepSize: number;
  private readonly startStep: number;
  private readonly timeoutMs: number;
  private step: number;
  private failure: NnError | undefined;
  private exited = false;

  constructor(options: StreamLoaderOptions) {
    const { source, normalization } = options;
    validateShardSource(source);
    const D = source.inputDim;
    const K = source.outputDim;
    // validateNormalization reads only the dimensions of the network
    validateNormalization(normalization, { inputDim: D, outputDim: K, hiddenLayers: [], activation: 'tanh' } satisfies MlpConfig);
    if (options.adjust) validateTargetAdjustment(options.adjust, K);
    for (const shard of source.shards) checkShardFile(shard, D, K);
    this.plan = makeStreamPlan(
      source.shards.map((s) => s.count),
      D,
      K,
      { batchSize: options.batchSize, epochs: options.epochs, seed: options.seed, windowRows: options.windowRows },
    );
    const startStep = options.startStep ?? 0;
    if (!(Number.isInteger(startStep) && startStep >= 0 && startStep <= this.plan.totalSteps)) {
      throw new NnError('NN_INVALID_CONFIG', `startStep must be an integer from 0 to ${this.plan.totalSteps}, got ${startStep}`, {
        details: { field: 'startStep', value: startStep, totalSteps: this.plan.totalSteps },
      });
    }
    const slots = options.aheadSteps ?? DEFAULT_AHEAD_STEPS;
    if (!(Number.isInteger(slots) && slots > 0)) {
      throw new NnError('NN_INVALID_CONFIG', `aheadSteps must be a positive integer, got ${slots}`, { details: { field: 'aheadSteps', value: slots } });
    }
    this.startStep = startStep;
    this.step = startStep;
    this.slots = slots;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.xSize = this.plan.batch * D;
    this.stepSize = this.plan.batch * (D + K);
    const ring = new SharedArrayBuffer(slots * this.stepSize * 4);
    const status = new SharedArrayBuffer((slots + 2) * 4);
    this.ring = new Float32Array(ring);
    this.status = new Int32Array(status);
    const channel = new MessageChannel();
    this.errors = channel.port1;
    const input: StreamLoaderThreadInput = {
      source: { ...source, shards: source.shards.map((s) => ({ file: s.file, count: s.count })) },
      normalization,
      plan: this.plan,
      startStep,
      slots,
      ring,
      status,
      adjust: options.adjust,
      errors: channel.port2,
    };
    this.worker = new Worker(path.join(__dirname, 'stream-loader-thread.js'), { workerData: input, transferList: [channel.port2] });
    this.worker.once('exit', () => {
      this.exited = true;
    });
    this.worker.unref();
  }

  /** Most rows the shuffle window has held so far (never more than plan.windowRows). */
  get peakWindowRows(): number {
    return Atomics.load(this.status, this.slots + STREAM_CONTROL.PEAK_ROWS);
  }

  next(steps: number, x: Float32Array[], y: Float32Array[]): void {
    if (this.failure) throw this.failure;
    if (this.step + steps > this.plan.totalSteps) {
      throw new NnError('TRAINING_FAILED', `asked for steps ${this.step}…${this.step + steps - 1}, the plan ends at step ${this.plan.totalSteps - 1}`, {
        details: { step: this.step, steps, totalSteps: this.plan.totalSteps },
      });
    }
    const deadline = Date.now() + this.timeoutMs;
    for (let s = 0; s < steps; s++, this.step++) {
      const slot = (this.step - this.startStep) % this.slots;
      while (Atomics.load(this.status, slot) !== RING.FULL) {
        if (Atomics.load(this.status, this.slots + STREAM_CONTROL.LOADER_STATE) === LOADER.FAILED) throw this.fail();
        if (Date.now() > deadline) {
          throw new NnError('TRAINING_FAILED', `the stream loader thread produced no batch for step ${this.step} in ${this.timeoutMs} ms`, {
            details: { step: this.step, timeoutMs: this.timeoutMs },
          });
        }
        Atomics.wait(this.status, slot, RING.EMPTY, 100);
      }
      const base = slot * this.stepSize;
      x[s].set(this.ring.subarray(base, base + this.xSize));
      y[s].set(this.ring.subarray(base + this.xSize, base + this.stepSize));
      Atomics.store(this.status, slot, RING.EMPTY);
      Atomics.notify(this.status, slot);
    }
  }

  publishWeights(version: number, _weights?: Float32Array): void {
    throw new NnError(
      'NN_INVALID_CONFIG',
      `the streaming loader has no error-driven resampling (sampling weights version ${version} were published): train it with resample: null`,
      { details: { field: 'resample', version } },
    );
  }

  /** Stops the thread: it finishes the shard read or onnxruntime run it is in, or is terminated after a grace period. */
  async close(): Promise<void> {
    Atomics.store(this.status, this.slots + STREAM_CONTROL.LOADER_STATE, LOADER.STOP);
    for (let s = 0; s < this.status.length; s++) Atomics.notify(this.status, s);
    if (!this.exited) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), CLOSE_GRACE_MS);
        this.worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.errors.close();
  }

  /** The thread's error (it posted it before flagging FAILED). */
  private fail(): NnError {
    const posted = receiveMessageOnPort(this.errors)?.message as SerializedStreamError | undefined;
    this.failure = posted
      ? new NnError(posted.code as NnErrorCode, posted.message, { details: posted.details })
      : new NnError('TRAINING_FAILED', 'the stream loader thread failed');
    return this.failure;
  }
}
