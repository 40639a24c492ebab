/**
 * bench infer's model server, in a process of its own: the same ModelServer with the same defaults
 * as `surrogate serve` (one onnxruntime thread, pino at warn so nothing is logged per call), so the
 * gRPC latency is what a client of `surrogate serve` sees. Not a command for users.
 *
 * argv[2]: JSON {model, tlsCert?, tlsKey?} (PEM file paths); the bearer token, if any, comes in the
 * SURROGATE_SERVE_TOKEN variable as for `surrogate serve`. Protocol on stdout, one JSON line each:
 * {"port":P} once listening (or {"error":"…"} and exit 1); then for every line "cpu" on stdin,
 * {"cpuUs":…,"runQueueUs":…,"gcMs":…,"gcs":…,"gcPauses":[[startEpochMs,ms],…]}: this process's CPU
 * time, its main thread's wait for a CPU (Linux; null elsewhere) and its garbage-collection pauses
 * since the previous "cpu" line. stdin closing stops the server.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createLogger, errorMessage } from '@surrogate/core';
import { ModelServer } from '@surrogate/model-server';
import { runQueueWaitUs } from './run-queue-wait';

interface ChildConfig {
  model: string;
  tlsCert?: string;
  tlsKey?: string;
}

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  const gcPauses: [number, number][] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push([performance.timeOrigin + e.startTime, e.duration]);
  }).observe({ entryTypes: ['gc'] });
  const tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  const server = await ModelServer.start({
    model: config.model,
    tls,
    token: process.env.SURROGATE_SERVE_TOKEN || undefined,
    logger: createLogger({ name: 'bench-infer-server', level: 'warn' }),
  });
  send({ port: server.port });
  let mark = process.cpuUsage();
  let waited = runQueueWaitUs();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() !== 'cpu') return;
    const used = process.cpuUsage(mark);
    mark = process.cpuUsage();
    const wait = runQueueWaitUs();
    const runQueueUs = wait !== undefined && waited !== undefined ? wait - waited : null;
    waited = wait;
    const pauses = gcPauses.splice(0);
    send({ cpuUs: used.user + used.system, runQueueUs, gcs: pauses.length, gcMs: pauses.reduce((a, p) => a + p[1], 0), gcPauses: pauses });
  });
  lines.once('close', () => {
    void server.stop(1000).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  send({ error: errorMessage(err) });
  process.exit(1);
});
