import {
  GrpcPricerError,
  getPricer,
  isRemotePricer,
  parseRemotePricerUrl,
  pricerNames,
  type ParameterSpec,
  type ParamValues,
} from '@surrogate/pricing';
import { boxIssues } from './box-check';
import { DEFAULTS, MAX_SAMPLES, MAX_STAGES, defaultEpochs, maxChunkSize } from './defaults';
import {
  ACTIVATIONS,
  INPUT_TRANSFORMS,
  LOSSES,
  SAMPLERS,
  SCHEDULES,
  type InputTransform,
  type ExperimentSpec,
  type InputRange,
  type OutputThreshold,
  type SamplerName,
  type TrainingSettings,
  type ValidationSettings,
} from './experiment-spec';
import { SpecError, type SpecIssue } from './spec-error';

const TOP_LEVEL_KEYS = [
  'name',
  'pricer',
  'fixed',
  'inputs',
  'outputs',
  'samples',
  'chunkSize',
  'seed',
  'sampler',
  'training',
  'validation',
] as const;
const TRAINING_KEYS = [
  'layers',
  'activation',
  'epochs',
  'batchSize',
  'learningRate',
  'finalLearningRate',
  'threads',
  'stages',
  'weightDecay',
  'device',
  'schedule',
  'warmup',
  'plateau',
  'earlyStopping',
  'checkpointSeconds',
  'loss',
  'lossWeights',
  'relativeFloor',
];
const VALIDATION_KEYS = ['samples', 'maxAbsError', 'rmse'];
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

type Dict = Record<string, unknown>;

/**
 * What a spec is checked against: a local pricer, or the description of a gRPC pricer (its
 * `Describe` answer, which has no `validate`: the server checks its own rules).
 */
export interface SpecPricer {
  readonly name: string;
  readonly parameters: readonly ParameterSpec[];
  readonly outputs: readonly string[];
  validate?(params: ParamValues): void;
}

export interface ResolveSpecOptions {
  /**
   * The description of the spec's gRPC pricer (`pricer: grpc://…`), when it could be asked for.
   * Without it, a gRPC pricer's spec is checked for shape only: parameter names, ranges and
   * outputs are left to the places that can reach the pricer (the CLI, the datagen worker).
   */
  pricer?: Omit<SpecPricer, 'validate'>;
  /**
   * A local pricer this process's registry does not know: 'refuse' it (default), or check the spec
   * for shape only, as a gRPC pricer's without its description. The trainer reads chunk specs so:
   * it trains on names and numbers, and a client's own pricer module never leaves the client's
   * cluster (only its datagen workers load it).
   */
  unknownPricer?: 'refuse' | 'shape-only';
}

type Pricer = SpecPricer;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects every issue instead of stopping at the first, so a user fixes a spec in one pass. */
class Checker {
  readonly issues: SpecIssue[] = [];

  fail(field: string, rule: string, value?: unknown): undefined {
    this.issues.push(value === undefined ? { field, rule } : { field, value, rule });
    return undefined;
  }

  knownKeys(obj: Dict, allowed: readonly string[], prefix: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        this.fail(prefix ? `${prefix}.${key}` : key, `unknown key; allowed keys: ${allowed.join(', ')}`);
      }
    }
  }

  /** `v` if it is a finite number that `ok` accepts; otherwise an issue with `rule`. */
  number(v: unknown, field: string, ok: (x: number) => boolean, rule: string): number | undefined {
    return typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : this.fail(field, rule, v);
  }

  /** `v` if it is one of `values`; otherwise an issue naming them. */
  oneOf<T extends string>(v: unknown, field: string, values: readonly T[]): T | undefined {
    return values.includes(v as T) ? (v as T) : this.fail(field, `must be one of ${values.join(', ')}`, v);
  }

  integer(v: unknown, field: string, min: number, max: number): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail(field, 'must be a whole number', v);
    if (v < min || v > max) return this.fail(field, `must be between ${min} and ${max}`, v);
    return v;
  }

  positive(v: unknown, field: string): number | undefined {
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(field, 'must be a finite number', v);
    if (v <= 0) return this.fail(field, 'must be greater than 0', v);
    return v;
  }

  string(v: unknown, field: string): string | undefined {
    if (typeof v !== 'string' || v.length === 0) return this.fail(field, 'must be a non-empty string', v);
    return v;
  }
}

