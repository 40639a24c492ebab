import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createLogger, errorMessage, SurrogateError, type Logger } from '@surrogate/core';
import {
  RejectMessageError,
  type Bus,
  type IncomingMessage,
  type Subscription,
  type Topics,
} from '@surrogate/messaging';
import type { MetricsRegistry } from '@surrogate/observability';
import {
  getPricer,
  GrpcPricerError,
  isPermanentGrpcPricerError,
  isRemotePricer,
  loadPricerModules,
  parseRemotePricerUrl,
  pricerAllowed,
  pricerNames,
  RemotePricers,
  type GrpcPricerOptions,
} from '@surrogate/pricing';
import { v1 } from '@surrogate/proto';
import {
  Codecs,
  deadLetterReporter,
  encodeColumns,
  ensureServiceSubscriptions,
  EventPublisher,
  eventKind,
  purposeName,
  SERVICE_SUBSCRIPTIONS,
} from '@surrogate/protocol';
import { SpecError, specFromWire, type ExperimentSpec } from '@surrogate/spec';
import type { ChunkSlice, ChunkTask } from './chunk-task';
import { DatagenMetrics } from './datagen-metrics';
import { EndedExperiments, type EndedSubmission } from './ended-experiments';
import { PricingPool, PricingPoolError } from './pricing-pool';

export interface DatagenWorkerOptions {
  bus: Bus;
  topics: Topics;
  logger?: Logger;
  /** Pricing threads. Default: one per core. */
  threads?: number;
  /** JS modules that register extra pricers (loaded in every pricing thread). */
  pricerModules?: string[];
  /** Jobs worked on at once by this worker (each uses every pricing thread). Default 1. */
  concurrency?: number;
  /**
   * Subscription name on the jobs topic; shared by all workers. Default `datagen`, the one the
   * producer keeps jobs for before the first worker runs (see ensureServiceSubscriptions).
   */
  subscription?: string;
  /** Redeliveries of a failing job before it is dead-lettered. Default 5. */
  maxRedeliveries?: number;
  /** Delay before a failed job is redelivered. Default 1 s. */
  nackRedeliveryDelayMs?: number;
  workerId?: string;
  /**
   * How to reach gRPC pricers (specs with `pricer: grpc://…` or `grpcs://…`): TLS CA, client
   * certificate, bearer token, deadline, retries, rows per call. Ignored when `remotePricers` is given.
   */
  grpc?: GrpcPricerOptions;
  /** Clients of gRPC pricers to use (and to leave open on stop); default: made from `grpc`. */
  remotePricers?: RemotePricers;
  /**
   * How far the clocks of the hosts that publish jobs (the producer) and end events (the producer,
   * the trainer) may differ. A job published less than this before its experiment ended is priced
   * anyway. Default 1000 ms.
   */
  clockSkewMs?: number;
  /** Ended experiments remembered (least recently touched forgotten first). Default 10,000. */
  endedCapacity?: number;
  /**
   * On start, read the events published this long ago and since (that the broker still holds: the
   * events topic needs a retention policy covering it), so that a worker started after a cancel
   * skips the cancelled experiment's queued jobs too. It takes no job before it has read them.
   * 0 = follow from now on only. Default 30 minutes.
   */
  eventsLookbackMs?: number;
  /** Count jobs, samples and pricing time into this registry (see DatagenMetrics). */
  metrics?: MetricsRegistry;
}

export const DEFAULT_EVENTS_LOOKBACK_MS = 30 * 60 * 1000;

/** The largest finite float32, 2^128 − 2^104. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The first output value (lowest row first, then in column order) that is not a finite number as
 * the float32 a chunk carries: NaN, ±Infinity, or a finite double beyond ±FLOAT32_MAX that
 * rounding to float32 would turn into ±Infinity. Null when there is none.
 */
function findNonFloat32(
  columns: readonly Float64Array[],
  outputNames: readonly string[],
): { row: number; output: string; value: number } | null {
  const fround = Math.fround;
  const finite = Number.isFinite;
  let found: { row: number; output: string; value: number } | null = null;
  columns.forEach((column, k) => {
    const limit = found === null ? column.length : Math.min(column.length, found.row);
    for (let i = 0; i < limit; i++) {
      const value = column[i] as number;
      if (!finite(fround(value))) {
        found = { row: i, output: outputNames[k] ?? `#${k}`, value };
        return;
      }
    }
  });
  return found;
}

