import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, errorMessage, SurrogateError, type Logger } from '@surrogate/core';
import {
  RejectMessageError,
  type Bus,
  type IncomingMessage,
  type Subscription,
  type Topics,
} from '@surrogate/messaging';
import { removeCheckpointFile } from '@surrogate/nn';
import type { MetricsRegistry } from '@surrogate/observability';
import { v1 } from '@surrogate/proto';
import {
  Codecs,
  deadLetterReporter,
  ensureServiceSubscriptions,
  EventPublisher,
  eventKind,
  purposeName,
  SERVICE_SUBSCRIPTIONS,
} from '@surrogate/protocol';
import { SpecError, specFromWire, type ExperimentSpec } from '@surrogate/spec';
import { CHECKPOINT_FILE } from './checkpoint-fingerprint';
import { DatasetStore } from './dataset-store';
import { EarlyCancels } from './early-cancels';
import { TrainerMetrics } from './trainer-metrics';
import { runTraining, TrainingRunError } from './training-run';
import { sameTraining, withRunSettings } from './training-identity';
import { trainingRefusal } from './training-refusal';
import { holdWhileDiskFull, type DiskFullOptions } from './disk-full';
import { TrainingSlots } from './training-slots';
import { DataDirLock } from './data-dir-lock';

export interface TrainerOptions {
  bus: Bus;
  topics: Topics;
  /** Where datasets (shards + manifests) live; survives restarts. */
  dataDir: string;
  /** Where an experiment's model.onnx, report.json and spec.json go. Default `<artifactsRoot>/<experimentId>`. */
  artifactsDir?: (experimentId: string, spec: ExperimentSpec) => string;
  artifactsRoot?: string;
  logger?: Logger;
  /** onnxruntime intra-op threads; overrides the spec's. */
  threads?: number;
  /** Minimum interval between TrainingProgress events. Default 1 s (every epoch is always sent at the end). */
  progressIntervalMs?: number;
  /**
   * Subscription name on the chunks topic, and with `-control` on the events topic. Default `trainer`
   * and `trainer-control`, the ones the other services keep messages for before the trainer first
   * runs (see ensureServiceSubscriptions).
   */
  subscription?: string;
  maxRedeliveries?: number;
  /**
   * Which stored datasets to train on start: 'interrupted' (default) — every complete dataset
   * whose training had not finished (the trainer died; it carries on from its checkpoint);
   * `{ only: id }` — that experiment alone, also after it failed or was cancelled (`surrogate run
   * --resume`); 'none'.
   */
  resumeOnStart?: 'interrupted' | 'none' | { only: string; spec?: ExperimentSpec };
  /** Memory a training set may take before it is streamed from its shards (default: half the machine's). */
  memoryBudgetBytes?: number;
  /** Count chunks and trainings into this registry (see TrainerMetrics). */
  metrics?: MetricsRegistry;
  /**
   * How long to wait before publishing again an event that ends an experiment (ModelReady, Failed)
   * when the broker did not take it; the wait doubles up to 30 s. Default 1 s.
   */
  eventRetryMs?: number;
  /**
   * How long a message whose handling found the data disk full waits before it is handled again;
   * the wait doubles up to 30 s. Default 1 s.
   */
  diskFullRetryMs?: number;
  /**
   * Trainings run at once; the other complete datasets wait for a slot in turn (they are announced
   * DatasetReady, and a restart trains them too). Default 1.
   */
  maxConcurrentTrainings?: number;
  /**
   * One trainer per data directory (DataDirLock): when another holds it, 'wait' for it to stop (a
   * service, default: as in a rolling update) or 'fail' at once (a command run by hand).
   */
  whenDataDirHeld?: 'wait' | 'fail';
}

const SOURCE = 'trainer';

/**
 * How the trainer reads specs: a pricer it does not have (a client's own module, loaded by the
 * client's datagen workers only) is checked for shape only; training needs names and numbers.
 */
const OPERATOR_SIDE = { unknownPricer: 'shape-only' } as const;
const MAX_EVENT_RETRY_MS = 30_000;

/** What the log says while a trained model's files wait for room on the disk. */
const ARTIFACTS_HELD =
  'the disk is full: the trained model waits in memory and is written as soon as there is room (its checkpoint stays)';

/**
 * The trainer: stores each chunk once (idempotent by experiment, purpose and chunk index), and
 * when an experiment's dataset is complete trains, validates against the held-out chunks and
 * exports ONNX — in a worker thread, off this event loop — then publishes ModelReady.
 */
