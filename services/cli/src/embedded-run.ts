import * as path from 'node:path';
import { createLogger, type Logger } from '@surrogate/core';
import { DatagenWorker } from '@surrogate/datagen-worker';
import { createMemoryBus, Topics } from '@surrogate/messaging';
import { heldChunksToWire, Producer, type HeldChunks } from '@surrogate/producer';
import type { RemotePricers } from '@surrogate/pricing';
import { CommandPublisher, newExperimentId } from '@surrogate/protocol';
import { specToWire, type ExperimentSpec } from '@surrogate/spec';
import { TrainerService } from '@surrogate/trainer';
import { ExperimentWatcher, type ExperimentOutcome } from './experiment-watcher';
import type { ProgressDisplay } from './progress-display';

/**
 * How long an embedded run waits, after a message of its own was dead-lettered, for the event that
 * ends it with the precise reason (a permanent ChunkFailed turned into the producer's Failed).
 */
const DEAD_LETTER_GRACE_MS = 2000;

export interface EmbeddedRunOptions {
  spec: ExperimentSpec;
  outDir: string;
  display: ProgressDisplay;
  /** Pricing threads (default: one per core); training threads come from the spec. */
  threads?: number;
  pricerModules?: string[];
  /** Clients of gRPC pricers (the run's spec may name one); the caller closes them. */
  remotePricers?: RemotePricers;
  logger?: Logger;
  /** Aborting cancels the experiment (as `surrogate cancel` would) and waits for it to stop. */
  signal?: AbortSignal;
  experimentId?: string;
  /**
   * Carry on the earlier run `experimentId` stored in outDir: its trainer picks up the stored
   * dataset (and checkpoint) by itself; the experiment is submitted again only when data is
   * missing, naming the chunks held, so that only the others are generated.
   */
  resume?: { complete: boolean; held?: HeldChunks };
  /** Memory a training set may take before the trainer streams it from disk. */
  memoryBudgetBytes?: number;
}

export interface EmbeddedRunResult {
  experimentId: string;
  outcome: ExperimentOutcome;
  seconds: number;
}

/**
 * Runs one experiment with every service in this process on the in-memory bus: the same
 * services and the same protobuf messages as the distributed mode, only the bus differs.
 */
export async function runEmbedded(o: EmbeddedRunOptions): Promise<EmbeddedRunResult> {
  const started = performance.now();
  const logger = o.logger ?? createLogger({ name: 'surrogate', level: process.env.LOG_LEVEL ?? 'warn' });
  const bus = createMemoryBus({ name: 'embedded', logger: logger.child({ component: 'bus' }) });
  const topics = new Topics();
  const experimentId = o.experimentId ?? newExperimentId(o.spec.name);
  const trainer = new TrainerService({
    bus,
    topics,
    dataDir: path.join(o.outDir, 'dataset'),
    artifactsDir: () => o.outDir,
    logger: logger.child({ service: 'trainer' }),
    // a fresh run never trains other runs' datasets left in outDir; a resumed one trains its own
    resumeOnStart: o.resume ? { only: experimentId, spec: o.spec } : 'none',
    memoryBudgetBytes: o.memoryBudgetBytes,
    whenDataDirHeld: 'fail', // another run on the same --out: say so, do not wait for it
  });
  const worker = new DatagenWorker({
    bus,
    topics,
    threads: o.threads,
    pricerModules: o.pricerModules,
    remotePricers: o.remotePricers,
    logger: logger.child({ service: 'datagen-worker' }),
    nackRedeliveryDelayMs: 200,
  });
  const producer = new Producer({ bus, topics, logger: logger.child({ service: 'producer' }) });
  const commands = new CommandPublisher(bus, topics, logger);
  // this bus carries this run alone: a dead letter is one of its own messages, which it cannot complete without
  const watcher = new ExperimentWatcher(experimentId, o.display, o.resume?.held, { graceMs: DEAD_LETTER_GRACE_MS });
  const onAbort = (): void => {
    o.display.note('cancelling…');
    void commands.publish({ experimentId, issuedAtMs: Date.now(), cancel: { reason: 'interrupted' } });
  };
  try {
    // the watcher first: a resumed trainer starts training (and reporting) as soon as it starts
    await watcher.attach(bus, topics.events, `cli-${experimentId}`);
    await trainer.start();
    await worker.start();
    await producer.start();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (!o.resume?.complete) {
      await commands.publish({
        experimentId,
        issuedAtMs: Date.now(),
        submit: { spec: specToWire(o.spec), ...(o.resume?.held ? { held: heldChunksToWire(o.resume.held) } : {}) },
      });
    }
    const outcome = await watcher.outcome;
    o.display.finish();
    return { experimentId, outcome, seconds: (performance.now() - started) / 1000 };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await watcher.detach();
    await producer.stop();
    await worker.stop();
    await trainer.stop();
    await bus.close();
  }
}