/** A job whose sample range cannot be a chunk of its spec. */
class JobRangeError extends SurrogateError {}

/**
 * Checks what the spec does not: the job's range is 1 … chunkSize samples (a larger chunk would
 * not fit a message), within the purpose's sample count, and the chunk index below the count.
 */
function checkJobRange(job: v1.DataGenJob, spec: ExperimentSpec): void {
  const total = job.purpose === v1.ChunkPurpose.TRAINING ? spec.samples : spec.validation.samples;
  const start = Number(job.startIndex);
  const what = `job ${job.experimentId} ${purposeName(job.purpose)} chunk ${job.chunkIndex}`;
  const fail = (rule: string): never => {
    throw new JobRangeError('JOB_INVALID', `${what}: ${rule}`, {
      details: { chunkIndex: job.chunkIndex, chunkCount: job.chunkCount, startIndex: start, sampleCount: job.sampleCount },
    });
  };
  if (job.chunkIndex >= job.chunkCount)
    fail(`chunkIndex = ${job.chunkIndex} must be below chunkCount = ${job.chunkCount}`);
  if (job.sampleCount < 1 || job.sampleCount > spec.chunkSize)
    fail(`sampleCount = ${job.sampleCount} must be between 1 and the spec's chunkSize ${spec.chunkSize}`);
  if (start + job.sampleCount > total)
    fail(
      `samples [${start}, ${start + job.sampleCount}) must lie within the spec's ${total} ${purposeName(job.purpose)} samples`,
    );
}

/**
 * A local pricer's error that comes again on every delivery: the pricer refused a parameter value
 * at some sample (beyond the points the spec check probes), or the chunk asks for what it cannot
 * give. The inputs are regenerated bit for bit, so a retry meets the same row.
 */
const REFUSED_LOCALLY: ReadonlySet<string> = new Set([
  'UNKNOWN_PRICER',
  'UNKNOWN_PARAMETER',
  'MISSING_PARAMETER',
  'INVALID_PARAMETER',
  'UNKNOWN_OUTPUT',
  'INDEX_OUT_OF_RANGE',
  'INVALID_ARGUMENT',
]);

function isRefusedLocally(err: unknown): boolean {
  return err instanceof PricingPoolError && REFUSED_LOCALLY.has(err.code);
}

const SOURCE = 'datagen-worker';

/** The events a worker acts on; it skips decoding the others (EventPublisher names the kind in a property). */
const FOLLOWED_EVENTS = new Set(['accepted', 'cancelled', 'failed']);

/**
 * A data-generation worker: takes a job, regenerates the chunk's inputs deterministically, prices
 * them on a pool of threads, publishes the chunk, and only then acks the job (the handler returns
 * after the broker's send receipt).
 *
 * It also follows the events topic, under a subscription of its own (every worker sees every
 * event, and takes none from the producer, the trainer or watchers), to learn which experiments
 * were cancelled or failed: a job issued for a submission that has ended is acknowledged without
 * pricing, with a `jobSkipped` event (see EndedExperiments for why a resubmission's jobs are never
 * taken for stale ones). That is all the state it keeps, bounded, and rebuilt from events.
 */
export class DatagenWorker {
  private readonly log: Logger;
  private readonly events: EventPublisher;
  private readonly pool: PricingPool;
  private subscription: Subscription | undefined;
  private eventsSubscription: Subscription | undefined;
  private readonly ended: EndedExperiments;
  readonly workerId: string;
  /**
   * This worker's own subscription on the events topic: `<subscription>-events-<worker id>-<random>`,
   * one per worker instance, so that no two workers share one (each must see every event), in the
   * characters topic names allow (its dead-letter topic would be named after it).
   */
  readonly eventsSubscriptionName: string;
  private readonly maxRedeliveries: number;
  readonly eventsLookbackMs: number;
  private readonly remote: RemotePricers;
  private readonly ownsRemote: boolean;
  private readonly metrics: DatagenMetrics | undefined;

