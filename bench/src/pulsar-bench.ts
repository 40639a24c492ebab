/**
 * `surrogate bench pulsar`: our client (libs/pulsar) against pulsar-perf (the official Java
 * client) on the same broker, in the same run, with the same settings, for each message size in
 * two modes:
 *
 * - produce: each publishes as fast as it can for `seconds` to a fresh topic;
 * - consume: each reads the same backlog (what pulsar-perf published in its first produce run,
 *   kept by subscriptions created before it) from the start, one after the other.
 *
 * Each side runs twice per mode, in the order ours, Java, Java, ours (ABBA), and its figure is
 * messages / seconds over both runs: on a busy machine, and as the broker's and the OS's caches
 * warm up, a single pair in a fixed order would favour whichever runs second.
 *
 * Settings per size (both sides): batching on (1 ms, 1000 messages, 4 MiB) up to 16 KiB, off
 * above; at most min(1000, 64 MiB / size) messages pending and as many in the receiver queue; no
 * compression; exclusive subscription, every message acked. See pulsar-perf.ts for how each side's
 * rate is measured. MB/s are MiB (2^20 bytes) of payload per second.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { type Logger, createLogger, safeUrl } from '@surrogate/core';
import { PulsarClient } from '@surrogate/pulsar';
import { PULSAR_SCRIPT } from '@surrogate/testing';
import { BenchError } from './bench-error';
import { ourConsume, ourProduce } from './pulsar-ours';
import {
  type PerfEnvironment,
  type PerfRun,
  type PerfSettings,
  checkPerf,
  clientClasspath,
  findJava,
  parsePerfLog,
  perfConsumeArgs,
  perfProduceArgs,
  runPerf,
  writeTokenFile,
} from './pulsar-perf';

export interface PulsarBenchOptions {
  /** Broker service URL (pulsar:// or pulsar+ssl://). */
  pulsarUrl: string;
  /** Authentication token, if the broker requires one. */
  token?: string;
  /** Message sizes in bytes (default 100, 1024, 65536, 1048576). */
  sizes?: number[];
  /** Seconds measured per size and mode. */
  seconds?: number;
  /** Java executable for pulsar-perf (default $JAVA_HOME/bin/java, else java on PATH). */
  java?: string;
  /** Classpath of the Java client + pulsar-perf (default: $PULSAR_CLIENT_CLASSPATH, else pulsar.sh classpath client). */
  classpath?: string;
  /** Progress logger (default: pino on stderr). */
  logger?: Logger;
}

export interface ThroughputFigures {
  msgsPerSec: number;
  mbPerSec: number;
}

export interface PulsarBenchResult {
  size: number;
  mode: 'produce' | 'consume';
  ours: ThroughputFigures;
  java: ThroughputFigures;
  /** ours / java, in msgs/s (the same ratio in MB/s: both send the same sizes). */
  ratio: number;
}

export interface PulsarBenchReport {
  results: PulsarBenchResult[];
}

export const DEFAULT_SIZES = [100, 1024, 64 * 1024, 1024 * 1024];
/** Seconds per run (each side runs twice per size and mode). */
export const DEFAULT_SECONDS = 5;
/** Largest payload measured: the broker's default 5 MiB limit minus room for the metadata. */
export const MAX_BENCH_SIZE = 5 * 1024 * 1024 - 64 * 1024;
/** Sizes up to this are sent with batching on. */
export const BATCHING_MAX_SIZE = 16 * 1024;
const PENDING_BYTES = 64 * 1024 * 1024;

function badOption(message: string, details: Record<string, unknown>): BenchError {
  return new BenchError('BENCH_BAD_OPTION', message, { details });
}

function validate(options: PulsarBenchOptions): { sizes: number[]; seconds: number } {
  if (!/^pulsar(\+ssl)?:\/\/[^/\s]+/.test(options.pulsarUrl ?? ''))
    throw badOption(
      `pulsarUrl = ${JSON.stringify(options.pulsarUrl)}: must be pulsar://host:port or pulsar+ssl://host:port`,
      {
        field: 'pulsarUrl',
      },
    );
  const sizes = options.sizes ?? DEFAULT_SIZES;
  if (!Array.isArray(sizes) || sizes.length === 0)
    throw badOption('sizes: must list at least one message size', { field: 'sizes', value: sizes });
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_BENCH_SIZE)
      throw badOption(`sizes: ${size} must be a whole number of bytes in [1, ${MAX_BENCH_SIZE}]`, {
        field: 'sizes',
        value: size,
      });
  }
  const seconds = options.seconds ?? DEFAULT_SECONDS;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw badOption(`seconds = ${seconds}: must be a number in (0, 3600]`, {
      field: 'seconds',
      value: seconds,
    });
  return { sizes, seconds };
}

/** The settings both clients use for one size. */
export function settingsFor(serviceUrl: string, size: number): PerfSettings {
  const window = Math.max(1, Math.min(1000, Math.floor(PENDING_BYTES / size)));
  return {
    serviceUrl,
    size,
    batching: size <= BATCHING_MAX_SIZE,
    batchMaxMessages: 1000,
    batchMaxBytes: 4 * 1024 * 1024,
    batchDelayMs: 1,
    maxPending: window,
    receiverQueueSize: window,
  };
}

