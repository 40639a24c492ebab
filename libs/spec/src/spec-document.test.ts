import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSpec } from './parse-spec';
import { resolveSpec } from './resolve-spec';
import { specToDocument } from './spec-document';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

/** Specs that between them set (or leave to its default) every setting, and each choice's own ones. */
const SPECS: Record<string, string> = {
  'black-scholes example': readFileSync(path.join(EXAMPLES, 'black-scholes.yaml'), 'utf8'),
  'heston example': readFileSync(path.join(EXAMPLES, 'heston.yaml'), 'utf8'),
  'defaults only': `
name: minimal
pricer: black-scholes
fixed: {strike: 100, rate: 0.01}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}, maturity: {min: 0.1, max: 2}}
samples: 4096
`,
  'plateau, relative loss, weights, early stopping, partial limits': `
name: greeks
pricer: black-scholes
fixed: {type: put, strike: 100, dividend: 0.01, rate: 0.02}
inputs:
  spot: {min: 70, max: 130, transform: log}
  volatility: {min: 0.1, max: 0.5}
  maturity: {min: 0.25, max: 2, transform: linear}
outputs: [price, delta, vega]
samples: 100000
chunkSize: 30000
seed: 12
sampler: lhs
training:
  layers: [32, 48]
  activation: gelu
  epochs: 7
  stages: 3
  batchSize: 512
  learningRate: 0.003
  finalLearningRate: 0.0002
  weightDecay: 0.001
  threads: 2
  schedule: plateau
  warmup: 0.05
  plateau: {factor: 0.3, patience: 2}
  earlyStopping: 4
  checkpointSeconds: 0
  loss: relative
  relativeFloor: 0.05
  lossWeights: {delta: 0.5}
validation:
  samples: 1000
  maxAbsError: {price: 0.01}
  rmse: 0.002
`,
  'one limit for every output, the other measure unlimited': `
name: one-limit
pricer: black-scholes
fixed: {strike: 100, rate: 0.01, dividend: 0}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}, maturity: {min: 0.1, max: 2}}
outputs: [price, gamma]
samples: 2048
training: {earlyStopping: {patience: 5, minDelta: 0.001}, schedule: cosine}
validation: {maxAbsError: 0.5}
`,
};

describe('specToDocument', () => {
  it.each(Object.entries(SPECS))('%s: written back and resolved again, gives the same spec', (_, text) => {
    const spec = parseSpec(text);
    const document = specToDocument(spec);
    // through JSON, as spec.json is written and read
    const again = resolveSpec(JSON.parse(JSON.stringify(document)), 'spec.json');
    expect(again).toEqual(spec);
  });

  it('fills in every default in the syntax of a spec file', () => {
    const document = specToDocument(parseSpec(SPECS['defaults only'] as string)) as {
      inputs: Record<string, { transform: string }>;
      training: Record<string, unknown>;
      validation: Record<string, unknown>;
    };
    expect(document.inputs.maturity?.transform).toBe('sqrt'); // the pricer's declared scale
    expect(Object.keys(document.training).sort()).toEqual(
      ['activation', 'batchSize', 'checkpointSeconds', 'device', 'earlyStopping', 'epochs', 'finalLearningRate', 'layers',
        'learningRate', 'loss', 'lossWeights', 'schedule', 'stages', 'threads', 'warmup', 'weightDecay'].sort(),
    );
    expect(document.training.earlyStopping).toBe(false);
    expect(document.training.lossWeights).toEqual({ price: 1 });
    // the default limits are a fraction of each output's range: no number to write, so none is
    expect(document.validation).toEqual({ samples: 65536 });
  });

  it('keeps a limit given for some outputs only, and the unlimited measure unlimited', () => {
    const document = specToDocument(parseSpec(SPECS['one limit for every output, the other measure unlimited'] as string)) as {
      validation: Record<string, unknown>;
    };
    expect(document.validation.maxAbsError).toEqual({ price: 0.5, gamma: 0.5 });
    expect(document.validation.rmse).toBeUndefined();
  });
});

describe("the README's spec reference", () => {
  it('is a valid spec as it stands, and written back resolves to the same', () => {
    const readme = readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const from = readme.indexOf('## Spec reference');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(from));
    expect(from).toBeGreaterThan(0);
    const spec = parseSpec(block?.[1] ?? '', 'README.md');
    expect(spec.name).toBe('bs-call');
    expect(resolveSpec(specToDocument(spec))).toEqual(spec);
  });
});
