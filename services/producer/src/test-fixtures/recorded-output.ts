import type { Bus, Topics } from '@surrogate/messaging';
import type { v1 } from '@surrogate/proto';
import { Codecs } from '@surrogate/protocol';

/** What producers publish, as a worker and a trainer would see it. */
export interface RecordedOutput {
  jobs: v1.DataGenJob[];
  events: v1.ExperimentEvent[];
}

/**
 * Records every job and event published from now on, under subscriptions of the test's own
 * (`test`), which take nothing from the services' subscriptions.
 */
export async function recordOutput(bus: Bus, topics: Topics): Promise<RecordedOutput> {
  const out: RecordedOutput = { jobs: [], events: [] };
  const common = { subscription: 'test', type: 'exclusive' as const };
  await bus.subscribe({ ...common, topic: topics.jobs, handler: (m) => void out.jobs.push(Codecs.job.decode(m.payload)) });
  await bus.subscribe({ ...common, topic: topics.events, handler: (m) => void out.events.push(Codecs.event.decode(m.payload)) });
  return out;
}