function figures(run: PerfRun, size: number): ThroughputFigures {
  if (run.seconds <= 0 || run.messages <= 0)
    throw new BenchError('BENCH_FAILED', `a run measured ${run.messages} messages in ${run.seconds} s`, {
      details: { ...run, size },
    });
  const msgsPerSec = run.messages / run.seconds;
  return { msgsPerSec: round(msgsPerSec), mbPerSec: round((msgsPerSec * size) / (1024 * 1024)) };
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}

/** Several runs as one: all their messages over all their time. */
function pooled(runs: PerfRun[]): PerfRun {
  return {
    messages: runs.reduce((sum, r) => sum + r.messages, 0),
    seconds: runs.reduce((sum, r) => sum + r.seconds, 0),
  };
}

function result(
  size: number,
  mode: 'produce' | 'consume',
  ours: PerfRun[],
  java: PerfRun[],
): PulsarBenchResult {
  for (const run of [...ours, ...java]) figures(run, size); // every run must have measured something
  const o = figures(pooled(ours), size);
  const j = figures(pooled(java), size);
  return { size, mode, ours: o, java: j, ratio: Number((o.msgsPerSec / j.msgsPerSec).toFixed(3)) };
}

/** Measures our client against pulsar-perf (the official Java client) on the same broker. */
export async function benchPulsar(options: PulsarBenchOptions): Promise<PulsarBenchReport> {
  const { sizes, seconds } = validate(options);
  const log = (options.logger ?? createLogger({ name: 'bench-pulsar' })).child({ bench: 'pulsar' });
  const java = findJava(options.java);
  const classpath = clientClasspath(options.classpath);
  const token = options.token ? writeTokenFile(options.token) : undefined;
  const env: PerfEnvironment = {
    java,
    classpath,
    clientConf: path.join(path.dirname(PULSAR_SCRIPT), 'conf', 'client', 'client.conf'),
    ...(token ? { tokenFile: token.file } : {}),
  };
  let client: PulsarClient | undefined;
  try {
    checkPerf(env);
    try {
      client = await PulsarClient.connect({
        serviceUrl: options.pulsarUrl,
        ...(options.token ? { token: options.token } : {}),
        logger: log.child({ component: 'pulsar-client' }, { level: 'warn' }),
      });
    } catch (err) {
      throw new BenchError(
        'BENCH_FAILED',
        `cannot connect to ${safeUrl(options.pulsarUrl)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const results: PulsarBenchResult[] = [];
    const live = client;
    for (const size of sizes) {
      const settings = settingsFor(options.pulsarUrl, size);
      const topic = (who: string): string => `persistent://public/default/bench-${who}-${size}-${run}`;
      const perfProduce = async (target: string): Promise<PerfRun> =>
        parsePerfLog(
          await runPerf(env, perfProduceArgs(env, settings, target, seconds), (seconds + 120) * 1000, log),
          /PerformanceProducer - Created \d+ producers/,
        );
      // The backlog both consumers read: pulsar-perf's first produce run, kept by 4 subscriptions.
      const backlogTopic = topic('java-a');
      const subscriptions = ['ours-1', 'java-1', 'java-2', 'ours-2'];
      for (const subscription of subscriptions)
        await (
          await live.subscribe({ topic: backlogTopic, subscription, initialPosition: 'earliest' })
        ).close();

      log.info(
        { seconds, ...settings, serviceUrl: undefined },
        'produce: ours, pulsar-perf, pulsar-perf, ours',
      );
      const ours1 = await ourProduce(live, settings, topic('ours-a'), seconds);
      const java1 = await perfProduce(backlogTopic);
      const java2 = await perfProduce(topic('java-b'));
      const ours2 = await ourProduce(live, settings, topic('ours-b'), seconds);
      results.push(result(size, 'produce', [ours1, ours2], [java1, java2]));
      log.info(results[results.length - 1], 'produce measured');

      const backlog = java1.messages;
      const limit = Math.ceil(seconds * 20 + 120);
      const perfConsume = async (subscription: string): Promise<PerfRun> =>
        parsePerfLog(
          await runPerf(
            env,
            perfConsumeArgs(env, settings, backlogTopic, subscription, backlog, limit),
            (limit + 120) * 1000,
            log,
          ),
          /PerformanceConsumer - Start receiving/,
        );
      log.info({ size, backlog }, 'consume: ours, pulsar-perf, pulsar-perf, ours');
      const oursC1 = await ourConsume(live, settings, backlogTopic, 'ours-1', backlog, limit);
      const javaC1 = await perfConsume('java-1');
      const javaC2 = await perfConsume('java-2');
      const oursC2 = await ourConsume(live, settings, backlogTopic, 'ours-2', backlog, limit);
      results.push(result(size, 'consume', [oursC1, oursC2], [javaC1, javaC2]));
      log.info(results[results.length - 1], 'consume measured');
      // Let the broker drop what was measured (ourConsume unsubscribed its own).
      for (const subscription of ['java-1', 'java-2'])
        await (await live.subscribe({ topic: backlogTopic, subscription })).unsubscribe();
    }
    return { results };
  } finally {
    await client?.close();
    token?.remove();
  }
}

/** A human-readable table of a report. */
export function formatPulsarBench(report: PulsarBenchReport): string {
  const header = ['size', 'mode', 'ours msg/s', 'ours MB/s', 'java msg/s', 'java MB/s', 'ratio'];
  const rows = report.results.map((r) => [
    String(r.size),
    r.mode,
    r.ours.msgsPerSec.toFixed(0),
    r.ours.mbPerSec.toFixed(1),
    r.java.msgsPerSec.toFixed(0),
    r.java.mbPerSec.toFixed(1),
    r.ratio.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