export class TrainerService {
  private readonly log: Logger;
  private readonly events: EventPublisher;
  private readonly stores = new Map<string, Promise<DatasetStore>>();
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /**
   * Experiments seen cancelled and not submitted again since; those cancelled before this trainer
   * held a chunk of them also on disk, so that a restart remembers them (a dataset records its own).
   */
  private readonly cancelled: EarlyCancels;
  /**
   * Experiments this trainer has collected or resumed since it started (and not seen cancelled):
   * an ExperimentAccepted for one of them is its own submission, not a resubmission.
   */
  private readonly collecting = new Set<string>();
  private readonly subscriptions: Subscription[] = [];
  /** Aborted by stop: ends the waits of messages held while the disk is full. */
  private readonly stopping = new AbortController();

  private readonly metrics: TrainerMetrics | undefined;
  private readonly slots: TrainingSlots;
  private lock?: DataDirLock;

  constructor(private readonly options: TrainerOptions) {
    this.log = options.logger ?? createLogger({ name: SOURCE });
    this.slots = new TrainingSlots(options.maxConcurrentTrainings ?? 1);
    this.metrics = options.metrics ? new TrainerMetrics(options.metrics, this.slots) : undefined;
    this.events = new EventPublisher(options.bus, options.topics.events, SOURCE);
    this.cancelled = new EarlyCancels(options.dataDir);
  }

  async start(): Promise<void> {
    const { bus, topics } = this.options;
    const onDeadLetter = deadLetterReporter(this.events, this.log);
    // before anything reads or writes the datasets
    this.lock = await DataDirLock.acquire(this.options.dataDir, {
      log: this.log,
      whenHeld: this.options.whenDataDirHeld ?? 'wait',
      signal: this.stopping.signal,
    });
    await this.cancelled.load();
    // The events it publishes wait for a producer that has never run yet.
    await ensureServiceSubscriptions(bus, topics, ['events'], this.log);
    const own = this.options.subscription;
    this.subscriptions.push(
      await bus.subscribe({
        topic: topics.chunks,
        subscription: own ?? SERVICE_SUBSCRIPTIONS.trainer,
        type: 'failover',
        maxRedeliveries: this.options.maxRedeliveries ?? 5,
        handler: (m) => this.holdWhileDiskFull(m, () => this.handleChunk(m)),
        onDeadLetter,
      }),
      await bus.subscribe({
        topic: topics.events,
        subscription: own === undefined ? SERVICE_SUBSCRIPTIONS.trainerControl : `${own}-control`,
        type: 'failover',
        handler: (m) => this.holdWhileDiskFull(m, () => this.handleEvent(m)),
        onDeadLetter,
      }),
    );
    await this.resumeInterrupted();
    this.log.info({ dataDir: this.options.dataDir }, 'trainer started');
  }

  /** Stops taking chunks and aborts running trainings (their datasets stay; a restart retrains). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
    for (const s of this.stores.values()) await (await s.catch(() => undefined))?.close();
    this.stores.clear();
    await this.lock?.release();
    this.lock = undefined;
    this.log.info('trainer stopped');
  }

  private holdWhileDiskFull(message: IncomingMessage, handler: () => Promise<void>): Promise<void> {
    return holdWhileDiskFull({ topic: message.topic, messageId: message.messageId }, handler, this.diskFull(this.log, this.stopping.signal));
  }

  private diskFull(log: Logger, signal: AbortSignal, held?: string): DiskFullOptions {
    return { log, signal, retryMs: this.options.diskFullRetryMs ?? 1000, maxRetryMs: MAX_EVENT_RETRY_MS, ...(held ? { held } : {}) };
  }

  /** Resolves when the experiment's training (if any is running) has finished. */
  async idle(experimentId: string): Promise<void> {
    await this.running.get(experimentId)?.done;
  }