function describeRange(p: ParameterSpec): string {
  if (p.kind === 'choice') return `one of ${p.values.join(', ')}`;
  return `${p.minInclusive ? '[' : '('}${p.min}, ${p.max}${p.maxInclusive ? ']' : ')'}`;
}

function inRange(p: ParameterSpec & { kind: 'number' }, x: number): boolean {
  const lo = p.minInclusive ? x >= p.min : x > p.min;
  const hi = p.maxInclusive ? x <= p.max : x < p.max;
  return lo && hi;
}

function resolveFixed(
  c: Checker,
  raw: unknown,
  pricer: Pricer | undefined,
  remote: boolean,
): Record<string, number | string> {
  const fixed: Record<string, number | string> = {};
  if (raw === undefined) return fixed;
  if (!isDict(raw)) {
    c.fail('fixed', 'must be a mapping of pricer parameter to value', raw);
    return fixed;
  }
  for (const [name, value] of Object.entries(raw)) {
    const field = `fixed.${name}`;
    if (!pricer) {
      // A gRPC pricer that was not described: keep what has the shape of a parameter value.
      if (remote) {
        if (
          (typeof value === 'number' && Number.isFinite(value)) ||
          (typeof value === 'string' && value !== '')
        )
          fixed[name] = value;
        else c.fail(field, 'must be a finite number or a word', value);
      }
      continue;
    }
    const p = pricer.parameters.find((q) => q.name === name);
    if (!p) {
      c.fail(
        field,
        `not a parameter of pricer ${pricer.name}; parameters: ${pricer.parameters.map((q) => q.name).join(', ')}`,
      );
      continue;
    }
    if (p.kind === 'choice') {
      if (typeof value !== 'string' || !p.values.includes(value))
        c.fail(field, `must be ${describeRange(p)}`, value);
      else fixed[name] = value;
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      c.fail(field, `must be a number in ${describeRange(p)} (${p.unit})`, value);
    } else if (!inRange(p, value)) {
      c.fail(field, `outside the valid range ${describeRange(p)} of ${name} (${p.unit})`, value);
    } else if (p.integer === true && !Number.isInteger(value)) {
      c.fail(field, `must be a whole number in ${describeRange(p)}: ${name} is an integer parameter`, value);
    } else {
      fixed[name] = value;
    }
  }
  return fixed;
}

