import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  chunkCounts,
  defaultEpochs,
  loadSpecFile,
  maxChunkSize,
  MIN_RELATIVE_BOX_WIDTH,
  parseSpec,
  planChunk,
  planChunks,
  SpecError,
  specFromWire,
  specToWire,
} from './index';

const EXAMPLE = `
name: bs-call
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.1, max: 0.5}
  rate: {min: 0.0, max: 0.08}
  maturity: {min: 0.1, max: 2.0}
outputs: [price]
samples: 1048576
chunkSize: 65536
seed: 7
`;

function issuesOf(fn: () => unknown): { field: string; rule: string; value?: unknown }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return [...(err as SpecError).issues];
  }
  throw new Error('expected a SpecError');
}

describe('parseSpec', () => {
  it('resolves the example with every default filled in', () => {
    const spec = parseSpec(EXAMPLE, 'example.yaml');
    expect(spec.name).toBe('bs-call');
    expect(spec.inputs.map((i) => i.name)).toEqual(['spot', 'volatility', 'rate', 'maturity']);
    expect(spec.inputs[0]).toEqual({ name: 'spot', min: 80, max: 120, transform: 'linear' });
    expect(spec.fixed).toEqual({ type: 'call', strike: 100, dividend: 0 });
    expect(spec.samples).toBe(1048576);
    expect(spec.chunkSize).toBe(65536);
    expect(spec.seed).toBe(7);
    expect(spec.sampler).toBe('sobol');
    expect(spec.training.epochs).toBe(defaultEpochs(1048576));
    expect(spec.training.hiddenLayers.length).toBeGreaterThan(0);
    expect(spec.validation.samples).toBeGreaterThan(0);
    expect(spec.validation.thresholds).toEqual([
      { output: 'price', maxAbsError: 5e-3, rmse: 2e-4, relative: true },
    ]);
  });

  it('accepts JSON and gives the same spec', () => {
    const yaml = parseSpec(EXAMPLE);
    const json = parseSpec(
      JSON.stringify({
        ...yaml,
        inputs: Object.fromEntries(yaml.inputs.map((i) => [i.name, { min: i.min, max: i.max }])),
        training: undefined,
        validation: undefined,
      }),
      'x.json',
    );
    expect(json.inputs).toEqual(yaml.inputs);
    expect(json.training).toEqual(yaml.training);
  });

  it('takes absolute thresholds, per output or for all', () => {
    const spec = parseSpec(
      `${EXAMPLE}\noutputs: [price, delta]\nvalidation: {samples: 1000, maxAbsError: {price: 0.01, delta: 0.001}, rmse: 0.002}\n`.replace(
        'outputs: [price]\n',
        '',
      ),
    );
    expect(spec.validation.thresholds).toEqual([
      { output: 'price', maxAbsError: 0.01, rmse: 0.002, relative: false },
      { output: 'delta', maxAbsError: 0.001, rmse: 0.002, relative: false },
    ]);
  });

  it('names field, value and rule for each bad input, all at once', () => {
    const bad = `
name: bs-call
pricer: black-scholes
colour: red
fixed: {type: call, strike: 100, dividend: 0}
inputs:
  spot: {min: 120, max: 80}
  vol: {min: 0.1, max: 0.5}
  volatility: {min: -0.1, max: 0.5}
  maturity: {min: 0.1, max: 2.0}
  rate: {min: 0, max: 0.08}
samples: 0
training: {epochs: 2.5, activation: sigmoid, batchSize: 64}
`;
    const issues = issuesOf(() => parseSpec(bad));
    const byField = Object.fromEntries(issues.map((i) => [i.field, i]));
    expect(byField.colour?.rule).toMatch(/unknown key/);
    expect(byField['inputs.spot']?.rule).toMatch(/min must be less than max/);
    expect(byField['inputs.vol']?.rule).toMatch(/not a parameter of pricer black-scholes/);
    expect(byField['inputs.volatility.min']).toMatchObject({ value: -0.1 });
    expect(byField['inputs.volatility.min']?.rule).toMatch(/valid range/);
    expect(byField.samples).toMatchObject({ value: 0 });
    expect(byField['training.epochs']?.rule).toMatch(/whole number/);
    expect(byField['training.activation']?.rule).toMatch(/tanh, silu, softplus/);
  });

  it('reads a spec whose local pricer this process lacks for shape only when asked (the trainer), and refuses it otherwise', () => {
    const wire = { ...specToWire(parseSpec(EXAMPLE)), pricer: 'elsewhere' };
    expect(() => specFromWire(wire)).toThrow(/pricer = "elsewhere": unknown pricer/);
    const spec = specFromWire(wire, { unknownPricer: 'shape-only' });
    expect(spec.pricer).toBe('elsewhere');
    expect(spec.inputs.map((i) => i.name)).toEqual(['spot', 'volatility', 'rate', 'maturity']);
    expect(spec.outputs).toEqual(['price']);
    // the shape is still checked
    expect(() => specFromWire({ ...wire, samples: 0 }, { unknownPricer: 'shape-only' })).toThrow(/samples = 0/);
    // a registered pricer is checked in full either way
    expect(() => specFromWire({ ...specToWire(parseSpec(EXAMPLE)), samples: 0 }, { unknownPricer: 'shape-only' })).toThrow(/samples = 0/);
  });

  it("names YAML's .nan and .inf as NaN and Infinity, not null", () => {
    const bad = EXAMPLE.replace('seed: 7', 'seed: 7\ntraining: {learningRate: .nan, epochs: .inf, lossWeights: {price: -.inf}}\nvalidation: {rmse: {price: .nan}}');
    let message = '';
    try {
      parseSpec(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('training.learningRate = NaN: must be a finite number');
    expect(message).toContain('training.epochs = Infinity: must be a whole number');
    expect(message).toContain('training.lossWeights.price = -Infinity: must be a finite number');
    expect(message).toContain('validation.rmse.price = NaN: must be a finite number');
    expect(message).not.toContain('= null');
  });

  it('names NaN and ±Infinity as themselves in the message, not as null', () => {
    const text = EXAMPLE.replace('spot: {min: 80, max: 120}', 'spot: {min: .nan, max: .inf}')
      .replace('fixed: {type: call, strike: 100, dividend: 0}', 'fixed: {type: call, strike: -.inf, dividend: .nan}');
    let message = '';
    try {
      parseSpec(text, 'nan.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(SpecError);
      message = (err as SpecError).message;
    }
    expect(message).toContain('inputs.spot.min = NaN: must be a finite number');
    expect(message).toContain('inputs.spot.max = Infinity: must be a finite number');
    expect(message).toMatch(/fixed\.strike = -Infinity: /);
    expect(message).toMatch(/fixed\.dividend = NaN: /);
    expect(message).not.toContain('null');
  });

  it('refuses a box too narrow for float32 inputs, naming the width and the bound; a slightly wider one passes', () => {
    const narrow = EXAMPLE.replace('volatility: {min: 0.1, max: 0.5}', 'volatility: {min: 0.2, max: 0.2000001}');
    const issue = issuesOf(() => parseSpec(narrow)).find((i) => i.field === 'inputs.volatility');
    expect(issue).toMatchObject({ value: { min: 0.2, max: 0.2000001 } });
    expect(issue?.rule).toMatch(/too narrow for the model's float32 inputs/);
    expect(issue?.rule).toContain(`max − min = 1e-7 is too narrow`);
    expect(issue?.rule).toContain(`≥ ${MIN_RELATIVE_BOX_WIDTH} × max(|min|, |max|) = ${Number((MIN_RELATIVE_BOX_WIDTH * 0.2000001).toPrecision(3))}`);
    expect(issue?.rule).toMatch(/under fixed/);
    // relative width 2e-4 (spot 99.99 … 100.01) is resolvable; a box across zero is measured by its larger end
    const ok = parseSpec(EXAMPLE.replace('spot: {min: 80, max: 120}', 'spot: {min: 99.99, max: 100.01}'));
    expect(ok.inputs[0]).toMatchObject({ min: 99.99, max: 100.01 });
  });

  it("defaults an input's transform to its parameter's scaling, and takes an explicit one", () => {
    // black-scholes declares maturity on a square-root scale; the others are linear
    expect(parseSpec(EXAMPLE).inputs.map((i) => i.transform)).toEqual(['linear', 'linear', 'linear', 'sqrt']);
    const explicit = parseSpec(
      EXAMPLE.replace('volatility: {min: 0.1, max: 0.5}', 'volatility: {min: 0.1, max: 0.5, transform: log}').replace(
        'maturity: {min: 0.1, max: 2.0}',
        'maturity: {min: 0.1, max: 2.0, transform: linear}',
      ),
    );
    expect(explicit.inputs.map((i) => i.transform)).toEqual(['linear', 'log', 'linear', 'linear']);
  });

  it('rejects an unknown transform and one outside its domain, naming field, value and rule', () => {
    const issues = issuesOf(() =>
      parseSpec(
        EXAMPLE.replace('spot: {min: 80, max: 120}', 'spot: {min: 80, max: 120, transform: cube}').replace(
          'rate: {min: 0.0, max: 0.08}',
          'rate: {min: 0.0, max: 0.08, transform: log}',
        ),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'inputs.spot.transform', value: 'cube', rule: expect.stringContaining('linear, sqrt, log') }),
        expect.objectContaining({ field: 'inputs.rate.transform', value: 'log', rule: expect.stringContaining('log needs min > 0') }),
      ]),
    );
    const negative = issuesOf(() => parseSpec(EXAMPLE.replace('rate: {min: 0.0, max: 0.08}', 'rate: {min: -0.02, max: 0.08, transform: sqrt}')));
    expect(negative).toEqual([expect.objectContaining({ field: 'inputs.rate.transform', value: 'sqrt', rule: 'sqrt needs min ≥ 0 (min = -0.02)' })]);
  });

  it('trains two residual stages by default, takes 1 … 8, and never more stages than epochs', () => {
    expect(parseSpec(EXAMPLE).training.stages).toBe(2);
    expect(parseSpec(`${EXAMPLE}training: {stages: 3, epochs: 9}\n`).training).toMatchObject({ stages: 3, epochs: 9 });
    expect(parseSpec(`${EXAMPLE}training: {epochs: 1}\n`).training.stages).toBe(1);
    expect(issuesOf(() => parseSpec(`${EXAMPLE}training: {stages: 9}\n`))).toEqual([
      expect.objectContaining({ field: 'training.stages', value: 9 }),
    ]);
    expect(issuesOf(() => parseSpec(`${EXAMPLE}training: {stages: 4, epochs: 3}\n`))).toEqual([
      expect.objectContaining({ field: 'training.stages', value: 4, rule: expect.stringContaining('must not exceed epochs (3)') }),
    ]);
    const wire = specToWire(parseSpec(`${EXAMPLE}training: {stages: 3, epochs: 9, weightDecay: 0.01}\n`));
    expect(specFromWire(wire).training).toMatchObject({ stages: 3, weightDecay: 0.01 });
    expect(parseSpec(EXAMPLE).training.weightDecay).toBe(0);
    expect(parseSpec(EXAMPLE).training.device).toBe('cpu');
    expect(specFromWire(specToWire(parseSpec(`${EXAMPLE}training: {device: cuda}\n`))).training.device).toBe('cuda');
    expect(issuesOf(() => parseSpec(`${EXAMPLE}training: {device: gpu}\n`))).toEqual([
      expect.objectContaining({ field: 'training.device', value: 'gpu', rule: 'must be cpu or cuda' }),
    ]);
    expect(issuesOf(() => parseSpec(`${EXAMPLE}training: {weightDecay: -1}\n`))).toEqual([
      expect.objectContaining({ field: 'training.weightDecay', value: -1 }),
    ]);
  });

  it('takes the schedule, early stopping, checkpoint and loss settings, and carries them over the wire', () => {
    const d = parseSpec(EXAMPLE).training;
    expect(d).toMatchObject({ schedule: 'cosine', warmup: 0.01, earlyStopping: null, checkpointSeconds: 60, loss: 'mse', lossWeights: [1] });
    const text = `${EXAMPLE.replace('outputs: [price]', 'outputs: [price, delta]')}training:
  schedule: plateau
  warmup: 0
  plateau: {factor: 0.3, patience: 2}
  earlyStopping: {patience: 7, minDelta: 0.001}
  checkpointSeconds: 15
  loss: relative
  relativeFloor: 0.05
  lossWeights: {delta: 0.25}
`;
    const t = parseSpec(text).training;
    expect(t).toMatchObject({
      schedule: 'plateau',
      warmup: 0,
      plateau: { factor: 0.3, patience: 2 },
      earlyStopping: { patience: 7, minDelta: 0.001 },
      checkpointSeconds: 15,
      loss: 'relative',
      relativeFloor: 0.05,
      lossWeights: [1, 0.25],
    });
    expect(specFromWire(specToWire(parseSpec(text))).training).toEqual(t);
    expect(parseSpec(`${EXAMPLE}training: {earlyStopping: 5}\n`).training.earlyStopping).toEqual({ patience: 5, minDelta: 0 });
    expect(parseSpec(`${EXAMPLE}training: {earlyStopping: false, checkpointSeconds: 0}\n`).training).toMatchObject({ earlyStopping: null, checkpointSeconds: 0 });
  });

  it('names field, value and rule for bad schedule, early stopping, checkpoint and loss settings', () => {
    const issues = issuesOf(() =>
      parseSpec(
        `${EXAMPLE}training: {schedule: step, warmup: 0.9, earlyStopping: {minDelta: 2}, checkpointSeconds: -1, loss: mae, lossWeights: {price: 0, vega: 1}}\n`,
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'training.schedule', value: 'step', rule: expect.stringContaining('cosine, plateau') }),
        expect.objectContaining({ field: 'training.warmup', value: 0.9 }),
        expect.objectContaining({ field: 'training.earlyStopping.patience', rule: expect.stringContaining('required') }),
        expect.objectContaining({ field: 'training.earlyStopping.minDelta', value: 2 }),
        expect.objectContaining({ field: 'training.checkpointSeconds', value: -1 }),
        expect.objectContaining({ field: 'training.loss', value: 'mae' }),
        expect.objectContaining({ field: 'training.lossWeights.price', value: 0 }),
        expect.objectContaining({ field: 'training.lossWeights.vega', rule: expect.stringContaining("not one of the spec's outputs") }),
      ]),
    );
    expect(issuesOf(() => parseSpec(`${EXAMPLE}training: {plateau: {factor: 0.5}}\n`))).toEqual([
      expect.objectContaining({ field: 'training.plateau', rule: expect.stringContaining('only applies with schedule: plateau') }),
    ]);
    expect(issuesOf(() => parseSpec(`${EXAMPLE}training: {schedule: plateau, plateau: {factor: 1}}\n`))).toEqual([
      expect.objectContaining({ field: 'training.plateau.factor', value: 1 }),
    ]);
  });

  it('takes any sampler of the pricing library and names them when given another', () => {
    expect(parseSpec(`${EXAMPLE}sampler: lhs\n`).sampler).toBe('lhs');
    const issues = issuesOf(() => parseSpec(`${EXAMPLE}sampler: halton\n`));
    expect(issues[0]).toMatchObject({ field: 'sampler', value: 'halton' });
    expect(issues[0]?.rule).toMatch(/sobol, sobol-unscrambled, lhs, uniform/);
  });

  it('rejects an unknown pricer, naming the known ones', () => {
    const issues = issuesOf(() =>
      parseSpec(EXAMPLE.replace('pricer: black-scholes', 'pricer: heston-magic')),
    );
    expect(issues[0]).toMatchObject({ field: 'pricer', value: 'heston-magic' });
    expect(issues[0]?.rule).toMatch(/black-scholes/);
  });

  it('rejects a parameter that is both fixed and an input, and a missing one', () => {
    const both = issuesOf(() => parseSpec(EXAMPLE.replace('dividend: 0}', 'dividend: 0, spot: 100}')));
    expect(both.some((i) => i.field === 'inputs.spot' && /also under fixed/.test(i.rule))).toBe(true);
    const missing = issuesOf(() => parseSpec(EXAMPLE.replace('strike: 100, ', '')));
    expect(missing.some((i) => i.field === 'fixed.strike' && /needs strike/.test(i.rule))).toBe(true);
  });

  it('reports YAML syntax errors with their line', () => {
    try {
      parseSpec('name: x\ninputs: {spot: [1, 2\nsamples: 3\n');
      throw new Error('expected a SpecError');
    } catch (err) {
      expect(err).toBeInstanceOf(SpecError);
      expect((err as SpecError).code).toBe('SPEC_SYNTAX');
      expect((err as SpecError).issues[0]?.line).toBeGreaterThan(0);
    }
  });

  it('rejects a chunk that would not fit one 5 MiB message', () => {
    const issues = issuesOf(() => parseSpec(EXAMPLE.replace('chunkSize: 65536', 'chunkSize: 1000000')));
    expect(issues[0]).toMatchObject({ field: 'chunkSize', value: 1000000 });
    expect(issues[0]?.rule).toContain(String(maxChunkSize(5)));
  });

  it('reports a missing file as SPEC_NOT_FOUND', async () => {
    await expect(loadSpecFile('/no/such/spec.yaml')).rejects.toMatchObject({ code: 'SPEC_NOT_FOUND' });
    const dir = await mkdtemp(path.join(tmpdir(), 'spec-'));
    const file = path.join(dir, 's.yaml');
    await writeFile(file, EXAMPLE);
    expect((await loadSpecFile(file)).name).toBe('bs-call');
  });
});