  async handleChunk(message: IncomingMessage): Promise<void> {
    const chunk = Codecs.chunk.decode(message.payload);
    const id = chunk.experimentId;
    const purpose = purposeName(chunk.purpose);
    const spec = this.checkChunk(chunk);
    const store = await this.store(id, chunk, spec);
    // Cancelled before this trainer held anything of it: the dataset starts out cancelled.
    if (this.cancelled.has(id) && store.status === 'collecting') await store.setStatus('cancelled', 'cancelled or failed before its first chunk');
    // A chunk of a cancelled (or failed) experiment is kept all the same, never trained on until the
    // experiment runs again: it is a pure function of the spec and its index, and it may be the
    // first of a resubmission whose `accepted` this trainer has not read yet (events and chunks
    // come on different topics). Dropping it would leave the resubmission waiting for the
    // producer's job timeout.
    if (store.status === 'collecting') this.collecting.add(id);
    const result = await store.store({
      purpose,
      index: chunk.chunkIndex,
      expected: chunk.chunkCount,
      start: Number(chunk.startIndex),
      count: chunk.sampleCount,
      inputs: chunk.inputs,
      outputs: chunk.outputs,
      workerId: chunk.workerId,
      pricerVersion: chunk.pricerVersion,
    });
    this.metrics?.chunks.inc({ purpose, result });
    const counts = store.counts(purpose);
    await this.events.publish(id, {
      chunkAccepted: {
        purpose: chunk.purpose,
        chunkIndex: chunk.chunkIndex,
        duplicate: result === 'duplicate',
        stored: counts.stored,
        expected: counts.expected,
      },
    });
    // Also on a duplicate: the last chunk comes again when its handler failed after storing it
    // (e.g. its ChunkAccepted was not taken), and nothing else would start the training.
    if (store.complete && store.status === 'collecting') this.startTraining(id, spec, store);
  }

  /** A chunk must be self-consistent and finite before it is stored; otherwise it is dead-lettered. */
  private checkChunk(chunk: v1.DataChunk): ExperimentSpec {
    let spec: ExperimentSpec;
    try {
      spec = specFromWire(chunk.spec ?? {}, OPERATOR_SIDE);
    } catch (err) {
      if (err instanceof SpecError)
        throw new RejectMessageError(`chunk carries an invalid spec: ${err.message}`, { cause: err });
      throw err;
    }
    const d = spec.inputs.length;
    const k = spec.outputs.length;
    const n = chunk.sampleCount;
    const problems: string[] = [];
    if (!chunk.experimentId) problems.push('experimentId is empty');
    if (n <= 0) problems.push(`sampleCount is ${n}`);
    if (chunk.chunkCount <= chunk.chunkIndex)
      problems.push(`chunkIndex ${chunk.chunkIndex} is not below chunkCount ${chunk.chunkCount}`);
    if (chunk.inputNames.join(',') !== spec.inputs.map((i) => i.name).join(','))
      problems.push(`inputNames [${chunk.inputNames}] differ from the spec's inputs`);
    if (chunk.outputNames.join(',') !== spec.outputs.join(','))
      problems.push(`outputNames [${chunk.outputNames}] differ from the spec's outputs`);
    if (chunk.inputs.byteLength !== n * d * 4)
      problems.push(`inputs has ${chunk.inputs.byteLength} bytes, expected ${n * d * 4}`);
    if (chunk.outputs.byteLength !== n * k * 4)
      problems.push(`outputs has ${chunk.outputs.byteLength} bytes, expected ${n * k * 4}`);
    if (problems.length === 0) {
      const values = new DataView(chunk.outputs.buffer, chunk.outputs.byteOffset, chunk.outputs.byteLength);
      for (let i = 0; i < n * k; i++) {
        const v = values.getFloat32(i * 4, true);
        if (!Number.isFinite(v)) {
          problems.push(`output value ${i} is ${v}; non-finite values are never trained on`);
          break;
        }
      }
    }
    if (problems.length > 0)
      throw new RejectMessageError(
        `malformed chunk ${chunk.chunkIndex} of ${chunk.experimentId}: ${problems.join('; ')}`,
      );
    return spec;
  }

  private store(id: string, chunk?: v1.DataChunk, spec?: ExperimentSpec): Promise<DatasetStore> {
    let p = this.stores.get(id);
    if (!p) {
      const first =
        chunk && spec
          ? {
              specBase64: Buffer.from(
                v1.ExperimentSpec.encode(chunk.spec as v1.IExperimentSpec).finish(),
              ).toString('base64'),
              inputDim: spec.inputs.length,
              outputDim: spec.outputs.length,
              submittedAt: Number(chunk.submittedAtMs ?? 0) || undefined,
            }
          : undefined;
      p = DatasetStore.open(this.options.dataDir, id, first);
      this.stores.set(id, p);
      p.catch(() => this.stores.delete(id));
    }
    return p;
  }