function resolveInputs(c: Checker, raw: unknown, pricer: Pricer | undefined, fixed: Dict): InputRange[] {
  const inputs: InputRange[] = [];
  if (!isDict(raw) || Object.keys(raw).length === 0) {
    c.fail('inputs', 'must be a non-empty mapping of parameter name to {min, max}', raw);
    return inputs;
  }
  for (const [name, box] of Object.entries(raw)) {
    const field = `inputs.${name}`;
    const p = pricer?.parameters.find((q) => q.name === name);
    if (pricer && !p) {
      c.fail(
        field,
        `not a parameter of pricer ${pricer.name}; parameters: ${pricer.parameters.map((q) => q.name).join(', ')}`,
      );
      continue;
    }
    if (p && p.kind === 'number' && p.integer === true) {
      c.fail(
        field,
        `${name} takes whole numbers only and cannot be sampled as a continuous input; put it under fixed`,
      );
      continue;
    }
    if (p && p.kind !== 'number') {
      c.fail(
        field,
        `${name} is a choice (${describeRange(p)}); only numeric parameters can be inputs — put it under fixed`,
      );
      continue;
    }
    if (name in fixed) c.fail(field, `${name} is also under fixed; a parameter is either fixed or an input`);
    if (!isDict(box)) {
      c.fail(field, 'must be a mapping {min, max}', box);
      continue;
    }
    c.knownKeys(box, ['min', 'max', 'transform'], field);
    const { min, max } = box;
    let ok = true;
    for (const [k, v] of [
      ['min', min],
      ['max', max],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        c.fail(`${field}.${k}`, 'must be a finite number', v);
        ok = false;
      } else if (p && p.kind === 'number' && !inRange(p, v)) {
        c.fail(`${field}.${k}`, `outside the valid range ${describeRange(p)} of ${name} (${p.unit})`, v);
        ok = false;
      }
    }
    if (ok && (min as number) >= (max as number)) {
      c.fail(`${field}`, `min must be less than max (min = ${min}, max = ${max})`);
      ok = false;
    }
    const magnitude = Math.max(Math.abs(min as number), Math.abs(max as number));
    if (ok && (max as number) - (min as number) < MIN_RELATIVE_BOX_WIDTH * magnitude) {
      c.fail(
        `${field}`,
        `max − min = ${short((max as number) - (min as number))} is too narrow for the model's float32 inputs to resolve: it must be ≥ ` +
          `${MIN_RELATIVE_BOX_WIDTH} × max(|min|, |max|) = ${short(MIN_RELATIVE_BOX_WIDTH * magnitude)}; give a constant under fixed instead`,
        { min, max },
      );
      ok = false;
    }
    if (!ok) continue;
    const transform = resolveTransform(c, field, box.transform, min as number, p?.kind === 'number' ? p.scaling : undefined);
    if (transform) inputs.push({ name, min: min as number, max: max as number, transform });
  }
  return inputs;
}

/**
 * The narrowest input box, relative to its magnitude: the model takes float32 inputs (24-bit
 * significand, ~6e-8 relative resolution), so a box of relative width 1e-4 still spans ~1700
 * representable values. A narrower one leaves the network a few quantized levels, and the folded
 * input scaling (2/(max − min)) magnifies float32 rounding into the first layer.
 */
export const MIN_RELATIVE_BOX_WIDTH = 1e-4;

/** A number to 3 significant digits, for messages. */
function short(v: number): number {
  return Number(v.toPrecision(3));
}

/** Why an input box starting at `min` cannot take `t`, or undefined when it can. */
function transformDomainRule(t: InputTransform, min: number): string | undefined {
  if (t === 'sqrt' && !(min >= 0)) return 'sqrt needs min ≥ 0';
  if (t === 'log' && !(min > 0)) return 'log needs min > 0';
  return undefined;
}

function resolveTransform(
  c: Checker,
  field: string,
  raw: unknown,
  min: number,
  scaling: InputTransform | undefined,
): InputTransform | undefined {
  if (raw === undefined) return scaling && !transformDomainRule(scaling, min) ? scaling : 'linear';
  if (typeof raw !== 'string' || !(INPUT_TRANSFORMS as readonly string[]).includes(raw)) {
    c.fail(`${field}.transform`, `must be one of ${INPUT_TRANSFORMS.join(', ')}`, raw);
    return undefined;
  }
  const rule = transformDomainRule(raw as InputTransform, min);
  if (rule) {
    c.fail(`${field}.transform`, `${rule} (min = ${min})`, raw);
    return undefined;
  }
  return raw as InputTransform;
}