  constructor(private readonly options: DatagenWorkerOptions) {
    this.log = options.logger ?? createLogger({ name: SOURCE });
    // Checked before the pricing threads start.
    this.eventsLookbackMs = options.eventsLookbackMs ?? DEFAULT_EVENTS_LOOKBACK_MS;
    if (!Number.isSafeInteger(this.eventsLookbackMs) || this.eventsLookbackMs < 0)
      throw new SurrogateError(
        'INVALID_OPTION',
        `eventsLookbackMs = ${String(options.eventsLookbackMs)}: must be a whole number ≥ 0`,
        { details: { field: 'eventsLookbackMs', value: options.eventsLookbackMs } },
      );
    this.events = new EventPublisher(options.bus, options.topics.events, SOURCE);
    // The main thread checks specs against the registry, so it loads the plugins the threads load.
    if (options.pricerModules?.length) loadPricerModules(options.pricerModules);
    this.pool = new PricingPool({ threads: options.threads, pricerModules: options.pricerModules });
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    this.maxRedeliveries = options.maxRedeliveries ?? 5;
    this.ended = new EndedExperiments({ clockSkewMs: options.clockSkewMs, capacity: options.endedCapacity });
    this.metrics = options.metrics ? new DatagenMetrics(options.metrics, () => this.ended.size) : undefined;
    const safeId = this.workerId.replace(/[^A-Za-z0-9._-]+/g, '-');
    this.eventsSubscriptionName = `${options.subscription ?? 'datagen'}-events-${safeId}-${randomBytes(4).toString('hex')}`;
    this.ownsRemote = options.remotePricers === undefined;
    this.remote =
      options.remotePricers ??
      new RemotePricers({
        ...options.grpc,
        logger: options.grpc?.logger ?? this.log.child({ component: 'grpc' }),
      });
  }

  /**
   * The `pricer` label of a job's metrics. A job's pricer is whatever its publisher wrote, so the
   * label takes only bounded values: a pricer this worker has, a gRPC pricer's URL when an allow-list
   * bounds them (else `grpc`), and `unknown` for anything else.
   */
  private pricerLabel(name: string | null | undefined): string {
    if (!name) return 'unknown';
    if (isRemotePricer(name)) {
      try {
        const url = parseRemotePricerUrl(name);
        return this.remote.options.allow !== undefined && pricerAllowed(this.remote.options.allow, url.host, url.port) ? url.url : 'grpc';
      } catch {
        return 'unknown';
      }
    }
    return pricerNames().includes(name) ? name : 'unknown';
  }

  async start(): Promise<void> {
    // Chunks and events published before the trainer's or the producer's first start wait for them.
    await ensureServiceSubscriptions(this.options.bus, this.options.topics, ['chunks', 'events'], this.log);
    // Events first, so that ends are known before the first job is taken: the recent ones read
    // before any job. Non-durable: the broker drops the subscription with this process, however it
    // ends, so it never keeps events for a worker that is gone.
    this.eventsSubscription = await this.options.bus.subscribe({
      topic: this.options.topics.events,
      subscription: this.eventsSubscriptionName,
      type: 'exclusive',
      durable: false,
      initialPosition: 'latest',
      ...(this.eventsLookbackMs > 0 ? { startRollbackMs: this.eventsLookbackMs } : {}),
      handler: (m) => this.handleEvent(m),
    });
    if (this.eventsLookbackMs > 0) {
      await this.eventsSubscription.caughtUp();
      this.log.info({ eventsLookbackMs: this.eventsLookbackMs, endedKnown: this.ended.size }, 'recent events read');
    }
    this.subscription = await this.options.bus.subscribe({
      topic: this.options.topics.jobs,
      subscription: this.options.subscription ?? SERVICE_SUBSCRIPTIONS.datagen,
      type: 'shared',
      concurrency: this.options.concurrency ?? 1,
      maxRedeliveries: this.maxRedeliveries,
      nackRedeliveryDelayMs: this.options.nackRedeliveryDelayMs ?? 1000,
      handler: (m) => this.handleJob(m),
      onDeadLetter: deadLetterReporter(this.events, this.log),
    });
    this.log.info(
      { workerId: this.workerId, threads: this.pool.size, eventsSubscription: this.eventsSubscriptionName },
      'datagen worker started',
    );
  }

