import { chunkInputs, type SamplerKind } from '@surrogate/pricing';
import type { InputRange } from './experiment-spec';

/** Corners are enumerated over at most this many inputs (2^12 = 4096 corners). */
export const MAX_CORNER_INPUTS = 12;
/** Points taken from the start of each of the experiment's two sample streams. */
export const PROBE_SEQUENCE_POINTS = 256;

/**
 * Points of an experiment's input box where a pricer's rules are checked before any job is
 * published: every corner of the box (the extremes a rule like "barrier below spot" fails at
 * first, since such a rule holds on a whole box exactly when it holds at its corners), and the first
 * points of the training and validation streams, exactly as the pricer will receive them (float32),
 * which catch what corners cannot (e.g. an integer parameter sampled continuously).
 */
export interface BoxProbe {
  readonly names: readonly string[];
  /** One column per input, float32 values as doubles. */
  readonly columns: readonly Float64Array[];
  readonly count: number;
  /** The point `i` by input name. */
  point(i: number): Record<string, number>;
  /** Where point `i` comes from, for people: "corner {…} of the input box", "training sample 17". */
  where(i: number): string;
}

export interface BoxProbeSpec {
  inputs: readonly InputRange[];
  sampler: SamplerKind;
  seed: number;
  samples: number;
  validationSamples: number;
}

/**
 * The probe points of a box. With more than MAX_CORNER_INPUTS inputs, corners vary only the inputs
 * in `cornerInputs` (those a pricer's rule reads; default the first MAX_CORNER_INPUTS), the others
 * sitting at the centre of their range (rounded to float32).
 */
export function boxProbe(spec: BoxProbeSpec, cornerInputs?: readonly string[]): BoxProbe {
  const names = spec.inputs.map((i) => i.name);
  const d = names.length;
  const lows = spec.inputs.map((i) => Math.fround(i.min));
  const highs = spec.inputs.map((i) => Math.fround(i.max));
  const centres = spec.inputs.map((i) => Math.fround(i.min + (i.max - i.min) / 2));
  const vary = (
    d <= MAX_CORNER_INPUTS
      ? names.map((_, j) => j)
      : names
          .map((n, j) => (cornerInputs === undefined || cornerInputs.includes(n) ? j : -1))
          .filter((j) => j >= 0)
  ).slice(0, MAX_CORNER_INPUTS);
  const corners = 2 ** vary.length;

  const training = chunkInputs({
    sampler: spec.sampler,
    seed: spec.seed,
    box: spec.inputs,
    start: 0,
    count: Math.min(PROBE_SEQUENCE_POINTS, spec.samples),
    total: spec.samples,
  });
  const validation = chunkInputs({
    sampler: 'uniform',
    seed: spec.seed,
    box: spec.inputs,
    start: 0,
    count: Math.min(PROBE_SEQUENCE_POINTS, spec.validationSamples),
  });
  const nTraining = training[0]?.length ?? 0;
  const nValidation = validation[0]?.length ?? 0;
  const count = corners + nTraining + nValidation;
  const columns = names.map(() => new Float64Array(count));
  for (let c = 0; c < corners; c++) {
    for (let j = 0; j < d; j++) (columns[j] as Float64Array)[c] = centres[j] as number;
    vary.forEach((j, bit) => {
      (columns[j] as Float64Array)[c] = (c >> bit) & 1 ? (highs[j] as number) : (lows[j] as number);
    });
  }
  for (let j = 0; j < d; j++) {
    (columns[j] as Float64Array).set(training[j] as Float32Array, corners);
    (columns[j] as Float64Array).set(validation[j] as Float32Array, corners + nTraining);
  }
  const point = (i: number): Record<string, number> => {
    const p: Record<string, number> = {};
    names.forEach((n, j) => (p[n] = (columns[j] as Float64Array)[i] as number));
    return p;
  };
  const where = (i: number): string => {
    if (i < corners) return `at the corner ${JSON.stringify(point(i))} of the input box`;
    if (i < corners + nTraining) return `at training sample ${i - corners} ${JSON.stringify(point(i))}`;
    return `at validation sample ${i - corners - nTraining} ${JSON.stringify(point(i))}`;
  };
  return { names, columns, count, point, where };
}
