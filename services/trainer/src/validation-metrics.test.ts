import { validationMetrics, WORST_POINTS } from './validation-metrics';

/** n points, two inputs and two outputs, with pseudo-random prediction errors. */
function points(n: number, seed = 5): { count: number; inputs: Float32Array; outputs: Float32Array; predicted: Float32Array } {
  let s = seed;
  const rnd = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const inputs = new Float32Array(2 * n);
  const outputs = new Float32Array(2 * n);
  const predicted = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    inputs.set([i, 2 * i], 2 * i);
    outputs.set([i / n, 1 - i / n], 2 * i);
    predicted.set([i / n + (rnd() - 0.5) * 0.1, 1 - i / n + (rnd() - 0.5) * 0.01], 2 * i);
  }
  return { count: n, inputs, outputs, predicted };
}

const THRESHOLDS = [
  { output: 'price', maxAbsError: 1, rmse: 1, relative: false },
  { output: 'delta', maxAbsError: 1, rmse: 1, relative: false },
];

describe('validation metrics: the worst points', () => {
  it('lists each output\'s largest errors, largest first, with their inputs: the same as sorting every error', () => {
    const h = points(5000);
    const v = validationMetrics(h, h.predicted, ['spot', 'vol'], THRESHOLDS);
    for (let j = 0; j < 2; j++) {
      const errors = Array.from({ length: h.count }, (_, i) => ({ i, e: Math.abs(h.predicted[2 * i + j] - h.outputs[2 * i + j]) }));
      errors.sort((a, b) => b.e - a.e);
      const o = v.outputs[j];
      expect(o.worstPoints).toHaveLength(WORST_POINTS);
      expect(o.worstPoints.map((w) => w.inputs.spot)).toEqual(errors.slice(0, WORST_POINTS).map((x) => x.i));
      for (const w of o.worstPoints) {
        const i = w.inputs.spot;
        expect(w.inputs.vol).toBe(2 * i);
        expect(w.expected).toBe(h.outputs[2 * i + j]);
        expect(w.predicted).toBe(h.predicted[2 * i + j]);
        expect(w.absError).toBe(Math.abs(w.predicted - w.expected));
      }
      expect(o.worst).toEqual(o.worstPoints[0]);
      expect(o.worst.absError).toBe(o.maxAbsError);
    }
  });

  it('puts a non-finite prediction first, and lists every point when there are fewer than WORST_POINTS', () => {
    const h = points(4);
    h.predicted[2 * 2] = Number.NaN;
    const v = validationMetrics(h, h.predicted, ['spot', 'vol'], THRESHOLDS);
    expect(v.outputs[0].worstPoints.map((w) => w.inputs.spot)[0]).toBe(2);
    expect(v.outputs[0].worstPoints[0].absError).toBe(Number.POSITIVE_INFINITY);
    expect(v.outputs[0].worstPoints).toHaveLength(4);
    expect(v.outputs[0].pass).toBe(false);
    expect(new Set(v.outputs[1].worstPoints.map((w) => w.inputs.spot))).toEqual(new Set([0, 1, 2, 3]));
  });
});