function resolveOutputs(c: Checker, raw: unknown, pricer: Pricer | undefined, remote: boolean): string[] {
  if (raw === undefined && !pricer && remote) {
    c.fail('outputs', 'a gRPC pricer that was not described needs its outputs listed');
    return [];
  }
  if (raw === undefined) return pricer ? [pricer.outputs[0] as string] : [];
  if (!Array.isArray(raw) || raw.length === 0) {
    c.fail('outputs', 'must be a non-empty list of output names', raw);
    return [];
  }
  const outputs: string[] = [];
  raw.forEach((o, i) => {
    if (typeof o !== 'string') c.fail(`outputs[${i}]`, 'must be an output name', o);
    else if (pricer && !pricer.outputs.includes(o))
      c.fail(
        `outputs[${i}]`,
        `not an output of pricer ${pricer.name}; outputs: ${pricer.outputs.join(', ')}`,
        o,
      );
    else if (outputs.includes(o)) c.fail(`outputs[${i}]`, 'listed twice', o);
    else outputs.push(o);
  });
  return outputs;
}

function resolveTraining(c: Checker, raw: unknown, samples: number, outputs: string[]): TrainingSettings {
  const d = DEFAULTS.training;
  const t: TrainingSettings = {
    hiddenLayers: [...d.hiddenLayers],
    activation: d.activation,
    epochs: defaultEpochs(samples > 0 ? samples : 1),
    // A small dataset trains in full batches: the default never exceeds the sample count.
    batchSize: samples > 0 ? Math.min(d.batchSize, samples) : d.batchSize,
    learningRate: d.learningRate,
    finalLearningRate: d.finalLearningRate,
    threads: d.threads,
    stages: d.stages,
    weightDecay: d.weightDecay,
    device: d.device,
    schedule: d.schedule,
    warmup: d.warmup,
    plateau: { ...d.plateau },
    earlyStopping: null,
    checkpointSeconds: d.checkpointSeconds,
    loss: d.loss,
    lossWeights: outputs.map(() => 1),
    relativeFloor: d.relativeFloor,
  };
  if (raw === undefined) return t;
  if (!isDict(raw)) {
    c.fail('training', 'must be a mapping', raw);
    return t;
  }
  c.knownKeys(raw, TRAINING_KEYS, 'training');
  if (raw.layers !== undefined) {
    if (!Array.isArray(raw.layers) || raw.layers.length === 0 || raw.layers.length > 16) {
      c.fail('training.layers', 'must be a list of 1 to 16 hidden-layer widths', raw.layers);
    } else {
      const widths = raw.layers.map((w, i) => c.integer(w, `training.layers[${i}]`, 1, 4096));
      if (widths.every((w) => w !== undefined)) t.hiddenLayers = widths as number[];
    }
  }
  if (raw.activation !== undefined) t.activation = c.oneOf(raw.activation, 'training.activation', ACTIVATIONS) ?? t.activation;
  if (raw.epochs !== undefined) t.epochs = c.integer(raw.epochs, 'training.epochs', 1, 100000) ?? t.epochs;
  if (raw.batchSize !== undefined)
    t.batchSize = c.integer(raw.batchSize, 'training.batchSize', 1, 1 << 20) ?? t.batchSize;
  if (raw.learningRate !== undefined)
    t.learningRate = c.positive(raw.learningRate, 'training.learningRate') ?? t.learningRate;
  if (raw.finalLearningRate !== undefined)
    t.finalLearningRate =
      c.positive(raw.finalLearningRate, 'training.finalLearningRate') ?? t.finalLearningRate;
  if (raw.threads !== undefined) t.threads = c.integer(raw.threads, 'training.threads', 0, 1024) ?? t.threads;
  if (raw.weightDecay !== undefined)
    t.weightDecay = c.number(raw.weightDecay, 'training.weightDecay', (w) => w >= 0 && w < 1, 'must be a number in [0, 1) (0 = plain Adam)') ?? t.weightDecay;

  if (raw.device !== undefined) {
    if (raw.device !== 'cpu' && raw.device !== 'cuda') c.fail('training.device', 'must be cpu or cuda', raw.device);
    else t.device = raw.device;
  }
  resolveOptimization(c, raw, t, outputs);
  if (raw.stages !== undefined) {
    t.stages = c.integer(raw.stages, 'training.stages', 1, MAX_STAGES) ?? t.stages;
    if (t.stages > t.epochs) c.fail('training.stages', `must not exceed epochs (${t.epochs}): every stage trains at least one epoch`, t.stages);
  } else {
    t.stages = Math.min(t.stages, t.epochs); // a one-epoch run is one stage
  }
  if (t.finalLearningRate > t.learningRate)
    c.fail(
      'training.finalLearningRate',
      `must not exceed learningRate (${t.learningRate})`,
      t.finalLearningRate,
    );
  if (samples > 0 && t.batchSize > samples)
    c.fail('training.batchSize', `must not exceed samples (${samples})`, t.batchSize);
  return t;
}

