import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '@surrogate/core';
import { INFERENCE_SERVICE } from '@surrogate/model-server';
import type { v1 } from '@surrogate/proto';
import { BenchError } from './bench-error';
import { runQueueWaitUs } from './run-queue-wait';

/** Latency of one prediction per call, as a client of `surrogate serve` sees it. */
export interface GrpcLatency {
  /** How the figures were taken (kept with them, since a latency means little without it). */
  method: string;
  tls: boolean;
  token: boolean;
  warmupCalls: number;
  /**
   * The warm-up calls' own p50/p99: a fresh server and client run grpc-js and http2 unoptimized
   * until V8 has compiled them (some thousands of calls), and compile meanwhile on the other cores.
   */
  warmup: { p50Ms: number; p99Ms: number };
  calls: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Where the tail comes from: the calls slower than `overMs`, and how many of them overlapped a
   * garbage-collection pause of the server process or of the client (this process). The rest
   * waited for something else, mostly for a CPU on a busy machine.
   */
  slowCalls: { overMs: number; count: number; duringServerGc: number; duringClientGc: number };
  /** CPU time (all threads) per call of the client process and of the server process. */
  clientCpuUsPerCall: number;
  serverCpuUsPerCall: number;
  /**
   * Per call, how long the main thread of each process waited, runnable, for a CPU (Linux's
   * /proc/self/schedstat; null elsewhere): the share of the latency that is the machine being busy.
   */
  clientRunQueueUsPerCall: number | null;
  serverRunQueueUsPerCall: number | null;
  serverGcMs: number;
  clientGcMs: number;
}

export interface GrpcLatencyOptions {
  /** The model.onnx to serve. */
  model: string;
  /** How long to measure, after the warm-up. */
  seconds: number;
  /** One row of raw inputs. */
  row: Float32Array;
  /** Calls before the measured ones (default DEFAULT_WARMUP_CALLS); the warm-up also lasts at least 1 s. */
  warmupCalls?: number;
  /** Serve TLS (with this self-signed certificate for 127.0.0.1) and require a bearer token. */
  tls?: { certFile: string; keyFile: string };
}

const SLOW_MS = 1;

/**
 * Warm-up calls by default. On the 2-core machine the median call went from ~0.9 ms over the first
 * 500 calls to ~0.4 ms after ~4000 (V8 optimizing grpc-js, http2 and our handler on both sides), and
 * while it compiles, its compiler threads take the CPU the other process needs.
 */
export const DEFAULT_WARMUP_CALLS = 5000;

/** The method as the report states it. */
function describeMethod(o: { tls: boolean; warmupCalls: number }): string {
  return (
    'sequential unary Predict calls of one row, each awaited before the next, over one kept-open channel ' +
    `(a @grpc/grpc-js client with default options${o.tls ? ', TLS and a bearer token' : ', plaintext'}) to 127.0.0.1, ` +
    'against a model server in a separate process (the ModelServer of `surrogate serve`, one onnxruntime thread); ' +
    `latency = the client's wall time from the call to its callback; after ${o.warmupCalls} warm-up calls`
  );
}

interface ServerStats {
  cpuUs: number;
  runQueueUs: number | null;
  gcs: number;
  gcMs: number;
  gcPauses: [number, number][];
}

/** The child's JSON lines, one at a time. */
class ChildLines {
  private readonly queue: unknown[] = [];
  private waiting: ((v: unknown) => void) | undefined;
  private ended = false;

  constructor(readonly child: ChildProcess) {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        return; // not ours
      }
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(v);
      } else this.queue.push(v);
    });
    rl.once('close', () => {
      this.ended = true;
      this.waiting?.(undefined);
    });
  }

  async next(timeoutMs: number): Promise<Record<string, unknown>> {
    const v =
      this.queue.length > 0
        ? this.queue.shift()
        : this.ended
          ? undefined
          : await new Promise<unknown>((resolve) => {
              const t = setTimeout(() => {
                this.waiting = undefined;
                resolve(undefined);
              }, timeoutMs);
              this.waiting = (x) => {
                clearTimeout(t);
                resolve(x);
              };
            });
    if (typeof v !== 'object' || v === null) throw new BenchError('BENCH_FAILED', 'the model server process stopped answering');
    return v as Record<string, unknown>;
  }
}

