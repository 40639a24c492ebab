import type { ExperimentSpec } from './experiment-spec';

/**
 * A resolved spec written back in the syntax a spec file is written in, every default filled in:
 * what `surrogate validate` prints and `spec.json` holds, so that either can be run again as it is.
 * `resolveSpec(specToDocument(s))` gives `s` back (tested). Settings that only apply to another
 * choice are left out (`plateau` without the plateau schedule, `relativeFloor` without the relative
 * loss), as a spec file may not give them; validation limits that are the defaults (a fraction of
 * each output's range) are left out too, since the syntax has no other way to say them.
 */
export function specToDocument(spec: ExperimentSpec): Record<string, unknown> {
  const t = spec.training;
  const byOutput = (values: number[]): Record<string, number> =>
    Object.fromEntries(spec.outputs.map((o, i) => [o, values[i] as number]));
  const limits = (key: 'maxAbsError' | 'rmse'): Record<string, number> | undefined => {
    const given = spec.validation.thresholds.filter((th) => !th.relative && Number.isFinite(th[key]));
    return given.length === 0 ? undefined : Object.fromEntries(given.map((th) => [th.output, th[key]]));
  };
  const maxAbsError = limits('maxAbsError');
  const rmse = limits('rmse');
  return {
    name: spec.name,
    pricer: spec.pricer,
    fixed: { ...spec.fixed },
    inputs: Object.fromEntries(spec.inputs.map((i) => [i.name, { min: i.min, max: i.max, transform: i.transform }])),
    outputs: [...spec.outputs],
    samples: spec.samples,
    chunkSize: spec.chunkSize,
    seed: spec.seed,
    sampler: spec.sampler,
    training: {
      layers: [...t.hiddenLayers],
      activation: t.activation,
      epochs: t.epochs,
      stages: t.stages,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      finalLearningRate: t.finalLearningRate,
      device: t.device,
      weightDecay: t.weightDecay,
      threads: t.threads,
      schedule: t.schedule,
      warmup: t.warmup,
      ...(t.schedule === 'plateau' ? { plateau: { ...t.plateau } } : {}),
      earlyStopping: t.earlyStopping ? { ...t.earlyStopping } : false,
      checkpointSeconds: t.checkpointSeconds,
      loss: t.loss,
      ...(t.loss === 'relative' ? { relativeFloor: t.relativeFloor } : {}),
      lossWeights: byOutput(t.lossWeights),
    },
    validation: {
      samples: spec.validation.samples,
      ...(maxAbsError ? { maxAbsError } : {}),
      ...(rmse ? { rmse } : {}),
    },
  };
}
