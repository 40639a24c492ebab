import { emitForward } from './mlp-graph';
import { layerShapes, parameterCount, splitParameters, validateMlpConfig, type MlpConfig } from './mlp-config';
import { NnError } from './nn-error';
import { GraphBuilder } from './onnx-builder';
import type { TrainedStage } from './train-stages';

/** A trained stage in normalized units: it adds out·scale + shift (see train-stages.ts). */
export type NormalizedStage = TrainedStage;

/**
 * ONNX bytes of the sum of `stages` in normalized units: input "x" float32 [N, D] (normalized
 * inputs) → output "y" float32 [N, K] = Σ_s out_s(x)·scale_s + shift_s (stage-0 normalized
 * outputs). It is the `model` of the TargetAdjustment that gives the next stage its targets, and of
 * computeTargetStats for the residual statistics.
 */
export function stagedModelOnnx(mlp: MlpConfig, stages: readonly NormalizedStage[]): Uint8Array {
  validateMlpConfig(mlp);
  const K = mlp.outputDim;
  const P = parameterCount(mlp);
  if (stages.length === 0) throw new NnError('NN_INVALID_MODEL', 'stagedModelOnnx needs at least one stage');
  stages.forEach((s, i) => {
    if (s.theta.length !== P) {
      throw new NnError('NN_INVALID_MODEL', `stage ${i} has ${s.theta.length} parameters, expected ${P}`, { details: { stage: i, actual: s.theta.length, expected: P } });
    }
    const ok = (v: readonly number[]): boolean => v.length === K && v.every(Number.isFinite);
    if (!ok(s.scale) || !ok(s.shift)) throw new NnError('NN_INVALID_MODEL', `stage ${i} needs ${K} finite output scales and shifts`, { details: { stage: i } });
  });
  const g = new GraphBuilder('float32');
  const x = g.input('x', ['N', mlp.inputDim]);
  let sum: string | undefined;
  stages.forEach((stage, s) => {
    const params = splitParameters(mlp, stage.theta);
    const layers = layerShapes(mlp).map((shape, l) => ({
      W: g.constant(params[2 * l], [shape.fanIn, shape.fanOut], 'float32', `s${s}_W${l + 1}`),
      b: g.constant(params[2 * l + 1], [shape.fanOut], 'float32', `s${s}_b${l + 1}`),
    }));
    const out = emitForward(g, mlp, x, layers).output;
    const term = g.op1('Add', [
      g.op1('Mul', [out, g.constant(stage.scale, [K], 'float32', `s${s}_scale`)]),
      g.constant(stage.shift, [K], 'float32', `s${s}_shift`),
    ]);
    sum = sum === undefined ? term : g.op1('Add', [sum, term]);
  });
  g.output('y', sum as string, ['N', K]);
  return g.encode({ name: 'mlp_stages_normalized', docString: 'sum of MLP stages: normalized x [N, D] → stage-0 normalized y [N, K]' });
}
