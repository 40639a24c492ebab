import { createLogger } from '@surrogate/core';
import { openBus, type Bus, type Topics } from '@surrogate/messaging';
import type { v1 } from '@surrogate/proto';
import { Codecs, eventKind } from '@surrogate/protocol';

export type AuditedTopic = 'events' | 'jobs' | 'chunks';

/**
 * What crosses the bus of one namespace, recorded under exclusive subscriptions of the test's own
 * (`e2e-audit`): open it before anything is published. Its subscriptions are none of the services'.
 */
export class TopicAudit {
  readonly events: v1.ExperimentEvent[] = [];
  readonly jobs: Array<{ job: v1.DataGenJob; publishTime: number }> = [];
  readonly chunks: v1.DataChunk[] = [];

  private constructor(
    /** The audit's own connection, e.g. to publish commands as a client would. */
    readonly bus: Bus,
  ) {}

  static async open(url: string, topics: Topics, watched: readonly AuditedTopic[] = ['events', 'jobs', 'chunks']): Promise<TopicAudit> {
    const audit = new TopicAudit(await openBus(url, { logger: createLogger({ name: 'e2e-audit', level: 'silent' }) }));
    const common = { subscription: 'e2e-audit', type: 'exclusive' as const };
    try {
      for (const topic of watched) {
        if (topic === 'events')
          await audit.bus.subscribe({ ...common, topic: topics.events, handler: (m) => void audit.events.push(Codecs.event.decode(m.payload)) });
        if (topic === 'jobs')
          await audit.bus.subscribe({
            ...common,
            topic: topics.jobs,
            handler: (m) => void audit.jobs.push({ job: Codecs.job.decode(m.payload), publishTime: m.publishTime }),
          });
        if (topic === 'chunks')
          await audit.bus.subscribe({ ...common, topic: topics.chunks, handler: (m) => void audit.chunks.push(Codecs.chunk.decode(m.payload)) });
      }
    } catch (err) {
      await audit.close();
      throw err;
    }
    return audit;
  }

  /** The recorded events of one kind (`accepted`, `chunkAccepted`, …), of one experiment when given. */
  of(kind: string, experimentId?: string): v1.ExperimentEvent[] {
    return this.events.filter((e) => eventKind(e) === kind && (experimentId === undefined || e.experimentId === experimentId));
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}
