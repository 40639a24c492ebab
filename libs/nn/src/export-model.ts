import { flattenParameters, layerShapes, validateMlpConfig } from './mlp-config';
import { NnError } from './nn-error';
import { attr, GraphBuilder } from './onnx-builder';
import { normalizationAffine, validateNormalization, type NormalizationAffine } from './normalization';
import { emitActivation } from './mlp-graph';
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
 * The first layer's input: x [N, D] itself when every column is linear, else x with the sqrt and
 * log columns appended, Concat(x, √max(x_S, 0), log max(x_L, tiny)) [N, D + |S| + |L|] (Relu and
 * Clip: unary kernels, where Max against a scalar broadcasts slowly). The clamps keep every term
 * finite for finite x; an input outside a transform's domain maps to that domain's edge. The first
 * layer's weights (foldFirstLayer) give a transformed column's raw copy zero weight, so only its
 * transform reaches the network.
 */
function emitLayerInput(g: GraphBuilder, x: string, transforms: readonly InputTransform[]): string {
  const columns = (t: InputTransform): number[] => transforms.flatMap((u, j) => (u === t ? [j] : []));
  const parts = [x];
  const sqrt = columns('sqrt');
  if (sqrt.length > 0) parts.push(g.op1('Sqrt', [g.op1('Relu', [g.op1('Gather', [x, g.int64s(sqrt)], [attr.int('axis', 1)])])]));
  const log = columns('log');
  if (log.length > 0) parts.push(g.op1('Log', [g.op1('Clip', [g.op1('Gather', [x, g.int64s(log)], [attr.int('axis', 1)]), g.scalar(1e-30)])]));
  return parts.length === 1 ? x : g.op1('Concat', parts, [attr.int('axis', 1)]);
}

/**
 * The first layer folded with the input normalization, in float64 (rounded to float32 once, as a
 * graph constant):
 * z = (t(x)·s + c)·W + b = t(x)·(diag(s)·W) + (c·W + b). Rows follow emitLayerInput's columns:
 * the D raw columns (zero rows for transformed ones), then the sqrt columns, then the log ones.
 */
function foldFirstLayer(a: NormalizationAffine, W: Float32Array, b: Float32Array, fanOut: number): { W: Float64Array; b: Float64Array; rows: number } {
  const D = a.inputTransform.length;
  const order = [
    ...a.inputTransform.map((_, j) => j),
    ...(['sqrt', 'log'] as const).flatMap((t) => a.inputTransform.flatMap((u, j) => (u === t ? [j] : []))),
  ];
  const rows = a.inputTransform.every((t) => t === 'linear') ? D : order.length;
  const Wf = new Float64Array(rows * fanOut);
  for (let r = 0; r < rows; r++) {
    const j = order[r];
    const used = r < D ? a.inputTransform[j] === 'linear' : true;
    if (used) for (let o = 0; o < fanOut; o++) Wf[r * fanOut + o] = a.inputScale[j] * W[j * fanOut + o];
  }
  const bf = new Float64Array(fanOut);
  for (let o = 0; o < fanOut; o++) {
    let acc = b[o];
    for (let j = 0; j < D; j++) acc += a.inputShift[j] * W[j * fanOut + o];
    bf[o] = acc;
  }
  return { W: Wf, b: bf, rows };
}

/** Names of the exported graph's input and output. */
export const INFERENCE_IO = { x: 'x', y: 'y' } as const;

/**
 * The inference model as ONNX bytes: input "x" float32 [N, D] in RAW units (columns in
 * `inputNames` order), output "y" float32 [N, K] in RAW units; the input transforms are nodes of
 * the graph, the input box mapping and the output de-standardization are folded into the first and
 * last layers' weights (computed in float64, so the model's numbers match the unfolded network's
 * within float32 rounding). metadata_props carry the given metadata plus
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
  for (const [what, names] of [
    ['input', info.inputNames],
    ['output', info.outputNames],
  ] as const) {
    const bad = names.findIndex((n, i) => n === '' || names.indexOf(n) !== i);
    if (bad >= 0) {
      throw new NnError('NN_INVALID_CONFIG', `${what} name ${bad} = ${JSON.stringify(names[bad])}: ${what} names must be distinct and non-empty`, {
        details: { [`${what}Names`]: names },
      });
    }
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

  // Every stage reads the same inputs; the normalizations are folded into the first and last
  // layers, and each stage's last layer adds onto the previous one's result (Gemm's C input), so
  // the graph is Gemms and activations only: no broadcasting element-wise nodes on [N, D] or [N, K].
  const g = new GraphBuilder('float32');
  const a = normalizationAffine(normalization);
  const x = g.input(INFERENCE_IO.x, ['N', mlp.inputDim]);
  const u = emitLayerInput(g, x, a.inputTransform);
  const shapes = layerShapes(mlp);
  const last = shapes.length - 1;
  const K = mlp.outputDim;
  const stages = [
    { parameters: model.parameters, scale: a.outputScale, shift: a.outputShift },
    ...(model.residualStages ?? []).map((r) => ({ parameters: r.parameters, scale: r.outputScale, shift: r.outputShift })),
  ].map((st) => ({
    ...st,
    layers: shapes.map((shape, l) => {
      const W = st.parameters[2 * l];
      const b = st.parameters[2 * l + 1];
      const folded = l === 0 ? foldFirstLayer(a, W, b, shape.fanOut) : { W: Float64Array.from(W), b: Float64Array.from(b), rows: shape.fanIn };
      // the last layer's columns at the stage's output scale (its bias goes into output_bias)
      return l === last ? { ...folded, W: folded.W.map((w, i) => w * st.scale[i % K]) } : folded;
    }),
  }));
  // the bias of the whole output: every stage's b·scale + shift, summed in float64
  const bias = new Float64Array(K);
  for (const st of stages) for (let k = 0; k < K; k++) bias[k] += st.layers[last].b[k] * st.scale[k] + st.shift[k];
  // Output layers compute yᵀ = Wᵀ·hᵀ [K, N] (Gemm with transB): with K = 1 that is onnxruntime's
  // one-row kernel, a dot product per input row, where h·W [N, 1] would pad W to a 16-column panel.
  let yT = g.constant(bias, [K, 1], 'float32', 'output_bias');
  stages.forEach((st, s) => {
    const name = (w: string): string => (s === 0 ? w : `s${s + 1}_${w}`);
    let h = u;
    st.layers.forEach((layer, l) => {
      const fanOut = shapes[l].fanOut;
      if (l === last) {
        const Wt = new Float64Array(K * layer.rows);
        for (let r = 0; r < layer.rows; r++) for (let k = 0; k < K; k++) Wt[k * layer.rows + r] = layer.W[r * K + k];
        yT = g.op1('Gemm', [g.constant(Wt, [K, layer.rows], 'float32', name(`W${l + 1}T`)), h, yT], [attr.int('transB', 1)]);
      } else {
        const W = g.constant(layer.W, [layer.rows, fanOut], 'float32', name(`W${l + 1}`));
        const z = g.op1('Gemm', [h, W, g.constant(layer.b, [fanOut], 'float32', name(`b${l + 1}`))]);
        h = emitActivation(g, z, mlp.activation).h;
      }
    });
  });
  const outputs = [INFERENCE_IO.y];
  if (K === 1) g.op('Reshape', [yT, g.int64s([-1, 1])], [], { outputs });
  else g.op('Transpose', [yT], [attr.ints('perm', [1, 0])], { outputs });
  g.output(INFERENCE_IO.y, INFERENCE_IO.y, ['N', K]);

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
