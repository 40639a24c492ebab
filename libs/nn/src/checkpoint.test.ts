import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { BatchSampler, makeBatchPlan, shuffleSeed } from './batch-sampler';
import {
  checkpointStep,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpointFile,
  writeCheckpointFile,
  type TrainingCheckpoint,
} from './checkpoint';
import type { MlpConfig } from './mlp-config';
import { TrainingDivergedError } from './nn-error';
import { Rng } from './rng';
import type { NormalizedRows } from './train-loop';
import { trainStages } from './train-stages';
import type { TrainConfig } from './train-types';
import { initialControlState } from './training-control';

const mlp: MlpConfig = { inputDim: 2, outputDim: 2, hiddenLayers: [8, 8], activation: 'silu' };

/** Fresh interleaved normalized rows [x0, x1, y0, y1] of a smooth 2 → 2 map (in shared memory). */
function makeRows(count: number, seed: number): NormalizedRows {
  const rng = new Rng(seed);
  const rows = new Float32Array(new SharedArrayBuffer(count * 4 * 4));
  for (let i = 0; i < count; i++) {
    const a = 2 * rng.nextFloat() - 1;
    const b = 2 * rng.nextFloat() - 1;
    rows.set([a, b, Math.sin(2 * a) * b, Math.cos(a + b)], i * 4);
  }
  return { rows, count };
}

function sampleCheckpoint(): TrainingCheckpoint {
  const rng = new Rng(1);
  const arr = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.nextNormal());
  return {
    fingerprint: 'spec-abc/dataset-1',
    stage: 1,
    stages: [{ theta: arr(10), scale: [1, 1], shift: [0, 0] }],
    stageSteps: 40,
    lossHistory: [0.5, 0.25],
    valLossHistory: [0.6, 0.3],
    stoppedEarly: [{ stage: 0, epoch: 2, bestEpoch: 1 }],
    loop: {
      step: 12,
      theta: arr(10),
      m: arr(10),
      v: arr(10).map(Math.abs),
      epochLossSum: 1.5,
      lossHistory: [0.9],
      valLossHistory: [0.1],
      weightsVersion: 2,
      weights: arr(7).map(Math.abs),
      control: initialControlState(), // holds Infinity, which JSON alone cannot carry
      bestTheta: arr(10),
    },
  };
}

describe('checkpoint files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'surrogate-ckpt-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips every field, including infinities in the control state', () => {
    const c = sampleCheckpoint();
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(back).toEqual(c);
    expect(back.loop.control.bestLoss).toBe(Infinity);
    expect(checkpointStep(back)).toBe(52);
  });

  it('writes atomically (no temporary file left) and reads back only for the same run', () => {
    const file = path.join(dir, 'checkpoint.bin');
    expect(readCheckpointFile(file, 'x')).toBeUndefined();
    writeCheckpointFile(file, sampleCheckpoint());
    writeCheckpointFile(file, { ...sampleCheckpoint(), stageSteps: 41 });
    expect(readdirSync(dir)).toEqual(['checkpoint.bin']);
    expect(readCheckpointFile(file, 'spec-abc/dataset-1')?.stageSteps).toBe(41);
    expect(() => readCheckpointFile(file, 'spec-other/dataset-1')).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_MISMATCH', message: expect.stringContaining('another run') }),
    );
  });

  it('refuses a torn, altered or foreign file with the reason', () => {
    const file = path.join(dir, 'checkpoint.bin');
    const bytes = encodeCheckpoint(sampleCheckpoint());
    const cases: [string, Buffer, string][] = [
      ['truncated', bytes.subarray(0, bytes.length - 100), 'CRC-32 mismatch'],
      ['one bit flipped', Buffer.from(bytes.map((b, i) => (i === 200 ? b ^ 1 : b))), 'CRC-32 mismatch'],
      ['not a checkpoint', Buffer.from('{"weights": [1, 2, 3]}'), 'bad magic'],
      ['empty', Buffer.alloc(0), 'bad magic'],
    ];
    // a header that was not written by encodeCheckpoint, under a CRC that holds
    const jsonLength = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.subarray(12, 12 + jsonLength).toString('utf8')) as Record<string, unknown>;
    const withHeader = (h: Record<string, unknown>): Buffer => {
      const json = Buffer.from(JSON.stringify(h), 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(json.length);
      const body = Buffer.concat([bytes.subarray(0, 8), len, json, bytes.subarray(12 + jsonLength, bytes.length - 4)]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32LE(crc32(body));
      return Buffer.concat([body, crc]);
    };
    cases.push(
      ['no loop', withHeader({ ...header, loop: undefined }), 'malformed header: loop is missing'],
      ['arrays not a list', withHeader({ ...header, arrays: 'theta' }), 'malformed header: arrays is not a list'],
      ['negative step', withHeader({ ...header, loop: { ...(header.loop as object), step: -1 } }), 'malformed header: loop.step'],
      ['stages of strings', withHeader({ ...header, stages: ['a'] }), 'malformed header: stages'],
    );
    expect(decodeCheckpoint(withHeader(header)).loop.step).toBe(sampleCheckpoint().loop.step); // the rebuilt file itself is fine
    for (const [, data, reason] of cases) {
      writeFileSync(file, data);
      expect(() => readCheckpointFile(file, 'spec-abc/dataset-1')).toThrow(
        expect.objectContaining({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining(reason) }),
      );
    }
  });
});