  /** Stops taking jobs, lets the job in hand finish (or hands it back), then stops the threads. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
    // The events subscription is this process's own and non-durable: leaving drops it.
    await this.eventsSubscription?.unsubscribe().catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err) }, 'could not leave the events subscription');
    });
    this.eventsSubscription = undefined;
    await this.pool.close();
    if (this.ownsRemote) this.remote.close();
    this.log.info('datagen worker stopped');
  }

  /** What this worker knows of an experiment's end, if it ended (for status queries and tests). */
  endedExperiment(experimentId: string): EndedSubmission | undefined {
    return this.ended.get(experimentId);
  }

  /** Learns of ended experiments and resubmissions. Never fails: an event it cannot read is ignored. */
  handleEvent(message: IncomingMessage): void {
    const kind = message.properties.event;
    if (kind !== undefined && !FOLLOWED_EVENTS.has(kind)) return;
    let event: v1.ExperimentEvent;
    try {
      event = Codecs.event.decode(message.payload);
    } catch (err) {
      this.log.debug({ err: errorMessage(err), messageId: message.messageId }, 'undecodable event ignored');
      return;
    }
    const id = event.experimentId;
    if (!id) return;
    switch (eventKind(event)) {
      case 'cancelled':
        this.ended.ended(id, 'cancelled', event.cancelled?.reason ?? '', message.publishTime);
        this.log.info({ experimentId: id }, 'experiment cancelled; its queued jobs will be skipped');
        return;
      case 'failed':
        this.ended.ended(id, 'failed', event.failed?.reason ?? '', message.publishTime);
        this.log.info({ experimentId: id }, 'experiment failed; its queued jobs will be skipped');
        return;
      case 'accepted':
        this.ended.accepted(id, message.publishTime);
        return;
      default:
        return;
    }
  }

