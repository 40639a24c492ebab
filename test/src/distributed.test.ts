import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLogger } from '@surrogate/core';
import { openBus, Topics, type Bus } from '@surrogate/messaging';
import type { v1 } from '@surrogate/proto';
import { Codecs, eventKind, purposeName } from '@surrogate/protocol';
import { admin, BROKER_START_TIMEOUT_MS, brokerUrl } from '@surrogate/testing';
import { ServiceProcess } from './service-process';

// 2^17 Heston samples in 32 chunks: slow enough (tens of µs a price) that both workers are busy
// when one is killed.
const SPEC = `
name: e2e-heston
pricer: heston
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02, kappa: 1.5, theta: 0.04, sigma: 0.5, rho: -0.7}
inputs:
  spot: {min: 80, max: 120}
  maturity: {min: 0.25, max: 2}
  v0: {min: 0.01, max: 0.09}
samples: 131072
chunkSize: 4096
seed: 9
training: {layers: [32, 32], epochs: 8, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 5, rmse: 2}   # this test is about delivery, not accuracy
`;

describe('services as separate processes over Pulsar', () => {
  let url: string;
  let namespace: string;
  let dir: string;
  const processes: ServiceProcess[] = [];
  let bus: Bus | undefined;

  beforeAll(async () => {
    url = brokerUrl();
    namespace = `e2e-${Date.now().toString(36)}`;
    await admin('PUT', `/admin/v2/namespaces/public/${namespace}`, {});
    dir = await mkdtemp(path.join(tmpdir(), 'surrogate-e2e-'));
  }, BROKER_START_TIMEOUT_MS);

  afterAll(async () => {
    await bus?.close();
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('completes with every chunk stored exactly once when a worker is SIGKILLed mid-run', async () => {
    const common = ['--pulsar', url, '--namespace', namespace];
    const start = (name: string, args: string[]): ServiceProcess => {
      const p = new ServiceProcess(name, args);
      processes.push(p);
      return p;
    };
    const trainer = start('trainer', ['trainer', ...common, '--artifacts', path.join(dir, 'artifacts')]);
    const doomed = start('worker-1', ['datagen-worker', ...common, '--threads', '1']);
    const survivor = start('worker-2', ['datagen-worker', ...common, '--threads', '1']);
    const producer = start('producer', ['producer', ...common]);
    for (const p of [trainer, doomed, survivor, producer]) await p.waitFor(/"msg":"running/);

    // Watch the events, to kill a worker once data generation is under way.
    const log = createLogger({ name: 'e2e', level: 'silent' });
    bus = await openBus(url, { logger: log });
    const topics = new Topics({ namespace });
    const accepted: v1.IChunkAccepted[] = [];
    await bus.subscribe({
      topic: topics.events,
      subscription: 'e2e-watch',
      type: 'exclusive',
      handler: (m) => {
        const e = Codecs.event.decode(m.payload);
        if (eventKind(e) === 'chunkAccepted' && e.chunkAccepted) accepted.push(e.chunkAccepted);
      },
    });
    const specFile = path.join(dir, 'spec.yaml');
    await writeFile(specFile, SPEC);
    const submit = start('submit', ['submit', specFile, ...common, '--wait', '--quiet']);

    const deadline = Date.now() + 120_000;
    while (accepted.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    const landedBeforeKill = new Set(accepted.map((a) => `${purposeName(a.purpose)}/${a.chunkIndex}`)).size;
    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    expect(landedBeforeKill).toBeLessThan(33);

    const result = await submit.exited;
    if (result.code !== 0)
      throw new Error(`submit exited ${result.code}: ${submit.stdout}\n${submit.tail()}`);
    const summary = JSON.parse(submit.stdout.trim().split('\n').pop() as string) as {
      pass: boolean;
      report: string;
    };
    expect(summary.pass).toBe(true);
    const report = JSON.parse(await readFile(summary.report, 'utf8'));
    expect(report.dataset.chunksExpected).toBe(33);
    expect(report.dataset.chunksStored).toBe(report.dataset.chunksExpected);
    expect(report.dataset.samples).toBe(131072);
    expect(report.dataset.validationSamples).toBe(4096);
    // Every chunk landed at least once, and the trainer kept each exactly once.
    const distinct = new Set(accepted.map((a) => `${purposeName(a.purpose)}/${a.chunkIndex}`));
    expect(distinct.size).toBe(33);
    expect(accepted.filter((a) => !a.duplicate)).toHaveLength(33);
    expect(accepted.filter((a) => a.duplicate)).toHaveLength(report.dataset.duplicatesDropped);

    // The others stop gracefully on SIGTERM.
    for (const p of [trainer, survivor, producer]) p.child.kill('SIGTERM');
    for (const p of [trainer, survivor, producer]) expect((await p.exited).code).toBe(0);
  });
});