describe('resuming from a checkpoint', () => {
  const config: TrainConfig = {
    epochs: 6,
    stages: 2, // stage epochs [4, 2]
    batchSize: 32,
    learningRate: 1e-2,
    finalLearningRate: 1e-4,
    seed: 7,
    threads: 1,
    schedule: { kind: 'plateau', factor: 0.5, patience: 0, warmupFraction: 0.05 },
    earlyStopping: { patience: 50, minDelta: 0 },
  };
  // resampling from epoch 1, every epoch: the checkpoint must carry the sampling weights
  const resample = { startFraction: 0.25, everyEpochs: 1, mix: 0.5, power: 2 };

  it('ends exactly where the uninterrupted training ends, from any checkpoint, in either stage', async () => {
    const checkpoints: TrainingCheckpoint[] = [];
    const whole = await trainStages(makeRows(600, 1), mlp, config, {
      validation: makeRows(200, 2),
      resample,
      stepsPerRun: 8,
      fingerprint: 'fp',
      checkpointEveryMs: 0,
      onCheckpoint: (c) => checkpoints.push(decodeCheckpoint(encodeCheckpoint(c))), // through the file format
    });
    expect(whole.resumedFromStep).toBe(0);
    expect(whole.valLossHistory).toHaveLength(6);
    // 600/32 = 18 steps per epoch in runs of 8, 8, 2: checkpoints fall inside epochs too
    const midEpoch = checkpoints.find((c) => c.stage === 0 && c.loop.weightsVersion > 0 && c.loop.step % 18 !== 0);
    const stage1 = checkpoints.find((c) => c.stage === 1 && c.loop.step > 0);
    expect(midEpoch).toBeDefined();
    expect(stage1).toBeDefined();
    for (const c of [midEpoch, stage1] as TrainingCheckpoint[]) {
      for (const loader of ['thread', 'inline'] as const) {
        const resumed = await trainStages(makeRows(600, 1), mlp, config, {
          validation: makeRows(200, 2),
          resample,
          stepsPerRun: 8,
          loader,
          resume: c,
        });
        expect(resumed.resumedFromStep).toBe(checkpointStep(c));
        expect(resumed.steps).toBe(whole.steps);
        expect(resumed.stages.map((s) => s.theta)).toEqual(whole.stages.map((s) => s.theta));
        expect(resumed.stages.map((s) => [s.scale, s.shift])).toEqual(whole.stages.map((s) => [s.scale, s.shift]));
        expect(resumed.lossHistory).toEqual(whole.lossHistory);
        expect(resumed.valLossHistory).toEqual(whole.valLossHistory);
        expect(resumed.finalLoss).toBe(whole.finalLoss);
      }
    }
  });

  it('reports the early stops of the stages finished before the checkpoint', async () => {
    // minDelta 0.99: no epoch beats the first by 99%, so stage 0 stops after its second epoch
    const early: TrainConfig = { ...config, earlyStopping: { patience: 1, minDelta: 0.99 } };
    const checkpoints: TrainingCheckpoint[] = [];
    const whole = await trainStages(makeRows(600, 1), mlp, early, {
      validation: makeRows(200, 2),
      resample,
      stepsPerRun: 8,
      fingerprint: 'fp',
      checkpointEveryMs: 0,
      onCheckpoint: (c) => checkpoints.push(decodeCheckpoint(encodeCheckpoint(c))),
    });
    expect(whole.stoppedEarly).toEqual([expect.objectContaining({ stage: 0, epoch: 2 })]);
    const stage1 = checkpoints.find((c) => c.stage === 1 && c.loop.step > 0) as TrainingCheckpoint;
    expect(stage1).toBeDefined();
    const resumed = await trainStages(makeRows(600, 1), mlp, early, { validation: makeRows(200, 2), resample, stepsPerRun: 8, resume: stage1 });
    expect(resumed.resumedFromStep).toBe(checkpointStep(stage1));
    expect(resumed.stoppedEarly).toEqual(whole.stoppedEarly);
    expect(resumed.epochs).toBe(whole.epochs);
  });

  it('refuses a checkpoint that does not fit the model', async () => {
    const c = sampleCheckpoint(); // 10 parameters; this model has 2·8+8 + 8·8+8 + 8·2+2 = 114
    await expect(trainStages(makeRows(100, 1), mlp, config, { resume: { ...c, stage: 0, stages: [] } })).rejects.toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      message: expect.stringContaining('theta has 10 values, the model 114'),
    });
    await expect(trainStages(makeRows(100, 1), mlp, config, { resume: { ...c, stage: 5 } })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
  });
});

