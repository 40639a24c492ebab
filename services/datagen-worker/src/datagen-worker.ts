import { hostname } from 'node:os';
import { createLogger, errorMessage, SurrogateError, type Logger } from '@surrogate/core';
import {
  RejectMessageError,
  type Bus,
  type IncomingMessage,
  type Subscription,
  type Topics,
} from '@surrogate/messaging';
import { findNonFinite, getPricer, loadPricerModules } from '@surrogate/pricing';
import { v1 } from '@surrogate/proto';
import { Codecs, deadLetterReporter, encodeColumns, EventPublisher, purposeName } from '@surrogate/protocol';
import { SpecError, specFromWire } from '@surrogate/spec';
import { PricingPool } from './pricing-pool';

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
  /** Subscription name on the jobs topic; shared by all workers. Default `datagen`. */
  subscription?: string;
  /** Redeliveries of a failing job before it is dead-lettered. Default 5. */
  maxRedeliveries?: number;
  /** Delay before a failed job is redelivered. Default 1 s. */
  nackRedeliveryDelayMs?: number;
  workerId?: string;
}

const SOURCE = 'datagen-worker';

/**
 * A stateless data-generation worker: takes a job, regenerates the chunk's inputs
 * deterministically, prices them on a pool of threads, publishes the chunk, and only then acks
 * the job (the handler returns after the broker's send receipt).
 */
export class DatagenWorker {
  private readonly log: Logger;
  private readonly events: EventPublisher;
  private readonly pool: PricingPool;
  private subscription: Subscription | undefined;
  readonly workerId: string;
  private readonly maxRedeliveries: number;

  constructor(private readonly options: DatagenWorkerOptions) {
    this.log = options.logger ?? createLogger({ name: SOURCE });
    this.events = new EventPublisher(options.bus, options.topics.events, SOURCE);
    // The main thread checks specs against the registry, so it loads the plugins the threads load.
    if (options.pricerModules?.length) loadPricerModules(options.pricerModules);
    this.pool = new PricingPool({ threads: options.threads, pricerModules: options.pricerModules });
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    this.maxRedeliveries = options.maxRedeliveries ?? 5;
  }

  async start(): Promise<void> {
    this.subscription = await this.options.bus.subscribe({
      topic: this.options.topics.jobs,
      subscription: this.options.subscription ?? 'datagen',
      type: 'shared',
      concurrency: this.options.concurrency ?? 1,
      maxRedeliveries: this.maxRedeliveries,
      nackRedeliveryDelayMs: this.options.nackRedeliveryDelayMs ?? 1000,
      handler: (m) => this.handleJob(m),
      onDeadLetter: deadLetterReporter(this.events, this.log),
    });
    this.log.info({ workerId: this.workerId, threads: this.pool.size }, 'datagen worker started');
  }

  /** Stops taking jobs, lets the job in hand finish (or hands it back), then stops the threads. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
    await this.pool.close();
    this.log.info('datagen worker stopped');
  }

  async handleJob(message: IncomingMessage): Promise<void> {
    const job = Codecs.job.decode(message.payload);
    const purpose = purposeName(job.purpose);
    let spec;
    try {
      spec = specFromWire(job.spec ?? {});
    } catch (err) {
      if (err instanceof SpecError)
        throw new RejectMessageError(`job carries an invalid spec: ${err.message}`, { cause: err });
      throw err;
    }
    const log = this.log.child({
      experimentId: job.experimentId,
      purpose,
      chunk: job.chunkIndex,
      attempt: job.attempt,
    });
    const started = process.hrtime.bigint();
    let slice;
    try {
      slice = await this.pool.compute({
        pricer: spec.pricer,
        fixed: spec.fixed,
        box: spec.inputs,
        sampler: purpose === 'training' ? spec.sampler : 'uniform',
        seed: spec.seed,
        start: Number(job.startIndex),
        count: job.sampleCount,
        total: purpose === 'training' ? spec.samples : spec.validation.samples,
        outputs: spec.outputs,
      });
    } catch (err) {
      // The failure may be transient (a crashed thread): the bus retries. On the last delivery
      // before the dead-letter topic the failure is final, and the event says so, so the producer
      // fails the experiment now rather than after a stall timeout.
      const code = err instanceof SurrogateError ? err.code : 'PRICING_FAILED';
      const permanent = message.redeliveryCount >= this.maxRedeliveries;
      const deliveries = message.redeliveryCount + 1;
      const reason = permanent ? `${errorMessage(err)} (after ${deliveries} deliveries)` : errorMessage(err);
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
      throw err;
    }
    const bad = findNonFinite(slice.outputs, spec.outputs);
    if (bad) {
      const row: Record<string, number> = {};
      spec.inputs.forEach((b, j) => (row[b.name] = (slice.inputs[j] as Float32Array)[bad.row] as number));
      const reason = `pricer ${spec.pricer} returned ${bad.value} for ${bad.output} at sample ${Number(job.startIndex) + bad.row} (inputs ${JSON.stringify(row)}); non-finite values are never trained on`;
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
      return; // deterministic: retrying gives the same values, so the job is done (and failed)
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
      pricerVersion: getPricer(spec.pricer).version,
      inputNames: spec.inputs.map((b) => b.name),
      outputNames: spec.outputs,
      inputs: encodeColumns(slice.inputs, job.sampleCount),
      outputs: encodeColumns(slice.outputs, job.sampleCount),
      spec: job.spec,
      workerId: this.workerId,
      attempt: job.attempt,
      computeSeconds: seconds,
    });
    await this.options.bus.publish(this.options.topics.chunks, {
      payload: Codecs.chunk.encode(chunk),
      key: job.experimentId,
      properties: { 'experiment-id': job.experimentId, purpose, 'chunk-index': String(job.chunkIndex) },
    });
    log.debug({ seconds, samples: job.sampleCount }, 'chunk published');
  }
}
