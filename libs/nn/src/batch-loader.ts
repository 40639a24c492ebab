import * as path from 'path';
import { Worker } from 'worker_threads';
import { NnError } from './nn-error';
import { BatchSampler, type BatchPlan } from './batch-sampler';

/** Slot states of the shared ring. */
export const RING = { EMPTY: 0, FULL: 1 } as const;
/** Loader states (control cell LOADER_STATE). */
export const LOADER = { RUNNING: 0, STOP: 1, FAILED: 2 } as const;
/** Cells of the control array that follow the ring's slot states. */
export const CONTROL = { LOADER_STATE: 0, WEIGHTS_VERSION: 1 } as const;

/** What the loader thread is handed. */
export interface LoaderThreadInput {
  plan: BatchPlan;
  /** Ring slots, one optimizer step's batch each. */
  slots: number;
  /** SharedArrayBuffer of the interleaved rows. */
  rows: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  /** Int32: slot states, then the CONTROL cells. */
  status: SharedArrayBuffer;
  /** Two Float32 weight arrays (version parity) of `count` each, when resampling. */
  weights?: SharedArrayBuffer;
  /** The first step to produce (a resumed training starts past 0). */
  startStep: number;
}

/** Supplies the mini-batches of consecutive optimizer steps, a session run's worth at a time. */
export interface BatchLoader {
  /** Fills x[s], y[s] (and w[s], with a weighted loss) for the next `steps` steps. */
  next(steps: number, x: Float32Array[], y: Float32Array[], w?: Float32Array[]): void;
  /** Hands over sampling weights `version` (1, 2, …) before the first run that needs them. */
  publishWeights(version: number, weights: Float32Array): void;
  close(): Promise<void>;
}

/** Gathers batches on the calling thread. */
export class InlineBatchLoader implements BatchLoader {
  private readonly sampler: BatchSampler;
  private readonly weights = new Map<number, Float32Array>();
  private step: number;

  /**
   * Starting past step 0 (a resumed training), the sampler replays the earlier epochs' shuffles;
   * the sampling weights of versions before the first one published are then only placeholders:
   * the resampling of the version in force overwrites whatever they produced.
   */
  constructor(rows: Float32Array, plan: BatchPlan, startStep = 0) {
    this.step = startStep;
    this.sampler = new BatchSampler(rows, plan, (version) => {
      const w = this.weights.get(version);
      if (!w) {
        const later = [...this.weights.keys()].find((k) => k > version);
        if (startStep > 0 && later !== undefined) return this.weights.get(later) as Float32Array;
        throw new NnError('TRAINING_FAILED', `sampling weights version ${version} were not published`);
      }
      this.weights.delete(version - 1);
      return w;
    });
  }

  next(steps: number, x: Float32Array[], y: Float32Array[], w?: Float32Array[]): void {
    for (let s = 0; s < steps; s++) this.sampler.fill(this.step++, x[s], 0, y[s], 0, w?.[s], 0);
  }

  publishWeights(version: number, weights: Float32Array): void {
    this.weights.set(version, Float32Array.from(weights));
  }

  async close(): Promise<void> {}
}

/** How long the training thread waits for a batch before concluding the loader is stuck. */
const LOADER_TIMEOUT_MS = 60_000;

/**
 * Gathers batches on a helper thread into a ring of shared slots (one step's batch each), ahead
 * of the training thread; `next` copies ready slots out (onnxruntime-node does not accept views of
 * shared memory). Produces exactly the batches InlineBatchLoader would. Sampling weights travel
 * through two shared arrays (by version parity): the loader cannot start an epoch that needs
 * version v before it is published, and the trainer publishes v only after consuming every step
 * of the epochs before, so the loader is done with version v−2 when v overwrites its array.
 */
export class ThreadedBatchLoader implements BatchLoader {
  private readonly worker: Worker;
  private readonly ring: Float32Array;
  private readonly status: Int32Array;
  private readonly weights: Float32Array | undefined;
  private readonly slots: number;
  private readonly stepSize: number;
  private readonly xSize: number;
  private readonly ySize: number;
  private readonly count: number;
  private step: number;

  /** `slots` should hold a few session runs' worth of steps; see InlineBatchLoader for `startStep`. */
  constructor(rows: Float32Array, plan: BatchPlan, slots: number, startStep = 0) {
    this.step = startStep;
    if (!(rows.buffer instanceof SharedArrayBuffer)) throw new TypeError('ThreadedBatchLoader needs rows in a SharedArrayBuffer');
    this.slots = slots;
    this.count = plan.count;
    this.xSize = plan.batch * plan.inputDim;
    this.ySize = plan.batch * plan.outputDim;
    this.stepSize = plan.batch * (plan.inputDim + plan.outputDim + plan.weightDim);
    const ringBuffer = new SharedArrayBuffer(slots * this.stepSize * 4);
    const statusBuffer = new SharedArrayBuffer((slots + 2) * 4);
    const weightsBuffer = plan.resample ? new SharedArrayBuffer(2 * plan.count * 4) : undefined;
    this.ring = new Float32Array(ringBuffer);
    this.status = new Int32Array(statusBuffer);
    this.weights = weightsBuffer ? new Float32Array(weightsBuffer) : undefined;
    const input: LoaderThreadInput = { plan, slots, rows: rows.buffer, ring: ringBuffer, status: statusBuffer, weights: weightsBuffer, startStep };
    this.worker = new Worker(path.join(__dirname, 'batch-loader-thread.js'), { workerData: input });
    this.worker.unref();
  }

  next(steps: number, x: Float32Array[], y: Float32Array[], w?: Float32Array[]): void {
    const deadline = Date.now() + LOADER_TIMEOUT_MS;
    for (let s = 0; s < steps; s++, this.step++) {
      const slot = this.step % this.slots;
      while (Atomics.load(this.status, slot) !== RING.FULL) {
        if (Atomics.load(this.status, this.slots + CONTROL.LOADER_STATE) === LOADER.FAILED) {
          throw new NnError('TRAINING_FAILED', 'the batch loader thread failed');
        }
        if (Date.now() > deadline) throw new NnError('TRAINING_FAILED', 'the batch loader thread stopped producing batches');
        Atomics.wait(this.status, slot, RING.EMPTY, 100);
      }
      const base = slot * this.stepSize;
      const yEnd = base + this.xSize + this.ySize;
      x[s].set(this.ring.subarray(base, base + this.xSize));
      y[s].set(this.ring.subarray(base + this.xSize, yEnd));
      if (w) w[s].set(this.ring.subarray(yEnd, base + this.stepSize));
      Atomics.store(this.status, slot, RING.EMPTY);
      Atomics.notify(this.status, slot);
    }
  }

  publishWeights(version: number, weights: Float32Array): void {
    if (!this.weights) throw new TypeError('this loader was built without resampling');
    this.weights.set(weights, (version % 2) * this.count);
    const cell = this.slots + CONTROL.WEIGHTS_VERSION;
    Atomics.store(this.status, cell, version);
    Atomics.notify(this.status, cell);
  }

  async close(): Promise<void> {
    const cell = this.slots + CONTROL.LOADER_STATE;
    Atomics.store(this.status, cell, LOADER.STOP);
    for (let s = 0; s < this.status.length; s++) Atomics.notify(this.status, s);
    await this.worker.terminate();
  }
}
