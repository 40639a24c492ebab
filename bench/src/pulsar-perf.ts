/**
 * The reference side of `surrogate bench pulsar`: Apache Pulsar's own benchmark tool, pulsar-perf
 * (`org.apache.pulsar.testclient.PulsarPerfTestTool`, the official Java client), run as a child
 * process with the client classpath of deploy/pulsar (`pulsar.sh classpath client`).
 *
 * Its rate is taken from its own log: the messages it reports in "Aggregated throughput stats"
 * divided by the time between the line that starts its measurement ("Created N producers" /
 * "Start receiving") and its "DONE" line. The aggregated msg/s pulsar-perf prints itself also counts
 * the JVM's client start-up (about a second), which would flatter our client.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '@surrogate/core';
import { PULSAR_SCRIPT } from '@surrogate/testing';
import { BenchError } from './bench-error';

export const PERF_MAIN_CLASS = 'org.apache.pulsar.testclient.PulsarPerfTestTool';
/** pulsar-perf allocates its latency histograms up front: 256 MB of heap is not enough. */
const JAVA_HEAP = '-Xmx512m';

export interface PerfEnvironment {
  java: string;
  classpath: string;
  /** pulsar-perf's first argument (a client.conf), as bin/pulsar-perf passes it. */
  clientConf: string;
  /** Token file for --auth-params (the token never appears on a command line). */
  tokenFile?: string;
}

/** Settings shared by both sides of one measurement. */
export interface PerfSettings {
  serviceUrl: string;
  size: number;
  batching: boolean;
  batchMaxMessages: number;
  batchMaxBytes: number;
  batchDelayMs: number;
  maxPending: number;
  receiverQueueSize: number;
}

export interface PerfRun {
  messages: number;
  seconds: number;
}

function unavailable(message: string, cause?: unknown, details: Record<string, unknown> = {}): BenchError {
  return new BenchError('BENCH_REFERENCE_UNAVAILABLE', message, {
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The java executable: the one given, else $JAVA_HOME/bin/java, else `java` on PATH; checked to run. */
export function findJava(explicit?: string): string {
  const candidate =
    explicit ??
    (process.env.JAVA_HOME && fs.existsSync(path.join(process.env.JAVA_HOME, 'bin', 'java'))
      ? path.join(process.env.JAVA_HOME, 'bin', 'java')
      : 'java');
  const probe = spawnSync(candidate, ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error || probe.status !== 0) {
    throw unavailable(
      `cannot run Java ("${candidate}": ${probe.error?.message ?? `exit ${probe.status}`}); pulsar-perf needs JDK 17+ ` +
        '(apt-get install openjdk-17-jdk-headless, or set JAVA_HOME)',
      probe.error,
      { java: candidate },
    );
  }
  const major = /version "(\d+)/.exec(probe.stderr ?? '')?.[1];
  if (major !== undefined && Number(major) < 17)
    throw unavailable(`Java ${major} at "${candidate}" is too old: pulsar-perf 4 needs 17+`, undefined, {
      java: candidate,
    });
  return candidate;
}

/** The official Java client + pulsar-perf classpath (resolved by deploy/pulsar/pulsar.sh, cached). */
export function clientClasspath(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.PULSAR_CLIENT_CLASSPATH) return process.env.PULSAR_CLIENT_CLASSPATH;
  const run = spawnSync(PULSAR_SCRIPT, ['classpath', 'client'], {
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 16 << 20,
  });
  if (run.error || run.status !== 0) {
    const tail = (run.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw unavailable(
      `cannot resolve the pulsar-perf classpath with ${PULSAR_SCRIPT} classpath client: ${run.error?.message ?? tail}`,
      run.error,
    );
  }
  const classpath = run.stdout.trim().split('\n').pop() ?? '';
  if (!classpath.includes('pulsar-testclient'))
    throw unavailable('the client classpath has no pulsar-testclient jar (pulsar-perf)', undefined, {
      script: PULSAR_SCRIPT,
    });
  return classpath;
}

/** Checks that pulsar-perf's main class starts (prints its usage). */
export function checkPerf(env: PerfEnvironment): void {
  const run = spawnSync(
    env.java,
    [JAVA_HEAP, '-cp', env.classpath, PERF_MAIN_CLASS, env.clientConf, 'produce', '--help'],
    {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 16 << 20,
    },
  );
  const out = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error || !out.includes('pulsar-perf produce'))
    throw unavailable(
      `pulsar-perf (${PERF_MAIN_CLASS}) does not start: ${run.error?.message ?? out.slice(-500)}`,
      run.error,
    );
}

/** Writes the token to a private temporary file for pulsar-perf's --auth-params file://… */
export function writeTokenFile(token: string): { file: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'surrogate-bench-'));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, token, { mode: 0o600 });
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function commonArgs(env: PerfEnvironment, settings: PerfSettings): string[] {
  return [
    '-u',
    settings.serviceUrl,
    ...(env.tokenFile
      ? [
          '--auth-plugin',
          'org.apache.pulsar.client.impl.auth.AuthenticationToken',
          '--auth-params',
          `file://${env.tokenFile}`,
        ]
      : []),
  ];
}

