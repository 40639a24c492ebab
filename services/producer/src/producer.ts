import { createLogger, errorMessage, type Logger } from '@surrogate/core';
import type { Bus, IncomingMessage, Subscription, Topics } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import {
  chunkKey,
  Codecs,
  deadLetterReporter,
  EventPublisher,
  eventKind,
  purposeName,
  purposeValue,
} from '@surrogate/protocol';
import { planChunk, SpecError, specFromWire, specToWire, type ChunkPurposeName } from '@surrogate/spec';
import { ExperimentTracker } from './experiment-tracker';
import { heldChunksFromWire, HeldChunksError } from './held-chunks';

export interface ProducerOptions {
  bus: Bus;
  topics: Topics;
  logger?: Logger;
  /** A chunk that has not landed when its experiment made no progress for this long is re-issued. Default 10 min. */
  jobTimeoutMs?: number;
  /** Issues of one job (first + re-issues) before the experiment fails. Default 5. */
  maxJobAttempts?: number;
  /** How often stalled experiments are looked for. Default min(jobTimeoutMs / 4, 10 s). */
  checkIntervalMs?: number;
  /** Jobs published concurrently while planning. Default 64. */
  publishConcurrency?: number;
  /** Subscription name on the experiments and events topics. Default `producer`. */
  subscription?: string;
  /** Redeliveries before a message that keeps failing goes to the dead-letter topic. Default 5. */
  maxRedeliveries?: number;
}

const SOURCE = 'producer';

/**
 * The producer: validates specs, splits them into data-generation jobs, tracks which chunks have
 * landed, re-issues jobs that never complete, handles cancel, and publishes experiment events.
 *
 * Every handler is idempotent by the message's identity: a redelivered submit for a known
 * experiment id is ignored, a duplicate ChunkAccepted changes nothing. A submit of a known
 * experiment that was cancelled or failed, issued anew (another issuedAtMs), runs it again; its
 * `held` field names the chunks the trainer already stores, whose jobs are not issued.
 */
export class Producer {
  private readonly log: Logger;
  private readonly events: EventPublisher;
  private readonly experiments = new Map<string, ExperimentTracker>();
  private readonly subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly jobTimeoutMs: number;
  private readonly maxJobAttempts: number;
  private readonly checkIntervalMs: number;

  constructor(private readonly options: ProducerOptions) {
    this.log = options.logger ?? createLogger({ name: SOURCE });
    this.events = new EventPublisher(options.bus, options.topics.events, SOURCE);
    this.jobTimeoutMs = options.jobTimeoutMs ?? 10 * 60_000;
    this.maxJobAttempts = options.maxJobAttempts ?? 5;
    this.checkIntervalMs = options.checkIntervalMs ?? Math.min(this.jobTimeoutMs / 4, 10_000);
  }

  async start(): Promise<void> {
    const { bus, topics } = this.options;
    const subscription = this.options.subscription ?? SOURCE;
    const common = {
      subscription,
      type: 'failover' as const,
      maxRedeliveries: this.options.maxRedeliveries ?? 5,
      onDeadLetter: deadLetterReporter(this.events, this.log),
    };
    this.subscriptions.push(
      await bus.subscribe({ ...common, topic: topics.experiments, handler: (m) => this.handleCommand(m) }),
      await bus.subscribe({ ...common, topic: topics.events, handler: (m) => this.handleEvent(m) }),
    );
    this.timer = setInterval(() => void this.checkStalled(), this.checkIntervalMs);
    this.timer.unref();
    this.log.info({ topics, jobTimeoutMs: this.jobTimeoutMs }, 'producer started');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
    this.log.info('producer stopped');
  }

  /** The producer's view of an experiment (for tests and status queries). */
  experiment(id: string): ExperimentTracker | undefined {
    return this.experiments.get(id);
  }

  async handleCommand(message: IncomingMessage): Promise<void> {
    const command = Codecs.command.decode(message.payload);
    const id = command.experimentId;
    if (!id) {
      await this.events.publish('', {
        rejected: {
          code: 'MISSING_EXPERIMENT_ID',
          field: 'experimentId',
          reason: 'an experiment command needs an experiment id',
        },
      });
      return;
    }
    if (command.submit) await this.submit(id, command.submit, Number(command.issuedAtMs ?? 0));
    else if (command.cancel) await this.cancel(id, command.cancel.reason || 'cancelled by user', Number(command.issuedAtMs ?? 0));
    else
      await this.events.publish(id, {
        rejected: {
          code: 'EMPTY_COMMAND',
          field: 'command',
          reason: 'the command carries neither submit nor cancel',
        },
      });
  }