  async handleEvent(message: IncomingMessage): Promise<void> {
    const event = Codecs.event.decode(message.payload);
    const id = event.experimentId;
    switch (eventKind(event)) {
      case 'accepted': {
        const spec = specOrUndefined(event.accepted?.spec ?? undefined);
        if (await this.refusedAtAccept(id, spec)) return;
        return this.resubmitted(id, spec, Number(event.accepted?.submittedAtMs ?? 0));
      }
      case 'cancelled':
        return this.experimentEnded(id, 'cancelled', event.cancelled?.reason ?? '');
      case 'failed':
        // This trainer's own failures are recorded where they happen; another service's (the
        // producer's: a job whose attempts are spent, a chunk that failed for good) end it here too.
        if (event.source === SOURCE) return;
        return this.experimentEnded(id, 'failed', event.failed?.reason ?? '');
      default:
        return;
    }
  }

  /**
   * The experiment was cancelled, or failed by another service: its training (if running) stops,
   * and the chunks still to come are stored but never trained on until it is accepted again. With
   * no dataset to record that in yet (no chunk has come), it is kept on disk for the chunks to come.
   */
  private async experimentEnded(id: string, status: 'cancelled' | 'failed', reason: string): Promise<void> {
    this.cancelled.add(id);
    this.collecting.delete(id);
    this.running.get(id)?.abort.abort();
    const store = await this.store(id).catch(() => undefined);
    if (!store) await this.cancelled.keep(id);
    // a cancel also overrides an earlier failure; a failure overrides neither
    else if (store.status !== 'done' && store.status !== 'cancelled' && !(status === 'failed' && store.status === 'failed'))
      await store.setStatus(status, reason);
  }

  /**
   * Fails an experiment at once, when it is accepted, if this trainer cannot train its spec (a
   * device it cannot use, the relative loss on a training set it would stream: trainingRefusal): it
   * ends before its data is generated, with the reason, instead of after. True when it was failed.
   */
  private async refusedAtAccept(id: string, spec: ExperimentSpec | undefined): Promise<boolean> {
    if (!id || !spec) return false; // a spec that does not decode is the producer's to refuse
    const refusal = await trainingRefusal(spec, this.options.memoryBudgetBytes);
    if (!refusal) return false;
    this.log.error({ experimentId: id, code: refusal.code, err: refusal.reason }, 'refused: this trainer cannot train this spec');
    const reason = `${refusal.field}: ${refusal.reason}`;
    await this.events.publish(id, { failed: { code: refusal.code, stage: 'training', reason } });
    await this.experimentEnded(id, 'failed', reason);
    return true;
  }

  /**
   * An experiment was accepted. When it is one whose dataset this trainer already (partly)
   * holds — submitted again after it was cancelled or failed, or after the services restarted —
   * it resumes: it collects again (a cancelled dataset stores chunks but trains on none), what is stored
   * counts as reused, and a dataset that is already complete trains at once (nothing else would
   * start it, since no chunk will arrive).
   */
  private async resubmitted(id: string, acceptedSpec: ExperimentSpec | undefined, submittedAt: number): Promise<void> {
    if (!id || this.collecting.has(id) || this.running.has(id)) return;
    const onDisk = await DatasetStore.exists(this.options.dataDir, id).catch(() => false);
    const store = onDisk ? await this.store(id) : undefined;
    // The accepted of the very submission whose chunks the dataset holds, read late (this trainer
    // restarted between its chunks and it): not a resubmission, nothing was reused; it collects on.
    if (store && submittedAt > 0 && store.submittedAt === submittedAt) {
      if (store.status !== 'collecting') return; // cancelled or failed since: this is an old event
      this.collecting.add(id);
      if (store.complete) this.startTraining(id, this.resumedSpec(store, acceptedSpec), store);
      return;
    }
    // accepted after a cancel: it runs again, so its chunks are collected (also when none was held)
    await this.cancelled.delete(id);
    if (!store) return;
    if (store.status === 'done' || this.collecting.has(id)) return;
    await this.resume(store, 'resubmitted', submittedAt);
    if (store.complete) this.startTraining(id, this.resumedSpec(store, acceptedSpec), store);
  }

