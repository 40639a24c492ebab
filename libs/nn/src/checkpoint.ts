import { readFileSync, unlinkSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { writeFileDurablySync } from '@surrogate/core';
import { NnError } from './nn-error';
import type { TrainedStage } from './train-stages';
import type { ControlState } from './training-control';

/** Where one stage's training loop stands. */
export interface LoopSnapshot {
  /** Optimizer steps done in this stage; the data position follows from it (the batch plan is seeded). */
  step: number;
  theta: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Sum of the batch losses of the epoch in progress. */
  epochLossSum: number;
  /** This stage's epoch losses (its own units) and validation losses (stage-0 units). */
  lossHistory: number[];
  valLossHistory: number[];
  /** The resampling weights in force (version 0: plain shuffles, no weights). */
  weightsVersion: number;
  weights?: Float32Array;
  control: ControlState;
  /** The parameters at the best validation loss so far (early stopping restores them). */
  bestTheta?: Float32Array;
}

/** Everything a stopped training needs to carry on as if it had not stopped. */
export interface TrainingCheckpoint {
  /** Identifies the run (spec and dataset): a checkpoint is only ever resumed into the same run. */
  fingerprint: string;
  /** The stage in progress (0-based). */
  stage: number;
  /** The stages finished before it. */
  stages: TrainedStage[];
  /** Optimizer steps of the finished stages. */
  stageSteps: number;
  /** Epoch losses and validation losses of the finished stages (stage-0 units). */
  lossHistory: number[];
  valLossHistory: number[];
  /** The finished stages that early stopping ended (absent in checkpoints of older versions: none). */
  stoppedEarly?: { stage: number; epoch: number; bestEpoch: number }[];
  loop: LoopSnapshot;
}

/** Total optimizer steps a checkpoint holds. */
export function checkpointStep(c: TrainingCheckpoint): number {
  return c.stageSteps + c.loop.step;
}

const MAGIC = Buffer.from('SGCKPT01', 'ascii');
const FORMAT = 1;

interface ArrayEntry {
  name: string;
  length: number;
}

/** JSON cannot hold ±Infinity or NaN (the control state starts at Infinity): tag them. */
function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v;
}
function reviver(_key: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && '$number' in v && Object.keys(v).length === 1) return Number((v as { $number: string }).$number);
  return v;
}

/**
 * The checkpoint file: magic "SGCKPT01", u32 header length, the JSON header (scalars and the list
 * of arrays), the float32 arrays back to back, and a CRC-32 of everything before it, so that a
 * torn or altered file is recognised and refused instead of being trained on.
 */
export function encodeCheckpoint(c: TrainingCheckpoint): Buffer {
  const arrays: Float32Array[] = [];
  const entries: ArrayEntry[] = [];
  const add = (name: string, a: Float32Array): void => {
    arrays.push(a);
    entries.push({ name, length: a.length });
  };
  c.stages.forEach((s, i) => add(`stage${i}.theta`, s.theta));
  add('theta', c.loop.theta);
  add('m', c.loop.m);
  add('v', c.loop.v);
  if (c.loop.weights) add('weights', c.loop.weights);
  if (c.loop.bestTheta) add('bestTheta', c.loop.bestTheta);
  const header = {
    format: FORMAT,
    fingerprint: c.fingerprint,
    stage: c.stage,
    stages: c.stages.map((s) => ({ scale: s.scale, shift: s.shift })),
    stageSteps: c.stageSteps,
    lossHistory: c.lossHistory,
    valLossHistory: c.valLossHistory,
    stoppedEarly: c.stoppedEarly ?? [],
    loop: {
      step: c.loop.step,
      epochLossSum: c.loop.epochLossSum,
      lossHistory: c.loop.lossHistory,
      valLossHistory: c.loop.valLossHistory,
      weightsVersion: c.loop.weightsVersion,
      control: c.loop.control,
    },
    arrays: entries,
  };
  const json = Buffer.from(JSON.stringify(header, replacer), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts = [MAGIC, len, json, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))];
  const body = Buffer.concat(parts);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  return Buffer.concat([body, crc]);
}

function corrupt(file: string, why: string, cause?: unknown): NnError {
  return new NnError('CHECKPOINT_CORRUPT', `checkpoint ${file} is corrupt: ${why}; it was not used`, { cause, details: { file, reason: why } });
}