  private async submit(id: string, submit: v1.ISubmitExperiment, issuedAtMs: number): Promise<void> {
    const known = this.experiments.get(id);
    if (known) {
      const rerun = (known.status === 'cancelled' || known.status === 'failed') && known.submittedAt !== issuedAtMs;
      if (!rerun) {
        this.log.info({ experimentId: id, status: known.status }, 'submit for a known experiment ignored (redelivery)');
        return;
      }
      this.log.info({ experimentId: id, was: known.status }, 'experiment submitted again; running it again');
    }
    let tracker: ExperimentTracker;
    let held: Record<ChunkPurposeName, Set<number>>;
    try {
      const spec = specFromWire(submit.spec ?? {});
      tracker = new ExperimentTracker(id, spec, specToWire(spec), Date.now(), issuedAtMs);
      held = heldChunksFromWire(submit.held, tracker.expected);
    } catch (err) {
      const submitRefused = { command: v1.CommandKind.COMMAND_KIND_SUBMIT, commandIssuedAtMs: issuedAtMs };
      if (err instanceof HeldChunksError) {
        this.log.warn({ experimentId: id, err: err.message }, 'held chunks rejected');
        await this.events.publish(id, {
          rejected: { code: err.code, field: String(err.details.field), reason: err.message, ...submitRefused },
        });
        return;
      }
      if (!(err instanceof SpecError)) throw err;
      const first = err.issues[0];
      this.log.warn({ experimentId: id, issues: err.issues }, 'spec rejected');
      await this.events.publish(id, {
        rejected: { code: err.code, field: first?.field ?? '', reason: err.message, ...submitRefused },
      });
      return;
    }
    this.experiments.set(id, tracker);
    const { training, validation } = tracker.expected;
    const now = Date.now();
    const missing: { purpose: ChunkPurposeName; index: number }[] = [];
    for (const purpose of ['training', 'validation'] as const) {
      for (let i = 0; i < tracker.expected[purpose]; i++) {
        if (held[purpose].has(i)) tracker.presumeHeld(purpose, i, now);
        else missing.push({ purpose, index: i });
      }
    }
    await this.events.publish(id, {
      accepted: { spec: tracker.wireSpec, trainingChunks: training, validationChunks: validation },
    });
    this.log.info(
      { experimentId: id, name: tracker.spec.name, training, validation, held: tracker.presumed, issuing: missing.length },
      tracker.presumed > 0 ? 'experiment accepted; publishing the jobs of the chunks not held' : 'experiment accepted; publishing jobs',
    );
    await this.publishJobs(tracker, missing);
  }