/** pulsar-perf produce: as fast as it can (rate limit far above reach) for `seconds`. */
export function perfProduceArgs(
  env: PerfEnvironment,
  settings: PerfSettings,
  topic: string,
  seconds: number,
): string[] {
  return [
    'produce',
    ...commonArgs(env, settings),
    '-r',
    '100000000',
    '-s',
    String(settings.size),
    '-o',
    String(settings.maxPending),
    '-time',
    String(seconds),
    ...(settings.batching
      ? [
          '-b',
          String(settings.batchDelayMs),
          '-bm',
          String(settings.batchMaxMessages),
          '-bb',
          String(settings.batchMaxBytes),
        ]
      : ['-db']),
    topic,
  ];
}

/** pulsar-perf consume: `messages` from the start of an existing subscription's backlog. */
export function perfConsumeArgs(
  env: PerfEnvironment,
  settings: PerfSettings,
  topic: string,
  subscription: string,
  messages: number,
  timeLimitSeconds: number,
): string[] {
  return [
    'consume',
    ...commonArgs(env, settings),
    '-ss',
    subscription,
    '-sp',
    'Earliest',
    '-st',
    'Exclusive',
    '-q',
    String(settings.receiverQueueSize),
    '-m',
    String(messages),
    '-time',
    String(timeLimitSeconds),
    topic,
  ];
}

/** Seconds since midnight of a "HH:MM:SS.mmm" log timestamp. */
function clock(line: string): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3})/.exec(line);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000 : undefined;
}

/**
 * The measured messages and seconds from pulsar-perf's log: `startMarker` and `DONE` bound the
 * measurement, "Aggregated throughput stats --- N records" gives the count.
 */
export function parsePerfLog(output: string, startMarker: RegExp): PerfRun {
  const lines = output.split('\n');
  const start = lines.find((l) => startMarker.test(l));
  const done = lines.find((l) => /PerformanceProducer - -+ DONE|PerformanceConsumer - -+ DONE/.test(l));
  const aggregated = /Aggregated throughput stats --- (\d+) records (sent|received)/.exec(output);
  const t0 = start === undefined ? undefined : clock(start);
  const t1 = done === undefined ? undefined : clock(done);
  if (t0 === undefined || t1 === undefined || !aggregated)
    throw new BenchError('BENCH_FAILED', 'pulsar-perf output lacks its start, DONE or aggregated lines', {
      details: { tail: lines.slice(-15).join('\n') },
    });
  let seconds = t1 - t0;
  if (seconds < 0) seconds += 24 * 3600; // ran over midnight
  return { messages: Number(aggregated[1]), seconds };
}

/** Runs pulsar-perf with `args`; resolves with its output once it exits 0. */
export function runPerf(
  env: PerfEnvironment,
  args: string[],
  timeoutMs: number,
  log: Logger,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      env.java,
      [JAVA_HEAP, '-cp', env.classpath, PERF_MAIN_CLASS, env.clientConf, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 4 << 20) output = output.slice(-(1 << 20));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'pulsar-perf ran too long: killing it');
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(unavailable(`cannot start pulsar-perf: ${err.message}`, err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new BenchError('BENCH_FAILED', `pulsar-perf ${args[0]} exited with ${signal ?? `code ${code}`}`, {
            details: { tail: output.split('\n').slice(-20).join('\n') },
          }),
        );
    });
  });
}