/** The schedule, early stopping, checkpoint and loss settings of `training`. */
function resolveOptimization(c: Checker, raw: Dict, t: TrainingSettings, outputs: string[]): void {
  if (raw.schedule !== undefined) t.schedule = c.oneOf(raw.schedule, 'training.schedule', SCHEDULES) ?? t.schedule;
  if (raw.warmup !== undefined)
    t.warmup = c.number(raw.warmup, 'training.warmup', (w) => w >= 0 && w <= 0.5, 'must be a fraction of the steps in [0, 0.5]') ?? t.warmup;
  if (raw.plateau !== undefined) {
    if (!isDict(raw.plateau)) c.fail('training.plateau', 'must be a mapping with factor and patience', raw.plateau);
    else {
      c.knownKeys(raw.plateau, ['factor', 'patience'], 'training.plateau');
      if (raw.plateau.factor !== undefined)
        t.plateau.factor = c.number(raw.plateau.factor, 'training.plateau.factor', (f) => f > 0 && f < 1, 'must be a number in (0, 1)') ?? t.plateau.factor;
      if (raw.plateau.patience !== undefined)
        t.plateau.patience = c.integer(raw.plateau.patience, 'training.plateau.patience', 0, 1000) ?? t.plateau.patience;
      if (t.schedule !== 'plateau')
        c.fail('training.plateau', 'only applies with schedule: plateau (the schedule is ' + t.schedule + ')');
    }
  }
  const es = raw.earlyStopping;
  if (es !== undefined && es !== false && es !== null) {
    if (typeof es === 'number') {
      const patience = c.integer(es, 'training.earlyStopping', 1, 100000);
      if (patience !== undefined) t.earlyStopping = { patience, minDelta: DEFAULTS.training.earlyStoppingMinDelta };
    } else if (!isDict(es)) {
      c.fail('training.earlyStopping', 'must be a patience in epochs, a mapping with patience and minDelta, or false', es);
    } else {
      c.knownKeys(es, ['patience', 'minDelta'], 'training.earlyStopping');
      const patience = es.patience === undefined ? c.fail('training.earlyStopping.patience', 'is required (epochs without improvement before stopping)') : c.integer(es.patience, 'training.earlyStopping.patience', 1, 100000);
      const minDelta =
        es.minDelta === undefined
          ? DEFAULTS.training.earlyStoppingMinDelta
          : c.number(es.minDelta, 'training.earlyStopping.minDelta', (m) => m >= 0 && m < 1, 'must be a relative improvement in [0, 1)');
      if (patience !== undefined && minDelta !== undefined) t.earlyStopping = { patience, minDelta };
    }
  }
  if (raw.checkpointSeconds !== undefined)
    t.checkpointSeconds =
      c.number(raw.checkpointSeconds, 'training.checkpointSeconds', (x) => x >= 0 && x <= 86400, 'must be a number of seconds from 0 (no checkpoints) to 86400') ??
      t.checkpointSeconds;
  if (raw.loss !== undefined) t.loss = c.oneOf(raw.loss, 'training.loss', LOSSES) ?? t.loss;
  if (raw.relativeFloor !== undefined) {
    t.relativeFloor = c.positive(raw.relativeFloor, 'training.relativeFloor') ?? t.relativeFloor;
    if (t.loss !== 'relative') c.fail('training.relativeFloor', 'only applies with loss: relative');
  }
  const lw = raw.lossWeights;
  if (lw !== undefined) {
    if (typeof lw === 'number') {
      c.fail('training.lossWeights', `must be a mapping of output to weight (outputs: ${outputs.join(', ')})`, lw);
    } else if (!isDict(lw)) {
      c.fail('training.lossWeights', 'must be a mapping of output to weight', lw);
    } else {
      for (const [k, v] of Object.entries(lw)) {
        const i = outputs.indexOf(k);
        if (i < 0) c.fail(`training.lossWeights.${k}`, `not one of the spec's outputs (${outputs.join(', ')})`);
        else t.lossWeights[i] = c.positive(v, `training.lossWeights.${k}`) ?? t.lossWeights[i];
      }
    }
  }
}