  private async publishJobs(
    tracker: ExperimentTracker,
    chunks: { purpose: ChunkPurposeName; index: number }[],
  ): Promise<void> {
    const limit = this.options.publishConcurrency ?? 64;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < chunks.length && tracker.isActive) {
        const c = chunks[next++] as { purpose: ChunkPurposeName; index: number };
        await this.publishJob(tracker, c.purpose, c.index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, chunks.length) }, lane));
  }

  private async publishJob(
    tracker: ExperimentTracker,
    purpose: ChunkPurposeName,
    index: number,
  ): Promise<number> {
    const plan = planChunk(tracker.spec, purpose, index);
    const attempt = tracker.issued(purpose, index, Date.now());
    const job = v1.DataGenJob.create({
      experimentId: tracker.id,
      purpose: purposeValue(purpose),
      chunkIndex: index,
      chunkCount: tracker.expected[purpose],
      startIndex: plan.start,
      sampleCount: plan.count,
      attempt,
      spec: tracker.wireSpec,
    });
    await this.options.bus.publish(this.options.topics.jobs, {
      payload: Codecs.job.encode(job),
      key: chunkKey(tracker.id, purpose, index),
      properties: { 'experiment-id': tracker.id, attempt: String(attempt) },
    });
    return attempt;
  }

  /**
   * Cancels a running experiment. An unknown one, or one that has ended already, gets a rejection
   * of the cancel command (correlated by its issuedAtMs) so that `surrogate cancel` answers at
   * once; the experiment is left as it is. A redelivered cancel of an experiment it cancelled is
   * refused the same way, which no one waits for.
   */
  private async cancel(id: string, reason: string, issuedAtMs: number): Promise<void> {
    const tracker = this.experiments.get(id);
    const refuse = (code: string, why: string): Promise<unknown> =>
      this.events.publish(id, {
        rejected: { code, field: 'experimentId', reason: why, command: v1.CommandKind.COMMAND_KIND_CANCEL, commandIssuedAtMs: issuedAtMs },
      });
    if (!tracker) {
      await refuse('UNKNOWN_EXPERIMENT', `no experiment ${id} to cancel`);
      return;
    }
    if (tracker.status === 'cancelled' || tracker.status === 'succeeded' || tracker.status === 'failed') {
      await refuse('EXPERIMENT_ENDED', `experiment ${id} has already ended (${tracker.status}); there is nothing to cancel`);
      return;
    }
    tracker.status = 'cancelled';
    this.log.info({ experimentId: id, reason }, 'experiment cancelled');
    await this.events.publish(id, { cancelled: { reason } });
  }

  async handleEvent(message: IncomingMessage): Promise<void> {
    const event = Codecs.event.decode(message.payload);
    const tracker = this.experiments.get(event.experimentId);
    if (!tracker) return;
    const now = Date.now();
    switch (eventKind(event)) {
      case 'chunkAccepted': {
        const c = event.chunkAccepted as v1.ChunkAccepted;
        tracker.markLanded(purposeName(c.purpose), c.chunkIndex, now);
        return;
      }
      case 'datasetReady':
        // the trainer holds every chunk, also those a resubmission said it held (never issued)
        tracker.markAllLanded(now);
        return;
      case 'chunkFailed': {
        const f = event.chunkFailed as v1.ChunkFailed;
        if (f.permanent && tracker.isActive) {
          await this.fail(
            tracker,
            f.code || 'CHUNK_FAILED',
            'datagen',
            `${purposeName(f.purpose)} chunk ${f.chunkIndex}: ${f.reason}`,
          );
        }
        return;
      }
      case 'modelReady':
        tracker.status = 'succeeded';
        return;
      case 'failed':
        if (tracker.status !== 'cancelled') tracker.status = 'failed';
        return;
      default:
        return;
    }
  }

  private async fail(tracker: ExperimentTracker, code: string, stage: string, reason: string): Promise<void> {
    tracker.status = 'failed';
    this.log.error({ experimentId: tracker.id, code, stage, reason }, 'experiment failed');
    await this.events.publish(tracker.id, { failed: { code, stage, reason } });
  }

  /**
   * Re-issues the jobs of experiments that made no progress for jobTimeoutMs. Jobs wait in the
   * queue behind each other, so the clock is the experiment's progress, not each job's age: a job
   * is only suspected lost once nothing has landed for a whole timeout.
   */
  async checkStalled(now = Date.now()): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const tracker of this.experiments.values()) {
        if (!tracker.isActive || now - tracker.lastProgressAt < this.jobTimeoutMs) continue;
        tracker.lastProgressAt = now;
        for (const c of tracker.outstanding()) {
          if (!tracker.isActive) break;
          if (c.attempt >= this.maxJobAttempts) {
            await this.fail(
              tracker,
              'JOB_ATTEMPTS_EXHAUSTED',
              'datagen',
              `${c.purpose} chunk ${c.index} did not complete after ${c.attempt} attempts of ${this.jobTimeoutMs} ms each`,
            );
            break;
          }
          const attempt = await this.publishJob(tracker, c.purpose, c.index);
          const reason =
            c.attempt === 0
              ? `submitted as held, but the trainer did not confirm it and no chunk landed for ${this.jobTimeoutMs} ms`
              : `no chunk landed for ${this.jobTimeoutMs} ms`;
          this.log.warn(
            { experimentId: tracker.id, purpose: c.purpose, index: c.index, attempt },
            're-issued a stalled job',
          );
          await this.events.publish(tracker.id, {
            jobReissued: { purpose: purposeValue(c.purpose), chunkIndex: c.index, attempt, reason },
          });
        }
      }
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'stall check failed; will retry');
    } finally {
      this.checking = false;
    }
  }
}