describe('divergence', () => {
  it('stops naming the step and the likely cause, and leaves the last good checkpoint on disk', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'surrogate-ckpt-'));
    try {
      // 129 rows in batches of 32: one row is left out of each epoch. Poison the row epoch 0 leaves
      // out: epoch 0 trains normally (and is checkpointed), epoch 1 meets the row and overflows.
      const count = 129;
      const config: TrainConfig = { epochs: 4, batchSize: 32, learningRate: 1e-3, finalLearningRate: 1e-4, seed: 3, threads: 1 };
      const probe = makeRows(count, 5);
      for (let i = 0; i < count; i++) probe.rows[i * 4] = i; // x0 = row id
      const plan = makeBatchPlan(count, 32, 1, 2, 2, shuffleSeed(config.seed));
      const seen = new Set<number>();
      const x = new Float32Array(64);
      const y = new Float32Array(64);
      const sampler = new BatchSampler(probe.rows, plan);
      for (let s = 0; s < plan.stepsPerEpoch; s++) {
        sampler.fill(s, x, 0, y, 0);
        for (let i = 0; i < 32; i++) seen.add(x[2 * i]);
      }
      const leftOut = [...Array(count).keys()].find((i) => !seen.has(i)) as number;
      const data = makeRows(count, 5);
      data.rows[leftOut * 4 + 2] = 1e30;

      const file = path.join(dir, 'checkpoint.bin');
      const written: number[] = [];
      const err = await trainStages(data, mlp, config, {
        resample: null,
        fingerprint: 'fp',
        checkpointEveryMs: 0,
        onCheckpoint: (c) => {
          writeCheckpointFile(file, c);
          written.push(checkpointStep(c));
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TrainingDivergedError);
      const d = err as TrainingDivergedError;
      expect(d.step).toBeGreaterThanOrEqual(4); // epoch 1 or later
      expect(d.message).toMatch(/step \d+; likely cause: a learning rate too high/);
      expect(written.length).toBeGreaterThan(0);
      const last = readCheckpointFile(file, 'fp') as TrainingCheckpoint;
      expect(checkpointStep(last)).toBe(written[written.length - 1]);
      expect(checkpointStep(last)).toBeLessThanOrEqual(d.step);
      expect(last.loop.theta.every(Number.isFinite)).toBe(true);
      expect(last.loop.m.every(Number.isFinite)).toBe(true);
      expect(existsSync(file) && readFileSync(file).length > 0).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