/**
 * What is wrong with a decoded header's shape (undefined when nothing is): a file whose CRC holds
 * but whose header was not written by encodeCheckpoint is refused like any other corrupt one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function headerProblem(h: any): string | undefined {
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  const numbers = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (typeof h.fingerprint !== 'string') return 'fingerprint is not a string';
  if (!count(h.stage) || !count(h.stageSteps)) return 'stage or stageSteps is not a whole number ≥ 0';
  if (!Array.isArray(h.stages) || !h.stages.every((st: { scale?: unknown; shift?: unknown } | null) => st !== null && numbers(st.scale) && numbers(st.shift)))
    return 'stages is not a list of {scale, shift} number lists';
  if (!numbers(h.lossHistory) || !numbers(h.valLossHistory)) return 'lossHistory or valLossHistory is not a number list';
  if (h.stoppedEarly !== undefined && !Array.isArray(h.stoppedEarly)) return 'stoppedEarly is not a list';
  const l = h.loop;
  if (l === null || typeof l !== 'object') return 'loop is missing';
  if (!count(l.step) || typeof l.epochLossSum !== 'number' || !numbers(l.lossHistory) || !numbers(l.valLossHistory))
    return 'loop.step, loop.epochLossSum, loop.lossHistory or loop.valLossHistory is malformed';
  if (!Array.isArray(h.arrays) || !h.arrays.every((e: { name?: unknown; length?: unknown } | null) => e !== null && typeof e.name === 'string' && count(e.length)))
    return 'arrays is not a list of {name, length}';
  return undefined;
}

/** Decodes a checkpoint file's bytes; throws CHECKPOINT_CORRUPT naming what is wrong. */
export function decodeCheckpoint(bytes: Uint8Array, file = 'checkpoint'): TrainingCheckpoint {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 8 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(file, 'not a Surrogate checkpoint (bad magic)');
  const expected = buf.readUInt32LE(buf.length - 4);
  const actual = crc32(buf.subarray(0, buf.length - 4));
  if (expected !== actual) throw corrupt(file, `CRC-32 mismatch (stored ${expected}, computed ${actual}): the file is truncated or altered`);
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const jsonStart = MAGIC.length + 4;
  if (jsonStart + jsonLength > buf.length - 4) throw corrupt(file, 'header length past the end of the file');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let h: any;
  try {
    h = JSON.parse(buf.subarray(jsonStart, jsonStart + jsonLength).toString('utf8'), reviver);
  } catch (err) {
    throw corrupt(file, 'unreadable header', err);
  }
  if (h?.format !== FORMAT) throw corrupt(file, `format ${String(h?.format)} (this version reads format ${FORMAT})`);
  const malformed = headerProblem(h);
  if (malformed) throw corrupt(file, `malformed header: ${malformed}`);
  const arrays = new Map<string, Float32Array>();
  let offset = jsonStart + jsonLength;
  for (const e of h.arrays as ArrayEntry[]) {
    const bytesLen = e.length * 4;
    if (offset + bytesLen > buf.length - 4) throw corrupt(file, `array ${e.name} runs past the end of the file`);
    // copy: the arrays must own aligned memory
    arrays.set(e.name, new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + bytesLen)));
    offset += bytesLen;
  }
  if (offset !== buf.length - 4) throw corrupt(file, `${buf.length - 4 - offset} unexpected bytes after the arrays`);
  const need = (name: string): Float32Array => {
    const a = arrays.get(name);
    if (!a) throw corrupt(file, `array ${name} is missing`);
    return a;
  };
  return {
    fingerprint: String(h.fingerprint),
    stage: h.stage,
    stages: (h.stages as { scale: number[]; shift: number[] }[]).map((s, i) => ({ theta: need(`stage${i}.theta`), scale: s.scale, shift: s.shift })),
    stageSteps: h.stageSteps,
    lossHistory: h.lossHistory,
    valLossHistory: h.valLossHistory,
    stoppedEarly: Array.isArray(h.stoppedEarly) ? h.stoppedEarly : [],
    loop: {
      step: h.loop.step,
      theta: need('theta'),
      m: need('m'),
      v: need('v'),
      epochLossSum: h.loop.epochLossSum,
      lossHistory: h.loop.lossHistory,
      valLossHistory: h.loop.valLossHistory,
      weightsVersion: h.loop.weightsVersion,
      weights: arrays.get('weights'),
      control: h.loop.control,
      bestTheta: arrays.get('bestTheta'),
    },
  };
}

/**
 * Writes the checkpoint atomically: to a temporary file in the same directory, synced, then
 * renamed over the old one (and the directory synced), so that a crash at any moment leaves
 * either the previous checkpoint or the new one, never a torn file.
 */
export function writeCheckpointFile(file: string, c: TrainingCheckpoint): void {
  writeFileDurablySync(file, encodeCheckpoint(c));
}

/**
 * Reads the checkpoint at `file` for the run `fingerprint`: undefined when there is none;
 * CHECKPOINT_CORRUPT when it cannot be read back intact; CHECKPOINT_MISMATCH when it belongs to
 * another run (another spec or dataset). Never returns a checkpoint it has doubts about.
 */
export function readCheckpointFile(file: string, fingerprint: string): TrainingCheckpoint | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corrupt(file, `unreadable (${(err as Error).message})`, err);
  }
  const c = decodeCheckpoint(bytes, file);
  if (c.fingerprint !== fingerprint) {
    throw new NnError(
      'CHECKPOINT_MISMATCH',
      `checkpoint ${file} belongs to another run (fingerprint ${c.fingerprint}, this run ${fingerprint}): a different spec or dataset; it was not used`,
      { details: { file, found: c.fingerprint, expected: fingerprint } },
    );
  }
  return c;
}

/** Deletes a checkpoint (after the run it belongs to has finished); a missing file is fine. */
export function removeCheckpointFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
