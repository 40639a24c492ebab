import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { waitFor } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { Codecs } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import type { ServiceProcess } from './service-process';
import { BLACK_SCHOLES_BOX } from './spec-boxes';
import { SystemScene } from './system-scene';
import { TopicAudit } from './topic-audit';

/**
 * A trainer that has trained a model but finds the disk full when it writes the model's files
 * keeps the model in memory and tries again, instead of failing the experiment (and throwing the
 * training away). The full disk is a file-size limit (RLIMIT_FSIZE, 48 KiB) on its process: the
 * 16 KiB shards, the checkpoint and spec.json fit, report.html (an SVG page of thousands of
 * points) does not, and its write fails with EFBIG as a write on a full disk fails with ENOSPC.
 */
const SPEC = `name: export-disk-full
${BLACK_SCHOLES_BOX}
samples: 8192
chunkSize: 1024
seed: 11
training: {layers: [16], epochs: 2, batchSize: 1024}
validation: {samples: 4096, maxAbsError: 1000, rmse: 1000}
`;

const HELD = /the trained model waits in memory/g;

describe('a trainer whose disk is full when it writes the model, over Pulsar', () => {
  const scene = new SystemScene('e2e-export-disk-full');
  let audit: TopicAudit;
  const trainerArgs = (): string[] => ['trainer', ...scene.common, '--artifacts', scene.file('artifacts'), '--data', scene.file('data')];

  beforeAll(async () => {
    audit = await TopicAudit.open(scene.url, scene.topics, ['events']);
  }, 60_000);
  afterAll(async () => {
    await audit?.close();
  });

  it('keeps the model and writes it once there is room; the experiment does not fail', async () => {
    const started: ServiceProcess[] = [
      scene.start('producer', ['producer', ...scene.common]),
      scene.start('worker', ['datagen-worker', ...scene.common, '--threads', '1']),
    ];
    const full = scene.start('trainer-full', trainerArgs(), {}, 48);
    for (const p of [...started, full]) await p.waitFor(/"msg":"running/);

    const id = `export-full-${Date.now().toString(36)}`;
    await audit.bus.publish(scene.topics.experiments, {
      payload: Codecs.command.encode(
        v1.ExperimentCommand.create({ experimentId: id, issuedAtMs: Date.now(), submit: { spec: specToWire(parseSpec(SPEC)) } }),
      ),
      key: id,
    });
    await full.waitFor(HELD, 90_000);
    await waitFor(() => (full.stderr.match(HELD) ?? []).length >= 2, 10_000, 'a second try'); // 1 s later
    expect(full.child.exitCode).toBeNull();
    expect(audit.of('failed', id)).toEqual([]);
    expect(audit.of('modelReady', id)).toEqual([]);
    const artifacts = path.join(scene.file('artifacts'), id);
    // the part of report.html that fitted was removed again: a full disk gets its room back
    const held = await readdir(artifacts);
    expect(held.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(held).not.toContain('model.onnx'); // the model is written last: never there without its report

    // stopping ends the wait; the dataset stays to be trained, and a trainer with room finishes it
    full.child.kill('SIGTERM');
    expect((await full.exited).code).toBe(0);
    expect(audit.of('failed', id)).toEqual([]);

    const roomy = scene.start('trainer', trainerArgs());
    await roomy.waitFor(/"msg":"running/);
    await waitFor(() => audit.of('modelReady', id).length + audit.of('failed', id).length > 0, 90_000, 'the model');
    expect(audit.of('failed', id)).toEqual([]);
    expect((await readdir(artifacts)).sort()).toEqual(['model.onnx', 'report.html', 'report.json', 'spec.json']);
  }, 240_000);
});
