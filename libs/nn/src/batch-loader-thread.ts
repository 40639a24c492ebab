/**
 * Entry point of the batch loader thread (dist/batch-loader-thread.js): gathers shuffled
 * mini-batches into a ring of shared slots ahead of the training thread, so that the gathering
 * (random memory access) overlaps with session.run on the training thread.
 */
import { workerData } from 'worker_threads';
import { BatchSampler } from './batch-sampler';
import { CONTROL, LOADER, RING, type LoaderThreadInput } from './batch-loader';

/** Thrown to unwind when the training thread asks the loader to stop. */
class Stopped extends Error {}

function run(input: LoaderThreadInput): void {
  const { plan, slots } = input;
  const rows = new Float32Array(input.rows);
  const ring = new Float32Array(input.ring);
  const status = new Int32Array(input.status);
  const stateCell = slots + CONTROL.LOADER_STATE;
  const versionCell = slots + CONTROL.WEIGHTS_VERSION;
  const weights = input.weights ? new Float32Array(input.weights) : undefined;
  const stopped = (): boolean => Atomics.load(status, stateCell) === LOADER.STOP;

  const sampler = new BatchSampler(rows, plan, (version) => {
    if (!weights) throw new Error('no sampling weights');
    for (;;) {
      const published = Atomics.load(status, versionCell);
      if (published >= version) break;
      if (stopped()) throw new Stopped();
      Atomics.wait(status, versionCell, published, 1000);
    }
    return weights.subarray((version % 2) * plan.count, (version % 2 + 1) * plan.count);
  });
  const xSize = plan.batch * plan.inputDim;
  const ySize = plan.batch * plan.outputDim;
  const stepSize = plan.batch * (plan.inputDim + plan.outputDim + plan.weightDim);
  for (let step = input.startStep; step < plan.totalSteps; step++) {
    const slot = step % slots;
    while (Atomics.load(status, slot) !== RING.EMPTY) {
      if (stopped()) return;
      Atomics.wait(status, slot, RING.FULL, 1000);
    }
    if (stopped()) return;
    const base = slot * stepSize;
    sampler.fill(step, ring, base, ring, base + xSize, ring, base + xSize + ySize);
    Atomics.store(status, slot, RING.FULL);
    Atomics.notify(status, slot);
  }
}

const input = workerData as LoaderThreadInput;
try {
  run(input);
} catch (err) {
  if (!(err instanceof Stopped)) {
    const status = new Int32Array(input.status);
    Atomics.store(status, input.slots + CONTROL.LOADER_STATE, LOADER.FAILED);
    for (let s = 0; s < status.length; s++) Atomics.notify(status, s);
  }
}