/** A self-signed certificate for localhost and 127.0.0.1 made with openssl, or why it could not be made. */
export async function selfSignedCertificate(dir: string): Promise<{ certFile: string; keyFile: string } | string> {
  const certFile = path.join(dir, 'server.pem');
  const keyFile = path.join(dir, 'server.key');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile];
  args.push('-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => execFile('openssl', args, { timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    return { certFile, keyFile };
  } catch (err) {
    return `openssl could not make a test certificate (${errorMessage(err)})`;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function overlaps(pauses: readonly [number, number][], start: number, ms: number): boolean {
  return pauses.some(([s, d]) => s < start + ms && s + d > start);
}

/**
 * Starts the model server in a child process, calls Predict with one row, one call at a time,
 * for `seconds` after a warm-up, and reports the latency distribution with what the tail overlapped.
 */
export async function measureGrpcLatency(o: GrpcLatencyOptions): Promise<GrpcLatency> {
  const token = o.tls ? randomBytes(16).toString('hex') : '';
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'infer-server.js'), JSON.stringify({ model: o.model, tlsCert: o.tls?.certFile, tlsKey: o.tls?.keyFile })],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, SURROGATE_SERVE_TOKEN: token } },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // could not start: the first read below says so
  });
  const lines = new ChildLines(child);
  let client: grpc.Client | undefined;
  const clientGc: [number, number][] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) clientGc.push([performance.timeOrigin + e.startTime, e.duration]);
  });
  try {
    const hello = await lines.next(60_000);
    if (typeof hello.port !== 'number') throw new BenchError('BENCH_FAILED', `the model server did not start: ${String(hello.error ?? JSON.stringify(hello))}`);
    let credentials = grpc.credentials.createInsecure();
    if (o.tls) {
      const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${token}`);
        callback(null, md);
      });
      credentials = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(await readFile(o.tls.certFile)), bearer);
    }
    const Client = grpc.makeGenericClientConstructor(INFERENCE_SERVICE, 'InferenceService');
    // TLS: the certificate's name (an IP address is no valid TLS server name, RFC 6066)
    const c = new Client(`127.0.0.1:${hello.port}`, credentials, o.tls ? { 'grpc.ssl_target_name_override': 'localhost' } : {});
    client = c;
    const request: v1.IPredictRequest = { rows: 1, inputs: Array.from(o.row) };
    const predictOnce = (): Promise<void> =>
      new Promise((resolve, reject) =>
        c.makeUnaryRequest(INFERENCE_SERVICE.predict.path, INFERENCE_SERVICE.predict.requestSerialize, INFERENCE_SERVICE.predict.responseDeserialize, request, (err) =>
          err ? reject(err) : resolve(),
        ),
      );

    // warm-up: connect, and let both processes optimize the hot paths
    const minWarmup = o.warmupCalls ?? DEFAULT_WARMUP_CALLS;
    const warm: number[] = [];
    const warmEnd = performance.now() + 1000;
    while (warm.length < minWarmup || performance.now() < warmEnd) {
      const t0 = performance.now();
      await predictOnce();
      warm.push(performance.now() - t0);
    }
    const warmSorted = Float64Array.from(warm).sort();

    child.stdin!.write('cpu\n');
    await lines.next(10_000); // resets the server's CPU and GC counters
    observer.observe({ entryTypes: ['gc'] });
    const cpu0 = process.cpuUsage();
    const wait0 = runQueueWaitUs();
    let starts: Float64Array<ArrayBuffer> = new Float64Array(8192);
    let times: Float64Array<ArrayBuffer> = new Float64Array(8192);
    let calls = 0;
    const end = performance.now() + o.seconds * 1000;
    for (let t0 = performance.now(); t0 < end; t0 = performance.now()) {
      await predictOnce();
      const t1 = performance.now();
      if (calls === starts.length) {
        const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
          const b = new Float64Array(a.length * 2);
          b.set(a);
          return b;
        };
        starts = grow(starts);
        times = grow(times);
      }
      starts[calls] = t0;
      times[calls] = t1 - t0;
      calls++;
    }
    const cpu = process.cpuUsage(cpu0);
    const wait1 = runQueueWaitUs();
    observer.disconnect();
    if (calls === 0) throw new BenchError('BENCH_FAILED', `no gRPC call completed in ${o.seconds} s`);
    child.stdin!.write('cpu\n');
    const server = (await lines.next(10_000)) as unknown as ServerStats;

    const sorted = times.slice(0, calls).sort();
    let count = 0;
    let duringServerGc = 0;
    let duringClientGc = 0;
    for (let i = 0; i < calls; i++) {
      if (times[i] <= SLOW_MS) continue;
      count++;
      const start = performance.timeOrigin + starts[i];
      if (overlaps(server.gcPauses, start, times[i])) duringServerGc++;
      if (overlaps(clientGc, start, times[i])) duringClientGc++;
    }
    return {
      method: describeMethod({ tls: !!o.tls, warmupCalls: warm.length }),
      tls: !!o.tls,
      token: !!o.tls,
      warmupCalls: warm.length,
      warmup: { p50Ms: percentile(warmSorted, 0.5), p99Ms: percentile(warmSorted, 0.99) },
      calls,
      p50Ms: percentile(sorted, 0.5),
      p90Ms: percentile(sorted, 0.9),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted[calls - 1],
      slowCalls: { overMs: SLOW_MS, count, duringServerGc, duringClientGc },
      clientCpuUsPerCall: (cpu.user + cpu.system) / calls,
      serverCpuUsPerCall: server.cpuUs / calls,
      clientRunQueueUsPerCall: wait0 !== undefined && wait1 !== undefined ? (wait1 - wait0) / calls : null,
      serverRunQueueUsPerCall: server.runQueueUs === null ? null : server.runQueueUs / calls,
      serverGcMs: server.gcMs,
      clientGcMs: clientGc.reduce((a, p) => a + p[1], 0),
    };
  } finally {
    observer.disconnect();
    client?.close();
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
