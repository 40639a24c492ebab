/**
 * Entry point of the stream loader thread (dist/stream-loader-thread.js): reads shards into the
 * shuffle window and gathers each step's batch into the shared ring ahead of the training thread.
 */
import { workerData } from 'worker_threads';
import { SurrogateError } from '@surrogate/core';
import { LOADER, RING } from './batch-loader';
import { normalizationAffine } from './normalization';
import { assertLittleEndian, normalizeShard, readShardSync, shardBuffer } from './shard-reader';
import { largestShard } from './shard-source';
import { ShuffledRows, type ShardLoad } from './shuffled-rows';
import { STREAM_CONTROL, type SerializedStreamError, type StreamLoaderThreadInput } from './stream-batch-loader';
import { TargetAdjuster } from './target-adjust';

/** Thrown to unwind when the training thread asks the loader to stop. */
class Stopped extends Error {}

async function run(input: StreamLoaderThreadInput): Promise<void> {
  const { plan, source, slots, startStep } = input;
  const D = plan.inputDim;
  const K = plan.outputDim;
  const ring = new Float32Array(input.ring);
  const status = new Int32Array(input.status);
  const stateCell = slots + STREAM_CONTROL.LOADER_STATE;
  const stopped = (): boolean => Atomics.load(status, stateCell) === LOADER.STOP;
  assertLittleEndian();
  const affine = normalizationAffine(input.normalization);
  const buffer = shardBuffer(largestShard(source), D, K);
  const adjuster = input.adjust ? await TargetAdjuster.create(input.adjust, D, K) : undefined;
  try {
    const load: ShardLoad = (s, x, y) => {
      if (stopped()) throw new Stopped();
      const shard = source.shards[s];
      readShardSync(shard, D, K, buffer.bytes);
      normalizeShard(shard, buffer.values, affine, x, y);
      return adjuster?.apply(x, y, shard.count);
    };
    const stream = new ShuffledRows(
      source.shards.map((s) => s.count),
      plan,
      load,
    );
    await stream.seek(startStep);
    const xSize = plan.batch * D;
    const stepSize = plan.batch * (D + K);
    for (let step = startStep; step < plan.totalSteps; step++) {
      const slot = (step - startStep) % slots;
      while (Atomics.load(status, slot) !== RING.EMPTY) {
        if (stopped()) return;
        Atomics.wait(status, slot, RING.FULL, 1000);
      }
      if (stopped()) return;
      await stream.fill(step, ring, slot * stepSize, ring, slot * stepSize + xSize);
      Atomics.store(status, slots + STREAM_CONTROL.PEAK_ROWS, stream.peakRows);
      Atomics.store(status, slot, RING.FULL);
      Atomics.notify(status, slot);
    }
  } finally {
    await adjuster?.release();
  }
}

function serialize(err: unknown): SerializedStreamError {
  if (err instanceof SurrogateError) return { code: err.code, message: err.message, details: { ...err.details } };
  return { code: 'TRAINING_FAILED', message: `stream loader thread: ${err instanceof Error ? err.message : String(err)}`, details: {} };
}

const input = workerData as StreamLoaderThreadInput;
run(input).catch((err: unknown) => {
  if (err instanceof Stopped) return;
  input.errors.postMessage(serialize(err));
  const status = new Int32Array(input.status);
  Atomics.store(status, input.slots + STREAM_CONTROL.LOADER_STATE, LOADER.FAILED);
  for (let s = 0; s < status.length; s++) Atomics.notify(status, s);
});
