import { v1 } from '@surrogate/proto';
import type { Activation, ExperimentSpec, SamplerName } from './experiment-spec';
import { resolveSpec, type ResolveSpecOptions } from './resolve-spec';

/** The resolved spec as its wire type, for jobs, chunks and events. */
export function specToWire(spec: ExperimentSpec): v1.ExperimentSpec {
  const t = spec.training;
  const fixed: Record<string, v1.IFixedValue> = {};
  for (const [k, v] of Object.entries(spec.fixed))
    fixed[k] = typeof v === 'number' ? { number: v } : { text: v };
  return v1.ExperimentSpec.create({
    name: spec.name,
    pricer: spec.pricer,
    fixed,
    inputs: spec.inputs.map((i) => v1.InputRange.create(i)),
    outputs: [...spec.outputs],
    samples: spec.samples,
    chunkSize: spec.chunkSize,
    seed: spec.seed,
    sampler: spec.sampler,
    training: v1.TrainingConfig.create({
      hiddenLayers: [...t.hiddenLayers],
      activation: t.activation,
      epochs: t.epochs,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      finalLearningRate: t.finalLearningRate,
      threads: t.threads,
      stages: t.stages,
      weightDecay: t.weightDecay,
      device: t.device,
      schedule: t.schedule,
      warmup: t.warmup,
      plateauFactor: t.plateau.factor,
      plateauPatience: t.plateau.patience,
      earlyStoppingPatience: t.earlyStopping?.patience ?? 0,
      earlyStoppingMinDelta: t.earlyStopping?.minDelta ?? 0,
      checkpointSeconds: t.checkpointSeconds,
      loss: t.loss,
      lossWeights: [...t.lossWeights],
      relativeFloor: t.relativeFloor,
    }),
    validation: v1.ValidationConfig.create({
      samples: spec.validation.samples,
      thresholds: spec.validation.thresholds.map((t) => v1.OutputThreshold.create(t)),
    }),
  });
}

/**
 * The resolved spec from its wire type. A spec that arrives over the bus is checked again
 * (the sender may be another version, or not ours): throws SpecError when it is not valid.
 * `options.pricer` is the description of a gRPC pricer, to check the spec against it.
 */
export function specFromWire(wire: v1.IExperimentSpec, options: ResolveSpecOptions = {}): ExperimentSpec {
  const fixed: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(wire.fixed ?? {})) {
    if (v.text !== undefined && v.text !== null && v.text !== '') fixed[k] = v.text;
    else fixed[k] = v.number ?? 0;
  }
  const inputs: Record<string, { min: number; max: number; transform: string }> = {};
  for (const i of wire.inputs ?? [])
    inputs[i.name ?? ''] = { min: i.min ?? 0, max: i.max ?? 0, transform: i.transform || 'linear' };
  const t = wire.training ?? {};
  const thresholds = wire.validation?.thresholds ?? [];
  const spec = resolveSpec(
    {
      name: wire.name,
      pricer: wire.pricer,
      fixed,
      inputs,
      outputs: wire.outputs ?? [],
      samples: Number(wire.samples ?? 0),
      chunkSize: wire.chunkSize,
      seed: Number(wire.seed ?? 0),
      sampler: wire.sampler || undefined,
      training: {
        layers: t.hiddenLayers ?? [],
        activation: (t.activation || undefined) as Activation | undefined,
        epochs: t.epochs,
        batchSize: t.batchSize,
        learningRate: t.learningRate,
        finalLearningRate: t.finalLearningRate,
        threads: t.threads ?? 0,
        stages: t.stages || undefined,
        weightDecay: t.weightDecay ?? 0,
        device: t.device || undefined,
        schedule: t.schedule || undefined,
        warmup: t.warmup ?? 0,
        ...(t.schedule === 'plateau'
          ? { plateau: { factor: t.plateauFactor || undefined, patience: t.plateauPatience ?? undefined } }
          : {}),
        earlyStopping: t.earlyStoppingPatience
          ? { patience: t.earlyStoppingPatience, minDelta: t.earlyStoppingMinDelta ?? 0 }
          : undefined,
        checkpointSeconds: t.checkpointSeconds ?? 0,
        loss: t.loss || undefined,
        ...(t.lossWeights && t.lossWeights.length > 0
          ? { lossWeights: Object.fromEntries((wire.outputs ?? []).map((o, i) => [o, t.lossWeights?.[i] ?? 1])) }
          : {}),
        ...(t.loss === 'relative' && t.relativeFloor ? { relativeFloor: t.relativeFloor } : {}),
      },
      validation: { samples: wire.validation?.samples },
    },
    'wire',
    options,
  );
  // Thresholds travel resolved (relative or absolute per output): keep them as sent.
  if (thresholds.length === spec.outputs.length) {
    spec.validation.thresholds = thresholds.map((th, i) => ({
      output: th.output || (spec.outputs[i] as string),
      maxAbsError: th.maxAbsError ?? 0,
      rmse: th.rmse ?? 0,
      relative: th.relative ?? false,
    }));
  }
  spec.sampler = (wire.sampler || spec.sampler) as SamplerName;
  return spec;
}
