import type { Bus, Topics } from '@surrogate/messaging';
import type { v1 } from '@surrogate/proto';
import { Codecs } from '@surrogate/protocol';

/** A job the worker dead-lettered: the reason and the redeliveries it had (message properties). */
export interface DeadJob {
  reason: string;
  redeliveries: string;
}

/** What a worker publishes, as a test sees it: chunks, every event (and the ChunkFailed ones), dead-lettered jobs. */
export interface WorkerOutput {
  chunks: v1.DataChunk[];
  events: v1.ExperimentEvent[];
  failures: v1.IChunkFailed[];
  dead: DeadJob[];
}

/** Records a worker's output on `bus` under exclusive subscriptions `t` (subscribe before the worker starts). */
export async function recordWorkerOutput(bus: Bus, topics: Topics): Promise<WorkerOutput> {
  const out: WorkerOutput = { chunks: [], events: [], failures: [], dead: [] };
  const common = { subscription: 't', type: 'exclusive' as const };
  await bus.subscribe({ ...common, topic: topics.chunks, handler: (m) => void out.chunks.push(Codecs.chunk.decode(m.payload)) });
  await bus.subscribe({
    ...common,
    topic: topics.events,
    handler: (m) => {
      const e = Codecs.event.decode(m.payload);
      out.events.push(e);
      if (e.chunkFailed) out.failures.push(e.chunkFailed);
    },
  });
  await bus.subscribe({
    ...common,
    topic: `${topics.jobs}-datagen-DLQ`,
    handler: (m) => void out.dead.push({ reason: m.properties.DEAD_LETTER_REASON ?? '', redeliveries: m.properties.REDELIVERY_COUNT ?? '' }),
  });
  return out;
}
