import { SurrogateError } from '@surrogate/core';

export type EndKind = 'cancelled' | 'failed';

/** Why a job is not worth pricing: its submission of the experiment has ended. */
export interface EndedSubmission {
  kind: EndKind;
  reason: string;
  /** Publish time of the latest end event (the clock of the service that published it). */
  endedAt: number;
}

interface Entry extends EndedSubmission {
  /** Jobs published before this time (the producer's clock) belong to an ended submission. */
  staleBefore: number;
}

export class EndedExperimentsError extends SurrogateError {}

export interface EndedExperimentsOptions {
  /** Experiments remembered; the least recently touched is forgotten first. Default 10,000. */
  capacity?: number;
  /** How far the clocks of the services that publish jobs and end events may differ. Default 1000 ms. */
  clockSkewMs?: number;
}

/**
 * What a datagen worker knows of experiments that ended (cancelled or failed), from the events it
 * follows, as a time per experiment: a job published before it belongs to a submission that has
 * ended, so its chunk would be thrown away.
 *
 * Why times, and not "ended or not": the producer publishes every job of a submission after that
 * submission's `accepted` event, and a submission only ends by an event published after its jobs
 * (a cancel or a failure is handled after the producer has published the jobs, and it issues none
 * once the experiment is no longer running). So, on one clock:
 * - a job published before an end event belongs to the submission that ended (or an older one);
 * - a job published after the `accepted` of a resubmission belongs to it (or a later one), and one
 *   published before it belongs to a submission that ended (an experiment is only run again after it
 *   was cancelled or failed).
 * A resubmitted experiment's jobs are therefore priced whether or not its `accepted` has been read
 * yet, and the jobs still queued for the submission that ended are skipped even after it.
 *
 * Jobs and end events may come from different hosts (a trainer's failure, a standby producer), so
 * an end event counts `clockSkewMs` early: a job published less than that before the end is priced
 * (wasted work at worst), never a live job skipped. The `accepted` event and the jobs of a
 * submission come from the same producer, hence no margin there. Redelivered or reordered events
 * only ever lower a time, which `max` ignores.
 *
 * Bounded: at most `capacity` experiments, the least recently touched forgotten first. A forgotten
 * experiment's stale jobs are priced (as before workers followed events), never a live one skipped.
 */
export class EndedExperiments {
  private readonly entries = new Map<string, Entry>();
  readonly capacity: number;
  readonly clockSkewMs: number;

  constructor(options: EndedExperimentsOptions = {}) {
    this.capacity = checkInteger('capacity', options.capacity ?? 10_000, 1);
    this.clockSkewMs = checkInteger('clockSkewMs', options.clockSkewMs ?? 1000, 0);
  }

  get size(): number {
    return this.entries.size;
  }

  /** An end event (`cancelled` or `failed`) published at `publishedAt`. */
  ended(experimentId: string, kind: EndKind, reason: string, publishedAt: number): void {
    const entry = this.entries.get(experimentId);
    const staleBefore = publishedAt - this.clockSkewMs;
    if (entry === undefined) {
      this.touch(experimentId, { kind, reason, endedAt: publishedAt, staleBefore });
      return;
    }
    entry.staleBefore = Math.max(entry.staleBefore, staleBefore);
    if (publishedAt >= entry.endedAt) Object.assign(entry, { kind, reason, endedAt: publishedAt });
    this.touch(experimentId, entry);
  }

  /**
   * An `accepted` event published at `publishedAt`. After an end it starts a resubmission: every
   * job published before it belongs to a submission that ended. Without a known end it says nothing.
   */
  accepted(experimentId: string, publishedAt: number): void {
    const entry = this.entries.get(experimentId);
    if (entry === undefined) return;
    entry.staleBefore = Math.max(entry.staleBefore, publishedAt);
    this.touch(experimentId, entry);
  }

  /** The latest end known of an experiment (for status queries and tests). */
  get(experimentId: string): EndedSubmission | undefined {
    const entry = this.entries.get(experimentId);
    return entry === undefined
      ? undefined
      : { kind: entry.kind, reason: entry.reason, endedAt: entry.endedAt };
  }

  /** The ended submission a job published at `publishedAt` belongs to, or undefined: price it. */
  staleJob(experimentId: string, publishedAt: number): EndedSubmission | undefined {
    const entry = this.entries.get(experimentId);
    if (entry === undefined || publishedAt >= entry.staleBefore) return undefined;
    this.touch(experimentId, entry);
    return { kind: entry.kind, reason: entry.reason, endedAt: entry.endedAt };
  }

  private touch(experimentId: string, entry: Entry): void {
    this.entries.delete(experimentId);
    this.entries.set(experimentId, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new EndedExperimentsError(
      'INVALID_OPTION',
      `${name} = ${String(value)}: must be a whole number ≥ ${min}`,
      { details: { field: name, value } },
    );
  return value;
}