  /**
   * The spec a resumed or resubmitted experiment trains with: the dataset's, with the threads,
   * device and checkpoint interval of the spec it was asked to run with (they change how fast it
   * trains, not what), so that `run --resume` on a bigger machine uses them. One that differs in
   * more is logged, and trains as its dataset was made.
   */
  private resumedSpec(store: DatasetStore, asked: ExperimentSpec | undefined): ExperimentSpec {
    const stored = specFromWire(v1.ExperimentSpec.decode(store.specBytes), OPERATOR_SIDE);
    if (!asked) return stored;
    if (sameTraining(stored, asked)) return withRunSettings(stored, asked.training);
    this.log.warn({ experimentId: store.experimentId }, "asked to run with another spec than its dataset was made with; it trains with the dataset's");
    return stored;
  }

  /** The dataset collects again (after a cancel or a failure), and its stored chunks count as reused. */
  private async resume(store: DatasetStore, reason: string, submittedAt?: number): Promise<void> {
    const id = store.experimentId;
    this.collecting.add(id);
    await this.cancelled.delete(id);
    if (store.status === 'cancelled' || store.status === 'failed') await store.setStatus('collecting', reason);
    await store.markResumed(submittedAt);
    this.log.info(
      { experimentId: id, reason, held: store.chunksReused, complete: store.complete },
      'dataset resumed with the chunks it holds',
    );
  }

  private artifactsDir(id: string, spec: ExperimentSpec): string {
    if (this.options.artifactsDir) return this.options.artifactsDir(id, spec);
    return path.join(this.options.artifactsRoot ?? path.join(this.options.dataDir, '..', 'artifacts'), id);
  }

  /** Datasets that were complete but never finished training (the trainer died): train them now. */
  private async resumeInterrupted(): Promise<void> {
    const mode = this.options.resumeOnStart ?? 'interrupted';
    if (mode === 'none') return;
    for (const id of await DatasetStore.list(this.options.dataDir)) {
      if (typeof mode === 'object' && id !== mode.only) continue;
      try {
        const store = await this.store(id);
        const asked = typeof mode === 'object' && store.status !== 'done';
        // asked to resume a run (`run --resume`), also one that was cancelled (Ctrl-C) or failed:
        // it collects again, so that its missing chunks are stored instead of dropped as a
        // cancelled experiment's, and the chunks it holds are not generated again
        if (asked) await this.resume(store, 'resumed');
        // killed after recording the run done, before deleting its checkpoint
        if (store.status === 'done') removeCheckpointFile(path.join(store.dir, CHECKPOINT_FILE));
        const unfinished = store.status === 'collecting' || store.status === 'training';
        if (!store.complete || !(unfinished || asked)) continue;
        const spec = this.resumedSpec(store, typeof mode === 'object' ? mode.spec : undefined);
        this.log.info({ experimentId: id }, 'resuming an interrupted training');
        this.startTraining(id, spec, store);
      } catch (err) {
        this.log.error({ experimentId: id, err: errorMessage(err) }, 'could not resume a dataset');
      }
    }
  }

  private startTraining(id: string, spec: ExperimentSpec, store: DatasetStore): void {
    if (this.running.has(id)) return;
    const abort = new AbortController();
    const done = this.train(id, spec, store, abort.signal).finally(() => this.running.delete(id));
    this.running.set(id, { abort, done });
  }

