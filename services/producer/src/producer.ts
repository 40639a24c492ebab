import { createLogger, errorMessage, type Logger } from '@surrogate/core';
import type { Bus, IncomingMessage, Subscription, Topics } from '@surrogate/messaging';
import type { MetricsRegistry } from '@surrogate/observability';
import { v1 } from '@surrogate/proto';
import {
  chunkKey,
  Codecs,
  deadLetterReporter,
  ensureServiceSubscriptions,
  EventPublisher,
  eventKind,
  purposeName,
  purposeValue,
  SERVICE_SUBSCRIPTIONS,
} from '@surrogate/protocol';
import { planChunk, SpecError, specFromWire, specToWire, type ChunkPurposeName } from '@surrogate/spec';
import type { ChunkState, ExperimentRecord } from './experiment-record';
import type { ExperimentStatus } from './experiment-status';
import type { ExperimentStore } from './experiment-store';
import { ExperimentTracker } from './experiment-tracker';
import { heldChunksFromWire, HeldChunksError } from './held-chunks';
import { MemoryExperimentStore } from './memory-experiment-store';
import { ProducerMetrics } from './producer-metrics';

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
  /**
   * How long an ended experiment stays in memory after the stall check first sees it ended. Default
   * 10 min. Afterwards it lives in the store only (read back when a late message names it), so a
   * long-lived producer's memory and stall-check pass do not grow with every experiment it ever ran.
   */
  forgetEndedAfterMs?: number;
  /** Jobs published concurrently while planning. Default 64. */
  publishConcurrency?: number;
  /**
   * Subscription name on the experiments and events topics. Default `producer`, the one the other
   * services keep messages for before it first runs (see ensureServiceSubscriptions).
   */
  subscription?: string;
  /** Redeliveries before a message that keeps failing goes to the dead-letter topic. Default 5. */
  maxRedeliveries?: number;
  /**
   * Where the experiments' state is kept. Default: in memory (nothing survives the process). With a
   * durable store (Redis), a producer that starts resumes supervising the live experiments kept there.
   */
  store?: ExperimentStore;
  /** Count commands, jobs and landings into this registry (see ProducerMetrics). */
  metrics?: MetricsRegistry;
}

const SOURCE = 'producer';

/** The events the producer acts on (others are not even looked up). */
const TRACKED_EVENTS = new Set(['chunkAccepted', 'datasetReady', 'chunkFailed', 'modelReady', 'failed']);

/**
 * Whether an event is acted on only after reading the store afresh: those that can end the
 * experiment or its data generation. A cached view can be stale (another producer was active
 * meanwhile), and must then neither fail what that one cancelled nor make live again what it
 * finished. Other chunk landings (most events) use the cache: a landing is the same whoever stores it.
 */
function decidesOnStore(event: v1.ExperimentEvent, cached: ExperimentTracker): boolean {
  switch (eventKind(event)) {
    case 'chunkAccepted':
      return cached.isActive && cached.landed + 1 >= cached.totalChunks;
    case 'chunkFailed':
      return event.chunkFailed?.permanent === true;
    default:
      return true;
  }
}

