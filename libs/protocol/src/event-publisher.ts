import type { Bus } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs } from './wire-codec';

/** The payload of an event: exactly one of the oneof members of ExperimentEvent. */
export type EventBody = Omit<v1.IExperimentEvent, 'experimentId' | 'timeMs' | 'source'>;

/** The name of the oneof member an event carries (`accepted`, `chunkAccepted`, …). */
export function eventKind(event: v1.IExperimentEvent): string {
  return (event as v1.ExperimentEvent).event ?? 'unknown';
}

/**
 * Publishes experiment events on the events topic. Events are keyed by experiment id so that a
 * key-shared subscriber sees one experiment's events in order.
 */
export class EventPublisher {
  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly source: string,
  ) {}

  async publish(experimentId: string, body: EventBody): Promise<v1.ExperimentEvent> {
    const event = v1.ExperimentEvent.create({
      ...body,
      experimentId,
      timeMs: Date.now(),
      source: this.source,
    });
    await this.bus.publish(this.topic, {
      payload: Codecs.event.encode(event),
      key: experimentId || undefined,
      properties: { event: eventKind(event), source: this.source },
    });
    return event;
  }
}
