import type { OutputThreshold } from '@surrogate/spec';

export interface OutputMetrics {
  output: string;
  maxAbsError: number;
  rmse: number;
  mae: number;
  p99AbsError: number;
  /** max − min of the true values over the validation points. */
  range: number;
  maxAbsErrorThreshold: number;
  rmseThreshold: number;
  pass: boolean;
  /** The point with the largest error (the first of worstPoints). */
  worst: ValidationPoint;
  /** The WORST_POINTS points with the largest errors, largest first. */
  worstPoints: ValidationPoint[];
}

/** A held-out point: its inputs, the pricer's value and the model's. */
export interface ValidationPoint {
  inputs: Record<string, number>;
  expected: number;
  predicted: number;
  /** |predicted − expected|; Infinity for a non-finite prediction. */
  absError: number;
}

/** How many of the worst points each output's report lists. */
export const WORST_POINTS = 10;

export interface ValidationResult {
  samples: number;
  /** Largest over outputs (the same units only when there is one output). */
  maxAbsError: number;
  rmse: number;
  pass: boolean;
  outputs: OutputMetrics[];
}

/**
 * Compares predictions with the pricer's values on held-out points. Errors are computed in
 * double precision from the float32 values. Thresholds marked relative are fractions of the
 * output's range over these points.
 */
export function validationMetrics(
  truth: { count: number; inputs: Float32Array; outputs: Float32Array },
  predicted: Float32Array,
  inputNames: readonly string[],
  thresholds: readonly OutputThreshold[],
): ValidationResult {
  const n = truth.count;
  const k = thresholds.length;
  const d = inputNames.length;
  if (predicted.length !== n * k)
    throw new RangeError(`expected ${n * k} predictions, got ${predicted.length}`);
  const outputs = thresholds.map((t, j): OutputMetrics => {
    let sumSq = 0;
    let sumAbs = 0;
    let maxAbs = -1;
    // indices of the largest errors so far, largest first (ties keep the earlier point first)
    const top: number[] = [];
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const abs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const y = truth.outputs[i * k + j] as number;
      const p = predicted[i * k + j] as number;
      // A non-finite prediction is an infinite error: it fails every threshold.
      const e = Number.isFinite(p) ? Math.abs(p - y) : Number.POSITIVE_INFINITY;
      abs[i] = e;
      sumSq += e * e;
      sumAbs += e;
      if (e > maxAbs) maxAbs = e;
      if (top.length < WORST_POINTS || e > abs[top[top.length - 1]]) {
        let at = Math.min(top.length, WORST_POINTS - 1);
        while (at > 0 && e > abs[top[at - 1]]) at--;
        top.splice(at, 0, i);
        if (top.length > WORST_POINTS) top.pop();
      }
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
    const range = hi - lo;
    const scale = t.relative ? range : 1;
    const rmse = Math.sqrt(sumSq / n);
    const maxAbsErrorThreshold = t.maxAbsError * scale;
    const rmseThreshold = t.rmse * scale;
    const point = (i: number): ValidationPoint => {
      const inputs: Record<string, number> = {};
      for (let c = 0; c < d; c++) inputs[inputNames[c] as string] = truth.inputs[i * d + c] as number;
      return { inputs, expected: truth.outputs[i * k + j] as number, predicted: predicted[i * k + j] as number, absError: abs[i] as number };
    };
    const worstPoints = top.map(point);
    abs.sort();
    return {
      output: t.output,
      maxAbsError: maxAbs,
      rmse,
      mae: sumAbs / n,
      p99AbsError: abs[Math.min(n - 1, Math.floor(0.99 * n))] as number,
      range,
      maxAbsErrorThreshold,
      rmseThreshold,
      pass: maxAbs <= maxAbsErrorThreshold && rmse <= rmseThreshold,
      worst: worstPoints[0] as ValidationPoint,
      worstPoints,
    };
  });
  return {
    samples: n,
    maxAbsError: Math.max(...outputs.map((o) => o.maxAbsError)),
    rmse: Math.max(...outputs.map((o) => o.rmse)),
    pass: outputs.every((o) => o.pass),
    outputs,
  };
}