  private async train(
    id: string,
    spec: ExperimentSpec,
    store: DatasetStore,
    signal: AbortSignal,
  ): Promise<void> {
    const log = this.log.child({ experimentId: id });
    const publish = (body: Parameters<EventPublisher['publish']>[1]): Promise<unknown> =>
      this.events
        .publish(id, body)
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'event not published'));
    try {
      await store.setStatus('training');
      const t = store.counts('training');
      const v = store.counts('validation');
      await publish({
        datasetReady: {
          trainingSamples: spec.samples,
          validationSamples: spec.validation.samples,
          duplicatesDropped: store.duplicatesDropped,
        },
      });
      if (this.slots.running >= this.slots.limit)
        log.info({ training: t, validation: v, running: this.slots.running, queued: this.slots.queued + 1 }, 'dataset complete; waiting for a training slot');
      const release = await this.slots.acquire(signal);
      log.info({ training: t, validation: v }, 'dataset complete; training');
      let lastSent = 0;
      const interval = this.options.progressIntervalMs ?? 1000;
      const started = performance.now();
      const artifactsDir = this.artifactsDir(id, spec);
      const result = await runTraining({
        experimentId: id,
        spec,
        pricerVersion: store.pricerVersion,
        dataset: store,
        artifactsDir,
        logger: log,
        threads: this.options.threads,
        memoryBudgetBytes: this.options.memoryBudgetBytes,
        signal,
        onCheckpoint: (step) => log.debug({ step }, 'checkpoint written'),
        writeArtifacts: (write) =>
          holdWhileDiskFull({ artifactsDir }, write, this.diskFull(log, signal, ARTIFACTS_HELD)),
        onCheckpointFailed: (step, reason) =>
          log.error({ step, err: reason }, 'checkpoint not written (is the data disk full?); training goes on, the last one written stays'),
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastSent < interval && p.epoch < p.epochs) return;
          lastSent = now;
          void publish({ trainingProgress: p });
        },
      }).finally(release);
      log.info(
        {
          validation: {
            maxAbsError: result.validation.maxAbsError,
            rmse: result.validation.rmse,
            pass: result.validation.pass,
          },
        },
        'model ready',
      );
      this.metrics?.trainingSeconds.observe((performance.now() - started) / 1000);
      await this.end(id, store, signal, log, {
        modelReady: {
          modelUri: result.modelPath,
          reportUri: result.reportPath,
          pass: result.validation.pass,
          maxAbsError: result.validation.maxAbsError,
          rmse: result.validation.rmse,
          validationSamples: result.validation.samples,
          reportJson: JSON.stringify(result.report),
        },
      }, result.validation.pass ? 'passed' : 'failed_validation');
    } catch (err) {
      if (signal.aborted) return this.aborted(log);
      const stage = err instanceof TrainingRunError ? err.stage : 'training';
      const code = err instanceof SurrogateError ? err.code : 'TRAINING_FAILED';
      log.error({ err: errorMessage(err), stage, code }, 'training failed');
      await this.end(id, store, signal, log, { failed: { code, stage, reason: errorMessage(err) } }, 'failed');
    }
  }

  /**
   * Ends a run: announces its model (or its failure), and only once the broker has taken that
   * records the run done (or failed) and deletes its checkpoint. A trainer that dies (or stops)
   * before then leaves the dataset 'training': the next one trains it again, from the checkpoint,
   * and announces it. Recorded first, a death in between would leave the experiment waiting for
   * an announcement forever. Never throws.
   */
  private async end(
    id: string,
    store: DatasetStore,
    signal: AbortSignal,
    log: Logger,
    event: { modelReady: v1.IModelReady } | { failed: v1.IExperimentFailed },
    outcome: 'passed' | 'failed_validation' | 'failed',
  ): Promise<void> {
    if (!(await this.announce(id, event, signal, log))) return this.aborted(log);
    this.metrics?.trainings.inc({ outcome });
    try {
      if ('failed' in event) await store.setStatus('failed', event.failed.reason ?? '');
      else {
        await store.setStatus('done');
        removeCheckpointFile(path.join(store.dir, CHECKPOINT_FILE));
      }
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'the end of the run was announced but not recorded; the next start trains it again');
    }
  }

  /**
   * Cancelled (status recorded by the cancel handler) or stopping: the dataset stays 'training',
   * and the next start trains it again, from its checkpoint.
   */
  private aborted(log: Logger): void {
    log.info('training aborted');
    this.metrics?.trainings.inc({ outcome: 'aborted' });
  }

  /**
   * Publishes an event that ends an experiment, again and again (after eventRetryMs, doubling up
   * to 30 s) until the broker takes it; false when `signal` aborts first (cancelled, or stopping).
   */
  private async announce(
    id: string,
    body: Parameters<EventPublisher['publish']>[1],
    signal: AbortSignal,
    log: Logger,
  ): Promise<boolean> {
    for (let wait = this.options.eventRetryMs ?? 1000; ; wait = Math.min(2 * wait, MAX_EVENT_RETRY_MS)) {
      try {
        await this.events.publish(id, body);
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        log.warn({ err: errorMessage(err), event: Object.keys(body)[0], retryInMs: wait }, 'event not published; publishing it again');
        const slept = await sleep(wait, undefined, { signal }).then(
          () => true,
          () => false,
        );
        if (!slept) return false;
      }
    }
  }
}

/** The spec of an `accepted` event; undefined when it carries none, or none that is valid. */
function specOrUndefined(wire: v1.IExperimentSpec | undefined): ExperimentSpec | undefined {
  if (!wire) return undefined;
  try {
    return specFromWire(wire, OPERATOR_SIDE);
  } catch {
    return undefined;
  }
}
