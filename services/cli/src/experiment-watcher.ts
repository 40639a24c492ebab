import type { Bus } from '@surrogate/messaging';
import type { HeldChunks } from '@surrogate/producer';
import { v1 } from '@surrogate/proto';
import { eventKind, followEvents, purposeName, type EventsFollower } from '@surrogate/protocol';
import type { ProgressDisplay } from './progress-display';

/** How an experiment ended, as the events told it. */
export type ExperimentOutcome =
  | { kind: 'modelReady'; modelReady: v1.IModelReady }
  | { kind: 'failed'; failed: v1.IExperimentFailed }
  | { kind: 'rejected'; rejected: v1.IExperimentRejected }
  | { kind: 'cancelled'; cancelled: v1.IExperimentCancelled };

/**
 * Follows one experiment's events: drives the progress display and resolves with the terminal
 * event (model ready, failed, rejected, cancelled).
 */
export class ExperimentWatcher {
  readonly outcome: Promise<ExperimentOutcome>;
  private resolveOutcome!: (o: ExperimentOutcome) => void;
  private follower: EventsFollower | undefined;
  private expected = 0;
  private readonly landed = new Set<string>();
  private deadLetterTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly experimentId: string,
    private readonly display: ProgressDisplay,
    /** Chunks a resumed experiment holds already: they count as landed from the start. */
    held?: HeldChunks,
    /**
     * The bus carries this experiment alone (the embedded run): a dead-lettered message is one of
     * its own, and it cannot complete without it. Unless a terminal event comes within `graceMs`
     * (a worker that dead-letters a job it cannot price also fails its chunk, and the producer the
     * experiment, with the precise reason), the watch ends as failed, naming the dead letter.
     */
    private readonly deadLettersEndIt?: { graceMs: number },
  ) {
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    for (const purpose of ['training', 'validation'] as const)
      for (const i of held?.[purpose] ?? []) this.landed.add(`${purpose}/${i}`);
  }

  /**
   * Follows the events topic from now on, under a non-durable subscription of its own
   * (`<purpose>-<random>`): gone with this process, however it ends.
   */
  async attach(bus: Bus, eventsTopic: string, purpose: string): Promise<void> {
    this.follower = await followEvents(bus, eventsTopic, purpose, (event) => this.onEvent(event));
  }

  /** Stops following; the broker drops the subscription. */
  async detach(): Promise<void> {
    if (this.deadLetterTimer) clearTimeout(this.deadLetterTimer);
    const follower = this.follower;
    this.follower = undefined;
    await follower?.stop();
  }

  onEvent(event: v1.ExperimentEvent): void {
    if (event.experimentId !== this.experimentId) {
      if (eventKind(event) === 'deadLettered' && event.deadLettered) {
        const d = event.deadLettered;
        this.display.note(`warning: a message was dead-lettered from ${d.topic}: ${d.reason}`);
        if (this.deadLettersEndIt && !this.deadLetterTimer)
          this.deadLetterTimer = setTimeout(
            () =>
              this.resolveOutcome({
                kind: 'failed',
                failed: {
                  code: 'MESSAGE_DEAD_LETTERED',
                  stage: d.topic?.endsWith('chunks') ? 'training' : 'datagen',
                  reason: `a message was dead-lettered from ${d.topic} (${d.reason}); the run cannot complete without it`,
                },
              }),
            this.deadLettersEndIt.graceMs,
          );
      }
      return;
    }
    switch (eventKind(event)) {
      case 'accepted': {
        const a = event.accepted as v1.IExperimentAccepted;
        this.expected = (a.trainingChunks ?? 0) + (a.validationChunks ?? 0);
        this.display.setStage(
          `accepted: ${a.trainingChunks} training + ${a.validationChunks} validation chunks` +
            (this.landed.size > 0 ? ` (${this.landed.size} held)` : ''),
        );
        this.display.chunk(this.landed.size, this.expected);
        return;
      }
      case 'chunkAccepted': {
        const c = event.chunkAccepted as v1.IChunkAccepted;
        this.landed.add(`${purposeName(c.purpose)}/${c.chunkIndex}`);
        this.display.chunk(this.landed.size, this.expected);
        return;
      }
      case 'chunkFailed': {
        const f = event.chunkFailed as v1.IChunkFailed;
        const note = `chunk ${purposeName(f.purpose)}/${f.chunkIndex} failed (${f.code}${f.permanent ? ', permanent' : ', will retry'}): ${f.reason}`;
        this.display.note(note);
        return;
      }
      case 'jobReissued': {
        const r = event.jobReissued as v1.IJobReissued;
        this.display.note(
          `re-issued ${purposeName(r.purpose)} chunk ${r.chunkIndex} (attempt ${r.attempt}): ${r.reason}`,
        );
        return;
      }
      case 'datasetReady':
        this.display.setStage('training');
        return;
      case 'trainingProgress': {
        const p = event.trainingProgress as v1.ITrainingProgress;
        this.display.epoch(p.epoch ?? 0, p.epochs ?? 0, p.loss ?? Number.NaN, p.samplesPerSec ?? 0);
        return;
      }
      case 'modelReady':
        return this.resolveOutcome({ kind: 'modelReady', modelReady: event.modelReady as v1.IModelReady });
      case 'failed':
        return this.resolveOutcome({ kind: 'failed', failed: event.failed as v1.IExperimentFailed });
      case 'rejected': {
        const r = event.rejected as v1.IExperimentRejected;
        // a refused cancel (e.g. of the submission before this one) leaves the experiment as it was
        if (r.command === v1.CommandKind.COMMAND_KIND_CANCEL) {
          this.display.note(`a cancel was refused (${r.code}): ${r.reason}`);
          return;
        }
        return this.resolveOutcome({ kind: 'rejected', rejected: r });
      }
      case 'cancelled':
        return this.resolveOutcome({
          kind: 'cancelled',
          cancelled: event.cancelled as v1.IExperimentCancelled,
        });
      default:
        return;
    }
  }
}