/**
 * The producer: validates specs, splits them into data-generation jobs, tracks which chunks have
 * landed, re-issues jobs that never complete, handles cancel, and publishes experiment events.
 *
 * Every handler is idempotent by the message's identity: a redelivered submit for a known
 * experiment id is ignored, a duplicate ChunkAccepted changes nothing. A submit of a known
 * experiment that was cancelled or failed, issued anew (another issuedAtMs), runs it again; its
 * `held` field names the chunks the trainer already stores, whose jobs are not issued.
 *
 * State: every change is written to the experiment store before the message that caused it is
 * acknowledged (a store that fails makes the handler throw: the message is nacked and comes again).
 * Memory holds a cache of it, which another producer sharing the store (the one before a restart,
 * or the active one while this one stands by on the failover subscription) makes stale. So commands
 * and re-issues read the store afresh, and so do the events that can end an experiment or its data
 * generation (rare: a few per experiment); the other ChunkAccepted events use the cache and read
 * the store only for an experiment they do not know. On start, the live experiments in the store
 * are resumed; at every stall check, memory is compared with the store's live ids, so that a standby
 * also supervises the experiments accepted after it started (see followStore). Either way their
 * stall clocks start when they are taken in.
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
  private readonly forgetEndedAfterMs: number;
  private readonly store: ExperimentStore;

  private readonly metrics: ProducerMetrics | undefined;

  constructor(private readonly options: ProducerOptions) {
    this.store = options.store ?? new MemoryExperimentStore();
    this.log = options.logger ?? createLogger({ name: SOURCE });
    this.events = new EventPublisher(options.bus, options.topics.events, SOURCE);
    this.jobTimeoutMs = options.jobTimeoutMs ?? 10 * 60_000;
    this.maxJobAttempts = options.maxJobAttempts ?? 5;
    this.checkIntervalMs = options.checkIntervalMs ?? Math.min(this.jobTimeoutMs / 4, 10_000);
    this.forgetEndedAfterMs = options.forgetEndedAfterMs ?? 10 * 60_000;
    this.metrics = options.metrics ? new ProducerMetrics(options.metrics, () => [...this.experiments.values()].map((t) => t.status)) : undefined;
  }

  async start(): Promise<void> {
    await this.resume();
    const { bus, topics } = this.options;
    // Jobs and events published before the workers' or the trainer's first start wait for them.
    await ensureServiceSubscriptions(bus, topics, ['jobs', 'events'], this.log);
    const subscription = this.options.subscription ?? SERVICE_SUBSCRIPTIONS.producer;
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
    this.log.info({ topics, jobTimeoutMs: this.jobTimeoutMs, store: this.store.kind }, 'producer started');
  }

  /**
   * Takes up the live experiments of the store (left by an earlier producer). Their stall clocks
   * start now: while no producer ran, workers went on pricing and the trainer on storing, and the
   * events subscription delivers the ChunkAccepted events of that time next; re-issuing every
   * outstanding job at once would redo work that is most likely done or under way.
   */
  private async resume(): Promise<void> {
    const now = Date.now();
    const live = await this.store.listLive();
    for (const record of live) {
      try {
        this.experiments.set(record.id, ExperimentTracker.fromRecord(record, now));
      } catch (err) {
        this.log.error({ experimentId: record.id, err: errorMessage(err) }, 'a stored experiment cannot be resumed; left as it is');
      }
    }
    if (live.length > 0)
      this.log.info(
        { store: this.store.kind, experiments: [...this.experiments.keys()], jobTimeoutMs: this.jobTimeoutMs },
        'resumed the live experiments of the store; their stall clocks start now',
      );
  }

  /**
   * The producer's view of experiment `id`: from memory, else from the store. `fresh` reads the
   * store even when memory knows it, and takes in what it says (another producer may have changed it).
   */
  private async tracker(id: string, fresh = false): Promise<ExperimentTracker | undefined> {
    const known = this.experiments.get(id);
    if (known && !fresh) return known;
    const record = await this.store.get(id);
    if (!record) return known;
    return this.takeIn(record, Date.now());
  }

  /**
   * Takes a stored record into memory: merged into the tracker of the same submission, else (unknown
   * here, or a new submission of the id) as a new tracker whose stall clock starts at `now`.
   */
  private takeIn(record: ExperimentRecord, now: number): ExperimentTracker {
    const known = this.experiments.get(record.id);
    if (known && known.submittedAt === record.submittedAt) {
      known.merge(record, now);
      return known;
    }
    const tracker = ExperimentTracker.fromRecord(record, now);
    this.experiments.set(record.id, tracker);
    return tracker;
  }

  /**
   * Changes the status in memory, publishes what says so, then stores it. Should either fail, the
   * memory goes back to what it was, so that the message that caused it does it all again.
   */
  private async changeStatus(tracker: ExperimentTracker, status: ExperimentStatus, announce?: () => Promise<unknown>): Promise<void> {
    const before = tracker.status;
    tracker.status = status;
    try {
      await announce?.();
      await this.store.setStatus(tracker.id, status);
    } catch (err) {
      if (tracker.status === status) tracker.status = before;
      throw err;
    }
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
      this.metrics?.commands.inc({ command: 'invalid' });
      await this.events.publish('', {
        rejected: {
          code: 'MISSING_EXPERIMENT_ID',
          field: 'experimentId',
          reason: 'an experiment command needs an experiment id',
        },
      });
      return;
    }
    this.metrics?.commands.inc({ command: command.submit ? 'submit' : command.cancel ? 'cancel' : 'invalid' });
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
    const known = await this.tracker(id, true);
    if (known) {
      const rerun = (known.status === 'cancelled' || known.status === 'failed') && known.submittedAt !== issuedAtMs;
      if (!rerun) {
        if (known.isActive && !known.jobsPublished && known.submittedAt === issuedAtMs) {
          // stored, but publishing its accepted event or jobs failed (or the producer died meanwhile)
          this.log.info({ experimentId: id }, 'submit redelivered before its jobs were all published; publishing them again');
          await this.announce(known, known.outstanding().filter((c) => c.attempt > 0));
          return;
        }
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
    const now = Date.now();
    const issuing: ChunkState[] = [];
    for (const purpose of ['training', 'validation'] as const) {
      for (let i = 0; i < tracker.expected[purpose]; i++) {
        if (held[purpose].has(i)) tracker.presumeHeld(purpose, i, now);
        else {
          tracker.issued(purpose, i, now);
          issuing.push({ purpose, index: i, attempt: 1, landed: false });
        }
      }
    }
    // the whole plan is stored before anything is published: a producer that dies from here on
    // leaves the submit unacknowledged, and the one that takes over finds the experiment
    await this.store.put(tracker.toRecord());
    this.experiments.set(id, tracker);
    await this.announce(tracker, issuing);
  }

  /** Publishes the accepted event and these jobs, then stores that they are published. */
  private async announce(tracker: ExperimentTracker, jobs: { purpose: ChunkPurposeName; index: number; attempt: number }[]): Promise<void> {
    const { training, validation } = tracker.expected;
    await this.events.publish(tracker.id, {
      accepted: { spec: tracker.wireSpec, trainingChunks: training, validationChunks: validation, submittedAtMs: tracker.submittedAt },
    });
    this.log.info(
      { experimentId: tracker.id, name: tracker.spec.name, training, validation, held: tracker.presumed, issuing: jobs.length },
      tracker.presumed > 0 ? 'experiment accepted; publishing the jobs of the chunks not held' : 'experiment accepted; publishing jobs',
    );
    await this.publishJobs(tracker, jobs);
    await this.store.markJobsPublished(tracker.id);
    tracker.jobsPublished = true;
  }

  private async publishJobs(
    tracker: ExperimentTracker,
    chunks: { purpose: ChunkPurposeName; index: number; attempt: number }[],
  ): Promise<void> {
    const limit = this.options.publishConcurrency ?? 64;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < chunks.length && tracker.isActive) {
        const c = chunks[next++] as { purpose: ChunkPurposeName; index: number; attempt: number };
        await this.publishJob(tracker, c.purpose, c.index, c.attempt);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, chunks.length) }, lane));
  }

  /** Publishes one job (its issue is recorded, in memory and in the store, beforehand). */
  private async publishJob(
    tracker: ExperimentTracker,
    purpose: ChunkPurposeName,
    index: number,
    attempt: number,
  ): Promise<void> {
    const plan = planChunk(tracker.spec, purpose, index);
    const job = v1.DataGenJob.create({
      experimentId: tracker.id,
      purpose: purposeValue(purpose),
      chunkIndex: index,
      chunkCount: tracker.expected[purpose],
      startIndex: plan.start,
      sampleCount: plan.count,
      attempt,
      spec: tracker.wireSpec,
      submittedAtMs: tracker.submittedAt,
    });
    await this.options.bus.publish(this.options.topics.jobs, {
      payload: Codecs.job.encode(job),
      key: chunkKey(tracker.id, purpose, index),
      properties: { 'experiment-id': tracker.id, attempt: String(attempt) },
    });
    this.metrics?.jobs.inc({ kind: attempt > 1 ? 'reissue' : 'first' });
  }

  /**
   * Cancels a running experiment. An unknown one, or one that has ended already, gets a rejection
   * of the cancel command (correlated by its issuedAtMs) so that `surrogate cancel` answers at
   * once; the experiment is left as it is. A redelivered cancel of an experiment it cancelled is
   * refused the same way, which no one waits for.
   */
  private async cancel(id: string, reason: string, issuedAtMs: number): Promise<void> {
    const tracker = await this.tracker(id, true);
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
    await this.changeStatus(tracker, 'cancelled', () => this.events.publish(id, { cancelled: { reason } }));
    this.log.info({ experimentId: id, reason }, 'experiment cancelled');
  }

  async handleEvent(message: IncomingMessage): Promise<void> {
    const event = Codecs.event.decode(message.payload);
    const kind = eventKind(event);
    if (!TRACKED_EVENTS.has(kind)) return;
    const cached = this.experiments.get(event.experimentId);
    const tracker = cached && !decidesOnStore(event, cached) ? cached : await this.tracker(event.experimentId, true);
    if (!tracker) return;
    switch (kind) {
      case 'chunkAccepted': {
        const c = event.chunkAccepted as v1.ChunkAccepted;
        const purpose = purposeName(c.purpose);
        if (!tracker.hasLanded(purpose, c.chunkIndex)) await this.land(tracker, [tracker.landing(purpose, c.chunkIndex)]);
        else await this.saveStatus(tracker);
        return;
      }
      case 'datasetReady':
        // the trainer holds every chunk, also those a resubmission said it held (never issued)
        await this.land(tracker, tracker.landingAll());
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
        // A cancel stands: a model the trainer finished in the same instant stays on disk, but the
        // experiment the user cancelled (and was told so) does not become succeeded.
        if (tracker.status === 'cancelled') {
          this.log.info({ experimentId: tracker.id, modelUri: event.modelReady?.modelUri }, 'model ready after the experiment was cancelled; it stays cancelled');
          return;
        }
        if (tracker.status !== 'succeeded') await this.changeStatus(tracker, 'succeeded');
        return;
      case 'failed':
        if (tracker.status !== 'cancelled' && tracker.status !== 'failed') await this.changeStatus(tracker, 'failed');
        return;
      default:
        return;
    }
  }

  /** Stores chunk landings, then takes them in (progress; maybe the end of data generation). */
  private async land(tracker: ExperimentTracker, chunks: ChunkState[]): Promise<void> {
    if (chunks.length === 0) return this.saveStatus(tracker);
    // an ended experiment's landings change nothing that matters (a rerun brings its held chunks)
    if (!tracker.hasEnded) await this.store.saveChunks(tracker.id, chunks);
    const before = tracker.status;
    const now = Date.now();
    const landedBefore = tracker.landed;
    for (const c of chunks) tracker.apply(c, now);
    this.metrics?.chunksLanded.inc(undefined, Math.max(0, tracker.landed - landedBefore));
    if (tracker.status === before) return;
    try {
      await this.store.setStatus(tracker.id, tracker.status);
    } catch (err) {
      tracker.statusUnsaved = true;
      throw err;
    }
  }

  /**
   * Stores a status that landings moved in memory (data generation complete) when storing it failed
   * then: the redelivered event (whose landings memory already holds) or the next stall check does
   * it, else the store would say `running` until the model is ready. Only over the store's `running`
   * of the same submission: another producer may have ended it meanwhile.
   */
  private async saveStatus(tracker: ExperimentTracker): Promise<void> {
    if (!tracker.statusUnsaved) return;
    const record = await this.store.get(tracker.id);
    if (record?.submittedAt === tracker.submittedAt && record.status === 'running' && tracker.status === 'datagen-complete')
      await this.store.setStatus(tracker.id, tracker.status);
    tracker.statusUnsaved = false;
  }

  private async fail(tracker: ExperimentTracker, code: string, stage: string, reason: string): Promise<void> {
    await this.changeStatus(tracker, 'failed', () => this.events.publish(tracker.id, { failed: { code, stage, reason } }));
    this.log.error({ experimentId: tracker.id, code, stage, reason }, 'experiment failed');
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
      await this.followStore(now);
      this.forgetEnded(now);
      for (const tracker of [...this.experiments.values()]) {
        await this.saveStatus(tracker).catch((err: unknown) =>
          this.log.error({ experimentId: tracker.id, err: errorMessage(err) }, 'status not stored; will retry'),
        );
        if (!tracker.isActive || now - tracker.lastProgressAt < this.jobTimeoutMs) continue;
        try {
          await this.reissueStalled(tracker, now);
        } catch (err) {
          this.log.error({ experimentId: tracker.id, err: errorMessage(err) }, 'stall check failed; will retry');
        }
      }
    } finally {
      this.checking = false;
    }
  }

  /**
   * Drops from memory the experiments that ended at least forgetEndedAfterMs ago (as first seen
   * here). The store keeps them: a late landing, a cancel or a resubmission reads them back.
   */
  private forgetEnded(now: number): void {
    for (const [id, tracker] of this.experiments) {
      if (!tracker.hasEnded) {
        tracker.endSeenAt = undefined;
        continue;
      }
      tracker.endSeenAt ??= now;
      if (now - tracker.endSeenAt >= this.forgetEndedAfterMs) this.experiments.delete(id);
    }
  }

  /**
   * Compares memory with the store's live ids (one cheap call) and reads the records of the ids on
   * which they disagree: live in the store but unknown here, or ended here (another producer
   * accepted it, or ran it again), is taken in, its stall clock starting now as on resume; live here
   * but not in the store (another producer ended it) is read again, and forgotten if the store no
   * longer holds it. A standby gets no messages while the active producer lives: this is how it
   * learns of the experiments accepted after it started, and supervises them once it is alone.
   */
  private async followStore(now: number): Promise<void> {
    let ids: string[];
    try {
      ids = await this.store.liveIds();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'cannot list the live experiments of the store; will retry');
      return;
    }
    const live = new Set(ids);
    const differing = ids.filter((id) => this.experiments.get(id)?.hasEnded ?? true);
    for (const tracker of this.experiments.values()) if (!tracker.hasEnded && !live.has(tracker.id)) differing.push(tracker.id);
    const takenIn: string[] = [];
    for (const id of differing) {
      try {
        const record = await this.store.get(id);
        if (!record) {
          if (this.experiments.delete(id)) this.log.warn({ experimentId: id }, 'the store no longer holds this experiment; no longer supervised');
          continue;
        }
        const before = this.experiments.get(id);
        const tracker = this.takeIn(record, now);
        if (tracker !== before && !tracker.hasEnded) takenIn.push(id);
      } catch (err) {
        this.log.error({ experimentId: id, err: errorMessage(err) }, 'a stored experiment cannot be taken in; will retry');
      }
    }
    if (takenIn.length > 0)
      this.log.info(
        { experiments: takenIn, jobTimeoutMs: this.jobTimeoutMs },
        'took in live experiments another producer accepted; their stall clocks start now',
      );
  }

  private async reissueStalled(stale: ExperimentTracker, now: number): Promise<void> {
    // another producer may have recorded progress, re-issued the jobs, ended the experiment or run
    // it again meanwhile: what the store says now decides, not this producer's view
    const record = await this.store.get(stale.id);
    if (!record) {
      if (this.experiments.get(stale.id) === stale) this.experiments.delete(stale.id);
      return;
    }
    const tracker = this.takeIn(record, now);
    if (tracker !== stale) return; // a new submission of the id: its stall clock starts now
    if (!tracker.isActive || now - tracker.lastProgressAt < this.jobTimeoutMs) return;
    const outstanding = tracker.outstanding();
    const exhausted = outstanding.find((c) => c.attempt >= this.maxJobAttempts);
    if (exhausted) {
      await this.fail(
        tracker,
        'JOB_ATTEMPTS_EXHAUSTED',
        'datagen',
        `${exhausted.purpose} chunk ${exhausted.index} did not complete after ${exhausted.attempt} attempts of ${this.jobTimeoutMs} ms each`,
      );
      return;
    }
    const reissues = outstanding.map((c) => tracker.nextIssue(c.purpose, c.index));
    // Only one producer may publish these attempts: two stall checks in the same instant (an active
    // producer and a standby) both read the record above, but only one claim succeeds.
    if (!(await this.store.claimReissues(tracker.id, tracker.submittedAt, reissues))) {
      const latest = await this.store.get(tracker.id);
      if (latest) this.takeIn(latest, now); // what the other producer did restarts this one's clock
      this.log.info({ experimentId: tracker.id }, 'another producer re-issued, landed or ended this experiment first; not re-issuing');
      return;
    }
    for (const c of reissues) tracker.apply(c, now);
    tracker.lastProgressAt = now;
    for (const c of reissues) {
      if (!tracker.isActive) break;
      await this.publishJob(tracker, c.purpose, c.index, c.attempt);
      const reason =
        c.attempt === 1
          ? `submitted as held, but the trainer did not confirm it and no chunk landed for ${this.jobTimeoutMs} ms`
          : `no chunk landed for ${this.jobTimeoutMs} ms`;
      this.log.warn({ experimentId: tracker.id, purpose: c.purpose, index: c.index, attempt: c.attempt }, 're-issued a stalled job');
      await this.events.publish(tracker.id, {
        jobReissued: { purpose: purposeValue(c.purpose), chunkIndex: c.index, attempt: c.attempt, reason },
      });
    }
  }
}
