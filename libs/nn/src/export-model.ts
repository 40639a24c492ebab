import { flattenParameters, layerShapes, validateMlpConfig } from './mlp-config';
import { NnError } from './nn-error';
import { GraphBuilder } from './onnx-builder';
import { normalizationAffine, validateNormalization } from './normalization';
import { emitForward } from './mlp-graph';
import type { TrainedModel } from './train-types';
import type { InputTransform } from './input-transform';

/** metadata_props keys written by exportInferenceModel (values are JSON). */
export const METADATA_KEYS = {
  inputNames: 'surrogate.inputNames',
  outputNames: 'surrogate.outputNames',
  mlp: 'surrogate.mlp',
  normalization: 'surrogate.normalization',
  training: 'surrogate.training',
} as const;

/**
 * x [N, D] with each column's transform applied: x·m_linear + √max(x, 0)·m_sqrt + log max(x, tiny)·m_log
 * with 0/1 column masks m. The clamps keep every term finite, so a masked-out column never turns
 * into 0·NaN; an input outside a transform's domain maps to that domain's edge.
 */
function emitInputTransforms(g: GraphBuilder, x: string, transforms: readonly InputTransform[]): string {
  if (transforms.every((t) => t === 'linear')) return x;
  const D = transforms.length;
  const mask = (t: InputTransform): string =>
    g.constant(transforms.map((u) => (u === t ? 1 : 0)), [D], 'float32', `mask_${t}`);
  let sum = g.op1('Mul', [x, mask('linear')]);
  if (transforms.includes('sqrt')) {
    const root = g.op1('Sqrt', [g.op1('Max', [x, g.scalar(0)])]);
    sum = g.op1('Add', [sum, g.op1('Mul', [root, mask('sqrt')])]);
  }
  if (transforms.includes('log')) {
    const log = g.op1('Log', [g.op1('Max', [x, g.scalar(1e-30)])]);
    sum = g.op1('Add', [sum, g.op1('Mul', [log, mask('log')])]);
  }
  return sum;
}

/** Names of the exported graph's input and output. */
export const INFERENCE_IO = { x: 'x', y: 'y' } as const;

/**
 * The inference model as ONNX bytes: input "x" float32 [N, D] in RAW units (columns in
 * `inputNames` order), output "y" float32 [N, K] in RAW units; the input box mapping and the
 * output de-standardization are nodes of the graph. metadata_props carry the given metadata plus
 * the input/output names, architecture, normalization and a training summary (keys METADATA_KEYS).
 */
export function exportInferenceModel(
  model: TrainedModel,
  info: { inputNames: readonly string[]; outputNames: readonly string[]; metadata?: Record<string, string> },
): Uint8Array {
  const { mlp, normalization } = model;
  validateMlpConfig(mlp);
  validateNormalization(normalization, mlp);
  if (info.inputNames.length !== mlp.inputDim || info.outputNames.length !== mlp.outputDim) {
    throw new NnError(
      'NN_INVALID_CONFIG',
      `expected ${mlp.inputDim} input names and ${mlp.outputDim} output names, got ${info.inputNames.length} and ${info.outputNames.length}`,
      { details: { inputNames: info.inputNames, outputNames: info.outputNames } },
    );
  }
  for (const [s, parameters] of [model.parameters, ...(model.residualStages ?? []).map((r) => r.parameters)].entries()) {
    if (!flattenParameters(mlp, parameters).every(Number.isFinite)) {
      throw new NnError('NN_INVALID_MODEL', `the model has non-finite parameters (stage ${s})`);
    }
  }
  for (const [s, r] of (model.residualStages ?? []).entries()) {
    const ok = (v: readonly number[]): boolean => v.length === mlp.outputDim && v.every(Number.isFinite);
    if (!ok(r.outputScale) || !ok(r.outputShift)) {
      throw new NnError('NN_INVALID_MODEL', `residual stage ${s + 1} needs ${mlp.outputDim} finite output scales and shifts`);
    }
  }

  const g = new GraphBuilder('float32');
  const a = normalizationAffine(normalization);
  const x = g.input(INFERENCE_IO.x, ['N', mlp.inputDim]);
  const xt = emitInputTransforms(g, x, a.inputTransform);
  const xn = g.op1('Add', [g.op1('Mul', [xt, g.constant(a.inputScale, [mlp.inputDim], 'float32', 'input_scale')]), g.constant(a.inputShift, [mlp.inputDim], 'float32', 'input_shift')]);
  const layers = layerShapes(mlp).map((shape, l) => ({
    W: g.constant(model.parameters[2 * l], [shape.fanIn, shape.fanOut], 'float32', `W${l + 1}`),
    b: g.constant(model.parameters[2 * l + 1], [shape.fanOut], 'float32', `b${l + 1}`),
  }));
  const out = emitForward(g, mlp, xn, layers).output;
  let y = g.op1('Add', [g.op1('Mul', [out, g.constant(a.outputScale, [mlp.outputDim], 'float32', 'output_std')]), g.constant(a.outputShift, [mlp.outputDim], 'float32', 'output_mean')]);
  // residual stages: the same inputs through each later network, added at its own scale
  (model.residualStages ?? []).forEach((stage, s) => {
    const stageLayers = layerShapes(mlp).map((shape, l) => ({
      W: g.constant(stage.parameters[2 * l], [shape.fanIn, shape.fanOut], 'float32', `s${s + 1}_W${l + 1}`),
      b: g.constant(stage.parameters[2 * l + 1], [shape.fanOut], 'float32', `s${s + 1}_b${l + 1}`),
    }));
    const o = emitForward(g, mlp, xn, stageLayers).output;
    const scaled = g.op1('Add', [
      g.op1('Mul', [o, g.constant(stage.outputScale, [mlp.outputDim], 'float32', `s${s + 1}_scale`)]),
      g.constant(stage.outputShift, [mlp.outputDim], 'float32', `s${s + 1}_shift`),
    ]);
    y = g.op1('Add', [y, scaled]);
  });
  g.output(INFERENCE_IO.y, y, ['N', mlp.outputDim]);

  const metadata: Record<string, string> = {
    ...(info.metadata ?? {}),
    [METADATA_KEYS.inputNames]: JSON.stringify(info.inputNames),
    [METADATA_KEYS.outputNames]: JSON.stringify(info.outputNames),
    [METADATA_KEYS.mlp]: JSON.stringify(mlp),
    [METADATA_KEYS.normalization]: JSON.stringify(normalization),
    [METADATA_KEYS.training]: JSON.stringify({
      finalLoss: model.finalLoss,
      epochs: model.epochs,
      steps: model.steps,
      stages: 1 + (model.residualStages?.length ?? 0),
    }),
  };
  return g.encode({ name: 'surrogate_mlp', metadata, docString: 'MLP surrogate: raw inputs x [N, D] → raw outputs y [N, K]' });
}
