import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readCheckpointFile } from '@surrogate/nn';
import type { HeldChunks } from '@surrogate/producer';
import { v1 } from '@surrogate/proto';
import { chunkCounts, specFromWire, type ExperimentSpec } from '@surrogate/spec';
import { CHECKPOINT_FILE, checkpointFingerprint, DatasetStore, sameTraining, type DatasetStatus } from '@surrogate/trainer';
import { badInput } from './cli-error';

/** The earlier run in an output directory that `surrogate run --resume` carries on. */
export interface ResumeTarget {
  experimentId: string;
  status: DatasetStatus;
  /** Every chunk is stored: training can start (or carry on) without generating data. */
  complete: boolean;
  /** The chunks it stores: only the others are generated when it resumes. */
  held: HeldChunks;
  /** The chunks of its plan, by purpose. */
  expected: { training: number; validation: number };
  /** The optimizer step of its checkpoint, when it has one. */
  checkpointStep?: number;
}

/**
 * Finds the newest run of `spec` under `outDir/dataset` (undefined when there is none), and
 * checks its checkpoint before anything starts: a directory holding only other specs' runs, or a
 * checkpoint that is corrupt or belongs to another run, is bad input with the reason (it is never
 * trained on, and never silently replaced).
 */
export async function findResumeTarget(outDir: string, spec: ExperimentSpec): Promise<ResumeTarget | undefined> {
  const root = path.join(outDir, 'dataset');
  const ids = await DatasetStore.list(root).catch(() => [] as string[]);
  if (ids.length === 0) return undefined;
  const others: string[] = [];
  // experiment ids start with the spec name and a UTC timestamp: the last in order is the newest
  for (const id of [...ids].sort().reverse()) {
    const store = await DatasetStore.open(root, id);
    try {
      // threads, device and checkpoint interval may change: they do not change what is computed
      const stored = storedSpec(store.specBytes);
      if (!stored || !sameTraining(spec, stored)) {
        others.push(id);
        continue;
      }
      const target: ResumeTarget = {
        experimentId: id,
        status: store.status,
        complete: store.complete,
        held: { training: store.held('training'), validation: store.held('validation') },
        expected: chunkCounts(spec),
      };
      const file = path.join(store.dir, CHECKPOINT_FILE);
      const fingerprint = checkpointFingerprint(id, spec, { training: spec.samples, validation: spec.validation.samples });
      try {
        const c = readCheckpointFile(file, fingerprint);
        if (c) target.checkpointStep = c.stageSteps + c.loop.step;
      } catch (err) {
        throw badInput(
          (err as { code?: string }).code ?? 'CHECKPOINT_CORRUPT',
          `cannot resume ${id}: ${(err as Error).message}. Delete ${file} to retrain that run from the start, or run without --resume.`,
          { file },
        );
      }
      return target;
    } finally {
      await store.close();
    }
  }
  throw badInput(
    'RESUME_SPEC_MISMATCH',
    `--resume: ${root} holds runs of another spec (${others.join(', ')}), none of this one (${spec.name}); ` +
      'a run only resumes with the spec it started with. Use another --out, or run without --resume.',
  );
}

/** The spec a dataset was made with; undefined when its bytes do not decode (never the same spec). */
function storedSpec(bytes: Uint8Array): ExperimentSpec | undefined {
  try {
    return specFromWire(v1.ExperimentSpec.decode(bytes));
  } catch {
    return undefined;
  }
}

/** The one-line summary of a finished run, from its report.json. */
export async function finishedSummary(outDir: string, experimentId: string): Promise<{ summary: Record<string, unknown>; pass: boolean }> {
  const reportPath = path.join(outDir, 'report.json');
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as { validation?: { pass?: boolean; maxAbsError?: number; rmse?: number; samples?: number } };
  const v = report.validation ?? {};
  return {
    pass: v.pass === true,
    summary: {
      experimentId,
      pass: v.pass === true,
      maxAbsError: v.maxAbsError,
      rmse: v.rmse,
      validationSamples: v.samples,
      model: path.join(outDir, 'model.onnx'),
      report: reportPath,
      resumed: 'already finished',
    },
  };
}
