import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs, SERVICE_SUBSCRIPTIONS } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import type { ServiceProcess } from './service-process';
import { BLACK_SCHOLES_BOX } from './spec-boxes';
import { SystemScene } from './system-scene';
import { TopicAudit } from './topic-audit';

/**
 * A trainer whose data disk is full holds its input back: the chunk it cannot store stays
 * unacknowledged (nothing more is taken from the broker) instead of being dead-lettered after a few
 * redeliveries, and a trainer with room, on the same directories, stores every chunk once and
 * trains. The full disk is a file-size limit (RLIMIT_FSIZE, 16 KiB) on the first trainer's process:
 * each 64 KiB shard fails with EFBIG, as a write on a full disk fails with ENOSPC.
 */
const SPEC = `name: disk-full
${BLACK_SCHOLES_BOX}
samples: 16384
chunkSize: 4096
seed: 9
training: {layers: [16], epochs: 2, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 1000, rmse: 1000}
`;

describe('a trainer whose data disk is full, over Pulsar', () => {
  const scene = new SystemScene('e2e-disk-full');
  let audit: TopicAudit;
  const deadLettered: string[] = [];
  const trainerArgs = (): string[] => ['trainer', ...scene.common, '--artifacts', scene.file('artifacts'), '--data', scene.file('data')];

  beforeAll(async () => {
    audit = await TopicAudit.open(scene.url, scene.topics, ['events']);
    await audit.bus.subscribe({
      topic: `${scene.topics.chunks}-${SERVICE_SUBSCRIPTIONS.trainer}-DLQ`,
      subscription: 'e2e-audit',
      type: 'exclusive',
      handler: (m) => void deadLettered.push(m.properties.DEAD_LETTER_REASON ?? '?'),
    });
  }, 60_000);
  afterAll(async () => {
    await audit?.close();
  });

  it('holds the chunk it cannot store, dead-letters none, and a trainer with room stores every chunk once', async () => {
    const started: ServiceProcess[] = [
      scene.start('producer', ['producer', ...scene.common]),
      scene.start('worker', ['datagen-worker', ...scene.common, '--threads', '1']),
    ];
    const full = scene.start('trainer-full', trainerArgs(), {}, 16);
    for (const p of [...started, full]) await p.waitFor(/"msg":"running/);

    const spec = parseSpec(SPEC);
    const id = `disk-full-${Date.now().toString(36)}`;
    await audit.bus.publish(scene.topics.experiments, {
      payload: Codecs.command.encode(v1.ExperimentCommand.create({ experimentId: id, issuedAtMs: Date.now(), submit: { spec: specToWire(spec) } })),
      key: id,
    });
    await full.waitFor(/the data disk is full/, 60_000);
    // Without the hold, the chunk would be dead-lettered after its 5 redeliveries, 1 s apart.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(full.child.exitCode).toBeNull();
    expect(deadLettered).toEqual([]);
    expect(audit.of('chunkAccepted', id)).toEqual([]);
    expect(audit.of('failed', id)).toEqual([]);
    expect((full.stderr.match(/the data disk is full/g) ?? []).length).toBeGreaterThanOrEqual(2); // tried again, waiting longer each time

    // stopping ends the wait at once: the held chunk goes back to the broker
    full.child.kill('SIGTERM');
    expect((await full.exited).code).toBe(0);

    const roomy = scene.start('trainer', trainerArgs());
    await roomy.waitFor(/"msg":"running/);
    await waitFor(() => audit.of('modelReady', id).length + audit.of('failed', id).length > 0, 90_000, 'the model');
    expect(audit.of('failed', id)).toEqual([]);
    const manifest = (await readFile(path.join(scene.file('data'), id, 'manifest.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { type: string; purpose?: string; index?: number });
    const stored = manifest.filter((l) => l.type === 'chunk').map((l) => `${l.purpose}/${l.index}`);
    expect(stored.sort()).toEqual(['training/0', 'training/1', 'training/2', 'training/3', 'validation/0']);
    expect(deadLettered).toEqual([]);
    expect(audit.of('jobReissued', id)).toEqual([]); // nothing was priced twice
  }, 180_000);
});
