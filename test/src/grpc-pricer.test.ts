import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createLogger } from '@surrogate/core';
import { openBus, type Bus } from '@surrogate/messaging';
import type { v1 } from '@surrogate/proto';
import { Codecs, eventKind } from '@surrogate/protocol';
import { SystemScene } from './system-scene';

const SPEC = (pricer: string): string => `
name: e2e-grpc
pricer: ${pricer}
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
outputs: [price]
samples: 16384
chunkSize: 4096
training: {layers: [16], epochs: 4, batchSize: 512}
validation: {samples: 2048, maxAbsError: 100, rmse: 50}   # this test is about delivery, not accuracy
`;

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a gRPC pricer behind datagen workers over Pulsar', () => {
  const scene = new SystemScene('e2e-grpc');
  let bus: Bus | undefined;

  afterAll(async () => {
    await bus?.close();
  });

  it('trains on data the remote pricer computed, and fails an experiment whose pricer is down with the reason', async () => {
    const common = scene.common;
    const pricer = scene.start('pricer', [
      'pricer-server',
      '--pricers',
      'black-scholes',
      '--listen',
      '127.0.0.1:0',
    ]);
    const trainer = scene.start('trainer', ['trainer', ...common, '--artifacts', scene.file('artifacts')]);
    const worker = scene.start('worker', ['datagen-worker', ...common, '--threads', '1', '--grpc-retries', '0']);
    const producer = scene.start('producer', ['producer', ...common]);
    await pricer.waitFor(/pricer server listening/);
    for (const p of [trainer, worker, producer]) await p.waitFor(/"msg":"running/);
    const line = pricer.stderr.split('\n').find((l) => l.includes('pricer server listening')) as string;
    const [pricerUrl] = (JSON.parse(line) as { urls: string[] }).urls;

    const log = createLogger({ name: 'e2e', level: 'silent' });
    bus = await openBus(scene.url, { logger: log });
    const deadLettered: v1.IMessageDeadLettered[] = [];
    await bus.subscribe({
      topic: scene.topics.events,
      subscription: 'e2e-grpc-watch',
      type: 'exclusive',
      handler: (m) => {
        const e = Codecs.event.decode(m.payload);
        if (eventKind(e) === 'deadLettered' && e.deadLettered) deadLettered.push(e.deadLettered);
      },
    });

    // 1. The pricer is up: the experiment completes on its prices.
    const good = scene.file('good.yaml');
    await writeFile(good, SPEC(pricerUrl as string));
    const ok = scene.start('submit-ok', ['submit', good, ...common, '--wait', '--quiet']);
    const okExit = await ok.exited;
    if (okExit.code !== 0)
      throw new Error(`submit exited ${okExit.code}: ${ok.stdout}\n${ok.tail()}\n${worker.tail()}`);
    const summary = JSON.parse(ok.stdout.trim().split('\n').pop() as string) as {
      pass: boolean;
      report: string;
    };
    const report = JSON.parse(await readFile(summary.report, 'utf8'));
    expect(report.dataset).toMatchObject({ chunksExpected: 5, chunksStored: 5, samples: 16384 });

    // 2. The pricer is down: each delivery fails, the job is dead-lettered, and the experiment says why.
    const bad = scene.file('down.yaml');
    await writeFile(bad, SPEC(`grpc://127.0.0.1:${await closedPort()}/black-scholes`));
    const down = scene.start('submit-down', ['submit', bad, ...common, '--wait', '--quiet']);
    expect((await down.exited).code).toBe(1);
    const failed = JSON.parse(down.stdout.trim().split('\n').pop() as string) as {
      failed: { code: string; stage: string; reason: string };
    };
    expect(failed.failed.code).toBe('REMOTE_UNAVAILABLE');
    expect(failed.failed.stage).toBe('datagen');
    expect(failed.failed.reason).toMatch(
      /chunk \d+: pricer grpc:\/\/127\.0\.0\.1:\d+\/black-scholes is unavailable \(Describe: UNAVAILABLE after 1 attempt\).*\(after 6 deliveries\)$/,
    );
    const deadline = Date.now() + 30_000;
    while (deadLettered.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(deadLettered[0]?.deadLetterTopic).toMatch(/jobs-datagen-DLQ$/);
    expect(deadLettered[0]?.reason).toMatch(/is unavailable/);

    for (const p of [trainer, worker, producer, pricer]) p.child.kill('SIGTERM');
    for (const p of [trainer, worker, producer, pricer]) expect((await p.exited).code).toBe(0);
  });
});