function thresholdFor(
  c: Checker,
  raw: unknown,
  key: string,
  output: string,
  outputs: string[],
): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'number') return c.positive(raw, `validation.${key}`);
  if (isDict(raw)) {
    for (const k of Object.keys(raw))
      if (!outputs.includes(k))
        c.fail(`validation.${key}.${k}`, `not one of the spec's outputs (${outputs.join(', ')})`);
    return raw[output] === undefined ? undefined : c.positive(raw[output], `validation.${key}.${output}`);
  }
  c.fail(`validation.${key}`, 'must be a number (every output) or a mapping of output to number', raw);
  return undefined;
}

function resolveValidation(c: Checker, raw: unknown, outputs: string[]): ValidationSettings {
  const d = DEFAULTS.validation;
  const v: Dict = raw === undefined ? {} : isDict(raw) ? raw : {};
  if (raw !== undefined && !isDict(raw)) c.fail('validation', 'must be a mapping', raw);
  c.knownKeys(v, VALIDATION_KEYS, 'validation');
  const samples =
    v.samples === undefined
      ? d.samples
      : (c.integer(v.samples, 'validation.samples', 1, 1 << 26) ?? d.samples);
  // Report unknown outputs in per-output mappings once, not once per output.
  const thresholds: OutputThreshold[] = outputs.map((output, i) => {
    const quiet = i > 0 ? new Checker() : c;
    const maxAbs = thresholdFor(quiet, v.maxAbsError, 'maxAbsError', output, outputs);
    const rmse = thresholdFor(quiet, v.rmse, 'rmse', output, outputs);
    if (maxAbs === undefined && rmse === undefined)
      return { output, maxAbsError: d.maxAbsErrorRelative, rmse: d.rmseRelative, relative: true };
    return {
      output,
      maxAbsError: maxAbs ?? Number.POSITIVE_INFINITY,
      rmse: rmse ?? Number.POSITIVE_INFINITY,
      relative: false,
    };
  });
  return { samples, thresholds };
}

/**
 * Checks a parsed spec document (from YAML or JSON) and fills in every default.
 * Throws SpecError (SPEC_INVALID) listing every problem, each naming its field, value and rule.
 */