describe('wire form', () => {
  it('round-trips through the protobuf type unchanged', () => {
    const spec = parseSpec(EXAMPLE);
    const back = specFromWire(specToWire(spec));
    expect(back).toEqual(spec);
  });

  it('re-checks a spec that arrives over the wire', () => {
    const wire = specToWire(parseSpec(EXAMPLE));
    wire.inputs[0]!.min = 500;
    expect(() => specFromWire(wire)).toThrow(SpecError);
  });
});

describe('chunk plan', () => {
  it('covers [0, samples) exactly with chunk i at [i·n, (i+1)·n)', () => {
    const spec = parseSpec(
      EXAMPLE.replace('samples: 1048576', 'samples: 200000').replace('chunkSize: 65536', 'chunkSize: 65536'),
    );
    const counts = chunkCounts(spec);
    expect(counts.training).toBe(4);
    const training = planChunks(spec).filter((c) => c.purpose === 'training');
    expect(training.map((c) => [c.start, c.count])).toEqual([
      [0, 65536],
      [65536, 65536],
      [131072, 65536],
      [196608, 200000 - 196608],
    ]);
    expect(() => planChunk(spec, 'training', 4)).toThrow(RangeError);
  });
});

describe('spec text that cannot be read', () => {
  it('is a spec syntax error, not a crash: aliases of aliases (a billion laughs) and nesting deeper than the stack', () => {
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    for (const text of [laughs.join('\n'), deep]) {
      let thrown: unknown;
      try {
        parseSpec(text, 'spec_text');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SpecError);
      expect((thrown as SpecError).code).toBe('SPEC_SYNTAX');
      expect((thrown as SpecError).message).toMatch(/spec_text/);
    }
  });
});
