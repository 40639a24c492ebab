import type { TrainedModel } from './train-types';

/**
 * Per output, its value when it is the same in every row of row-major `count × K` outputs, else
 * undefined. Such an output has no spread to standardize (its std is taken as 1): left to the
 * network, its prediction would carry the fit's error at unit scale, in raw units.
 */
export function constantOutputs(outputs: Float32Array, count: number, K: number): (number | undefined)[] {
  const value: (number | undefined)[] = [];
  for (let k = 0; k < K; k++) {
    const first = outputs[k] as number;
    let same = count > 0;
    for (let i = 1; i < count && same; i++) same = outputs[i * K + k] === first;
    value.push(same ? first : undefined);
  }
  return value;
}

/**
 * The model with every constant output (`constant[k]` defined) answering exactly that value: its
 * column of the last layer and its bias are zeroed in every stage (no residual stage adds to it)
 * and its mean is the constant, so the exported model returns it for any input.
 */
export function pinConstantOutputs(model: TrainedModel, constant: readonly (number | undefined)[]): TrainedModel {
  const K = model.mlp.outputDim;
  if (!constant.some((c) => c !== undefined)) return model;
  const zeroLastLayer = (parameters: Float32Array[]): Float32Array[] => {
    const out = parameters.map((p) => p.slice());
    const w = out[out.length - 2] as Float32Array;
    const b = out[out.length - 1] as Float32Array;
    const fanIn = w.length / K;
    for (let k = 0; k < K; k++) {
      if (constant[k] === undefined) continue;
      for (let i = 0; i < fanIn; i++) w[i * K + k] = 0;
      b[k] = 0;
    }
    return out;
  };
  return {
    ...model,
    normalization: {
      ...model.normalization,
      outputMean: model.normalization.outputMean.map((m, k) => constant[k] ?? m),
    },
    parameters: zeroLastLayer(model.parameters),
    ...(model.residualStages
      ? {
          residualStages: model.residualStages.map((s) => ({
            parameters: zeroLastLayer(s.parameters),
            outputScale: s.outputScale.map((c, k) => (constant[k] === undefined ? c : 0)),
            outputShift: s.outputShift.map((c, k) => (constant[k] === undefined ? c : 0)),
          })),
        }
      : {}),
  };
}