export function resolveSpec(doc: unknown, source?: string, options: ResolveSpecOptions = {}): ExperimentSpec {
  const c = new Checker();
  if (!isDict(doc))
    throw new SpecError(
      'SPEC_INVALID',
      [{ field: '(document)', rule: 'must be a mapping (key: value pairs)' }],
      { source },
    );
  c.knownKeys(doc, TOP_LEVEL_KEYS, '');

  const name = c.string(doc.name, 'name');
  if (name !== undefined && !NAME_PATTERN.test(name))
    c.fail(
      'name',
      'must be 1–100 characters of letters, digits, dot, dash or underscore, starting with a letter or digit',
      name,
    );

  let pricer: Pricer | undefined;
  const pricerName = c.string(doc.pricer, 'pricer');
  const unknownLocal = pricerName !== undefined && !isRemotePricer(pricerName) && !pricerNames().includes(pricerName);
  // checked for shape only: a gRPC pricer, or (when asked) a local one this process does not have
  const remote = isRemotePricer(pricerName) || (unknownLocal && options.unknownPricer === 'shape-only');
  if (pricerName !== undefined && remote && !isRemotePricer(pricerName)) {
    // a pricer registered elsewhere: its name is all there is to check here
  } else if (pricerName !== undefined && remote) {
    try {
      parseRemotePricerUrl(pricerName);
      // Messages name the pricer as the spec does: by its URL.
      if (options.pricer) pricer = { ...options.pricer, name: pricerName };
    } catch (err) {
      const rule = err instanceof GrpcPricerError ? String(err.details.rule) : String(err);
      c.fail(
        'pricer',
        `${rule} (a gRPC pricer is grpc://host:port/name or grpcs://host:port/name)`,
        pricerName,
      );
    }
  } else if (pricerName !== undefined) {
    try {
      pricer = getPricer(pricerName);
    } catch (err) {
      c.fail('pricer', err instanceof Error ? err.message : String(err), pricerName);
    }
  }

  const fixed = resolveFixed(c, doc.fixed, pricer, remote);
  const inputs = resolveInputs(c, doc.inputs, pricer, isDict(doc.fixed) ? doc.fixed : {});
  const outputs = resolveOutputs(c, doc.outputs, pricer, remote);

  if (pricer) {
    const named = new Set([
      ...Object.keys(isDict(doc.fixed) ? doc.fixed : {}),
      ...Object.keys(isDict(doc.inputs) ? doc.inputs : {}),
    ]);
    for (const p of pricer.parameters) {
      if (p.default === undefined && !named.has(p.name))
        c.fail(
          `fixed.${p.name}`,
          `pricer ${pricer.name} needs ${p.name} (${describeRange(p)}): give it under fixed or inputs`,
        );
    }
  }

  const samples = c.integer(doc.samples, 'samples', 1, MAX_SAMPLES) ?? 0;
  const columns = Math.max(1, inputs.length) + Math.max(1, outputs.length);
  const largest = maxChunkSize(columns);
  let chunkSize = Math.min(DEFAULTS.chunkSize, largest, samples > 0 ? samples : DEFAULTS.chunkSize);
  if (doc.chunkSize !== undefined) {
    const requested = c.integer(doc.chunkSize, 'chunkSize', 1, MAX_SAMPLES);
    if (requested !== undefined && requested > largest)
      c.fail(
        'chunkSize',
        `a chunk of ${requested} samples × ${columns} float32 columns exceeds the 5 MiB message limit; at most ${largest}`,
        requested,
      );
    else if (requested !== undefined) chunkSize = requested;
  }

  let seed: number = DEFAULTS.seed;
  if (doc.seed !== undefined) seed = c.integer(doc.seed, 'seed', 0, 2 ** 32 - 1) ?? seed;

  let sampler: SamplerName = DEFAULTS.sampler;
  if (doc.sampler !== undefined) {
    if (!SAMPLERS.includes(doc.sampler as SamplerName))
      c.fail('sampler', `must be one of ${SAMPLERS.join(', ')}`, doc.sampler);
    else sampler = doc.sampler as SamplerName;
  }

  const training = resolveTraining(c, doc.training, samples, outputs);
  const validation = resolveValidation(c, doc.validation, outputs);

  // The pricer's ranges and rules over the whole box (corners and first sample points), before
  // any job is published: only once everything else holds, since it needs the complete spec.
  if (c.issues.length === 0 && pricer) {
    c.issues.push(
      ...boxIssues(pricer, {
        fixed,
        inputs,
        sampler,
        seed,
        samples,
        validationSamples: validation.samples,
      }),
    );
  }

  if (c.issues.length > 0) throw new SpecError('SPEC_INVALID', c.issues, { source });
  return {
    name: name as string,
    pricer: pricerName as string,
    fixed,
    inputs,
    outputs,
    samples,
    chunkSize,
    seed,
    sampler,
    training,
    validation,
  };
}