  async handleJob(message: IncomingMessage): Promise<void> {
    const job = Codecs.job.decode(message.payload);
    // A job without an experiment or a purpose names no chunk: nothing to price, nobody to tell.
    if (!job.experimentId) throw new RejectMessageError('job names no experiment (experimentId is empty)');
    if (job.purpose !== v1.ChunkPurpose.TRAINING && job.purpose !== v1.ChunkPurpose.VALIDATION)
      throw new RejectMessageError(
        `job ${job.experimentId} chunk ${job.chunkIndex}: purpose = ${String(job.purpose)} is neither TRAINING nor VALIDATION`,
      );
    const purpose = purposeName(job.purpose);
    const ended = this.ended.staleJob(job.experimentId, message.publishTime);
    if (ended) {
      await this.skip(job, ended);
      this.metrics?.jobs.inc({ outcome: 'skipped', pricer: this.pricerLabel(job.spec?.pricer) });
      return;
    }
    const log = this.log.child({
      experimentId: job.experimentId,
      purpose,
      chunk: job.chunkIndex,
      attempt: job.attempt,
    });
    let spec: ExperimentSpec;
    try {
      spec = specFromWire(job.spec ?? {});
      checkJobRange(job, spec);
    } catch (err) {
      // The same job fails the same way on every worker that loads the same pricers: the chunk
      // fails for good, so the producer fails the experiment now with the reason, instead of
      // re-issuing the job until its attempts run out.
      if (err instanceof SpecError || err instanceof JobRangeError)
        return this.refuse(job, err instanceof SpecError ? `job carries an invalid spec: ${err.message}` : err.message, err, log);
      throw err;
    }
    const started = process.hrtime.bigint();
    const task = this.taskOf(job, spec);
    const pricer = { pricer: this.pricerLabel(spec.pricer) };
    let slice: ChunkSlice;
    let pricerVersion: string;
    this.metrics?.inProgress.inc();
    try {
      if (isRemotePricer(spec.pricer)) {
        ({ slice, version: pricerVersion } = await this.priceRemotely(job.spec ?? {}, spec, task));
      } else {
        slice = await this.pool.compute({ ...task, pricer: spec.pricer, outputs: spec.outputs });
        pricerVersion = getPricer(spec.pricer).version;
      }
    } catch (err) {
      this.metrics?.inProgress.dec();
      this.metrics?.jobs.inc({ outcome: 'failed', ...pricer });
      return this.failed(message, job, spec, err, log);
    }
    this.metrics?.inProgress.dec();
    const bad = findNonFloat32(slice.outputs, spec.outputs);
    if (bad) {
      this.metrics?.jobs.inc({ outcome: 'non_finite', ...pricer });
      return this.nonFinite(job, spec, slice.inputs, bad, log);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const chunk = v1.DataChunk.create({
      experimentId: job.experimentId,
      purpose: job.purpose,
      chunkIndex: job.chunkIndex,
      chunkCount: job.chunkCount,
      startIndex: job.startIndex,
      sampleCount: job.sampleCount,
      pricer: spec.pricer,
      pricerVersion,
      inputNames: spec.inputs.map((b) => b.name),
      outputNames: spec.outputs,
      inputs: encodeColumns(slice.inputs, job.sampleCount),
      outputs: encodeColumns(slice.outputs, job.sampleCount),
      spec: job.spec,
      workerId: this.workerId,
      attempt: job.attempt,
      computeSeconds: seconds,
      submittedAtMs: job.submittedAtMs,
    });
    await this.options.bus.publish(this.options.topics.chunks, {
      payload: Codecs.chunk.encode(chunk),
      key: job.experimentId,
      properties: { 'experiment-id': job.experimentId, purpose, 'chunk-index': String(job.chunkIndex) },
    });
    log.debug({ seconds, samples: job.sampleCount }, 'chunk published');
    if (this.metrics) {
      this.metrics.jobs.inc({ outcome: 'priced', ...pricer });
      this.metrics.samples.inc(pricer, job.sampleCount);
      this.metrics.chunkSeconds.observe(seconds, pricer);
    }
  }

  /**
   * A chunk for a gRPC pricer: the spec is checked against the pricer's description (kept for a
   * while, so not asked for on every job), the inputs are regenerated on the threads, and the
   * pricer is called in sub-batches, asynchronously, with deadlines and retries.
   */
  private async priceRemotely(
    wire: v1.IExperimentSpec,
    spec: ExperimentSpec,
    task: Omit<ChunkTask, 'outputs' | 'pricer'>,
  ): Promise<{ slice: ChunkSlice; version: string }> {
    const description = await this.remote.describe(spec.pricer);
    const checked = specFromWire(wire, { pricer: description });
    const inputs = await this.pool.sample(task);
    const outputs = await this.remote.client(spec.pricer).price({
      fixed: checked.fixed,
      inputNames: checked.inputs.map((b) => b.name),
      inputs,
      outputs: checked.outputs,
    });
    return { slice: { inputs, outputs }, version: description.version };
  }

  /**
   * A chunk that could not be made. Failures that a retry cannot fix (the spec does not fit the
   * gRPC pricer, the pricer refuses a parameter or has no such pricer) fail the chunk for good and
   * dead-letter the job at once; a non-finite answer fails it for good. Anything else (a crashed
   * thread, a pricer that is down, slow or answers with the wrong number of values) is retried by
   * redelivery; on the last delivery before the dead-letter topic the failure is final, and the
   * event says so, so the producer fails the experiment now rather than after a stall timeout.
   */
  private async failed(
    message: IncomingMessage,
    job: v1.DataGenJob,
    spec: ExperimentSpec,
    err: unknown,
    log: Logger,
  ): Promise<void> {
    if (err instanceof GrpcPricerError && err.code === 'REMOTE_NON_FINITE') {
      const d = err.details as { row: number; output: string; value: number };
      return this.nonFinite(job, spec, await this.pool.sample(this.taskOf(job, spec)), d, log);
    }
    const refused = err instanceof SpecError || isPermanentGrpcPricerError(err) || isRefusedLocally(err);
    const code = err instanceof SurrogateError ? err.code : 'PRICING_FAILED';
    const permanent = refused || message.redeliveryCount >= this.maxRedeliveries;
    const deliveries = message.redeliveryCount + 1;
    const reason =
      permanent && !refused ? `${errorMessage(err)} (after ${deliveries} deliveries)` : errorMessage(err);
    log.warn({ err: errorMessage(err), code, deliveries, permanent }, 'pricing failed');
    await this.events.publish(job.experimentId, {
      chunkFailed: {
        purpose: job.purpose,
        chunkIndex: job.chunkIndex,
        code,
        reason,
        permanent,
        attempt: job.attempt,
      },
    });
    if (refused) throw new RejectMessageError(reason, { cause: err });
    throw err;
  }

  /**
   * A job that no worker can price (its spec is invalid here, its sample range does not fit the
   * spec): a permanent chunkFailed, so the producer fails the experiment at once with the reason,
   * then the job goes to the dead-letter topic.
   */
  private async refuse(job: v1.DataGenJob, reason: string, err: SurrogateError, log: Logger): Promise<never> {
    const where = `${reason} (worker ${this.workerId})`;
    log.warn({ err: reason, code: err.code }, 'job refused');
    this.metrics?.jobs.inc({ outcome: 'failed', pricer: this.pricerLabel(job.spec?.pricer) });
    await this.events.publish(job.experimentId, {
      chunkFailed: {
        purpose: job.purpose,
        chunkIndex: job.chunkIndex,
        code: err.code,
        reason: where,
        permanent: true,
        attempt: job.attempt,
      },
    });
    throw new RejectMessageError(reason, { cause: err });
  }

  private taskOf(job: v1.DataGenJob, spec: ExperimentSpec): Omit<ChunkTask, 'outputs' | 'pricer'> {
    const training = purposeName(job.purpose) === 'training';
    return {
      fixed: spec.fixed,
      box: spec.inputs,
      sampler: training ? spec.sampler : 'uniform',
      seed: spec.seed,
      start: Number(job.startIndex),
      count: job.sampleCount,
      total: training ? spec.samples : spec.validation.samples,
    };
  }

  /** Acks a job of a submission that has ended, unpriced, and says so. */
  private async skip(job: v1.DataGenJob, ended: EndedSubmission): Promise<void> {
    const code = ended.kind === 'cancelled' ? 'EXPERIMENT_CANCELLED' : 'EXPERIMENT_FAILED';
    this.log.info(
      {
        experimentId: job.experimentId,
        purpose: purposeName(job.purpose),
        chunk: job.chunkIndex,
        attempt: job.attempt,
        code,
        endedAt: new Date(ended.endedAt).toISOString(),
      },
      `job skipped: its experiment was ${ended.kind}`,
    );
    await this.events.publish(job.experimentId, {
      jobSkipped: {
        purpose: job.purpose,
        chunkIndex: job.chunkIndex,
        attempt: job.attempt,
        code,
        reason: ended.reason,
        workerId: this.workerId,
      },
    });
  }

  /** A non-finite output: deterministic, so retrying gives the same values; the job is done (and failed). */
  private async nonFinite(
    job: v1.DataGenJob,
    spec: ExperimentSpec,
    inputs: readonly Float32Array[],
    bad: { row: number; output: string; value: number },
    log: Logger,
  ): Promise<void> {
    const row: Record<string, number> = {};
    spec.inputs.forEach((b, j) => (row[b.name] = (inputs[j] as Float32Array)[bad.row] as number));
    const overflow = Number.isFinite(bad.value)
      ? `, beyond the float32 range (±${FLOAT32_MAX}) that chunks carry, where it is ${bad.value > 0 ? '' : '-'}Infinity`
      : '';
    const reason = `pricer ${spec.pricer} returned ${bad.value} for ${bad.output} at sample ${Number(job.startIndex) + bad.row} (inputs ${JSON.stringify(row)})${overflow}; non-finite values are never trained on`;
    log.error({ row, output: bad.output }, 'pricer returned a non-finite value; chunk failed');
    await this.events.publish(job.experimentId, {
      chunkFailed: {
        purpose: job.purpose,
        chunkIndex: job.chunkIndex,
        code: 'NON_FINITE_OUTPUT',
        reason,
        permanent: true,
        attempt: job.attempt,
      },
    });
  }
}
