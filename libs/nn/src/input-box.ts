import { METADATA_KEYS } from './export-model';
import { NnError } from './nn-error';

/** The box a model was trained on: per input, in raw units and input order. */
export interface InputBox {
  min: readonly number[];
  max: readonly number[];
}

/** The first input value of a batch that lies outside the box. */
export interface OutsideBox {
  row: number;
  /** The input's position. */
  input: number;
  value: number;
  min: number;
  max: number;
}

/**
 * The training box a model's metadata records (its input normalization), or undefined when the
 * metadata has none (a model not written by Surrogate). A record that is there but unusable (not
 * JSON, another number of inputs than `inputDim`, a bound that is not a finite number, a min above
 * its max) is NN_INVALID_MODEL: serving such a model would silently answer outside the box.
 */
export function inputBoxFromMetadata(metadata: Readonly<Record<string, string>>, inputDim: number): InputBox | undefined {
  const key = METADATA_KEYS.normalization;
  const raw = metadata[key];
  if (raw === undefined) return undefined;
  const refuse = (rule: string): NnError =>
    new NnError('NN_INVALID_MODEL', `metadata ${key} = ${clipped(raw)}: ${rule}`, { details: { key, value: raw } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw refuse('not valid JSON');
  }
  const { inputMin, inputMax } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { inputMin?: unknown; inputMax?: unknown };
  const bounds = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length === inputDim && v.every((n) => typeof n === 'number' && Number.isFinite(n));
  if (!bounds(inputMin) || !bounds(inputMax)) throw refuse(`inputMin and inputMax must each be ${inputDim} finite numbers (the model has ${inputDim} inputs)`);
  const flipped = inputMin.findIndex((lo, i) => !(lo <= inputMax[i]));
  if (flipped >= 0) throw refuse(`input ${flipped}: inputMin ${inputMin[flipped]} is above inputMax ${inputMax[flipped]}`);
  return { min: inputMin, max: inputMax };
}

/** A metadata value short enough to quote in a message. */
export function clipped(value: string, max = 120): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/**
 * The first value of row-major `rows × dim` inputs outside `box`, or undefined. The model reads
 * float32 and was trained on the box's points as float32, so values and bounds are compared as
 * float32: the box's own corners, given as decimals, are inside.
 */
export function firstOutsideBox(box: InputBox, x: ArrayLike<number>, rows: number): OutsideBox | undefined {
  const dim = box.min.length;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) {
      const value = x[r * dim + j];
      const f = Math.fround(value); // what the model sees
      // NaN fails both comparisons: non-finite values are the caller's own rule
      if (f < Math.fround(box.min[j]) || f > Math.fround(box.max[j])) return { row: r, input: j, value, min: box.min[j], max: box.max[j] };
    }
  }
  return undefined;
}
