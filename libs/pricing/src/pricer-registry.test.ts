import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  PricingError,
  blackScholesPricer,
  getPricer,
  loadPricerModules,
  priceOne,
  pricerNames,
  registerPricer,
  type Pricer,
} from './index';

const INDEX = resolve(__dirname, 'index.js');

function caught(f: () => unknown): PricingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PricingError);
    return e as PricingError;
  }
  throw new Error('expected an error');
}

function linearPricer(name: string): Pricer {
  return {
    name,
    version: '0.1.0',
    description: 'y = a·x + 1',
    parameters: [
      {
        kind: 'number',
        name: 'x',
        unit: '',
        description: 'x',
        min: -10,
        max: 10,
        minInclusive: true,
        maxInclusive: true,
      },
      {
        kind: 'number',
        name: 'a',
        unit: '',
        description: 'slope',
        min: -5,
        max: 5,
        minInclusive: true,
        maxInclusive: true,
        default: 2,
      },
    ],
    outputs: ['y', 'dy'],
    evaluate(p, out) {
      out[0] = (p.a as number) * (p.x as number) + 1;
      out[1] = p.a as number;
    },
  };
}

describe('pricer registry', () => {
  it('has black-scholes built in', () => {
    expect(pricerNames()).toContain('black-scholes');
    expect(getPricer('black-scholes')).toBe(blackScholesPricer);
  });

  it('has the built-in pricers', () => {
    expect(pricerNames()).toEqual(
      expect.arrayContaining([
        'american',
        'asian-arithmetic',
        'asian-geometric',
        'barrier',
        'black-scholes',
        'heston',
      ]),
    );
  });

  it('UNKNOWN_PRICER lists the known names', () => {
    const e = caught(() => getPricer('sabr'));
    expect(e.code).toBe('UNKNOWN_PRICER');
    expect(e.message).toContain('"sabr"');
    expect(e.message).toContain('black-scholes');
    expect(e.message).toContain('heston');
    expect(e.details).toMatchObject({ pricer: 'sabr' });
  });

  it('registers a pricer once; the same object again is harmless, a different one is DUPLICATE_PRICER', () => {
    const p = linearPricer('registry-linear');
    registerPricer(p);
    registerPricer(p);
    expect(getPricer('registry-linear')).toBe(p);
    expect(pricerNames()).toEqual([...pricerNames()].sort());
    expect(caught(() => registerPricer(linearPricer('registry-linear'))).code).toBe('DUPLICATE_PRICER');
    expect(caught(() => registerPricer({ ...blackScholesPricer })).code).toBe('DUPLICATE_PRICER');
  });

  it('rejects malformed pricers with INVALID_PRICER', () => {
    const good = linearPricer('malformed');
    const bad: [string, unknown][] = [
      ['no evaluate', { ...good, evaluate: undefined }],
      ['empty name', { ...good, name: '' }],
      ['no outputs', { ...good, outputs: [] }],
      ['repeated output', { ...good, outputs: ['y', 'y'] }],
      ['repeated parameter', { ...good, parameters: [good.parameters[0], good.parameters[0]] }],
      ['empty range', { ...good, parameters: [{ ...good.parameters[0], min: 1, max: 0 }] }],
      ['default outside range', { ...good, parameters: [{ ...good.parameters[1], default: 9 }] }],
      ['unknown kind', { ...good, parameters: [{ ...good.parameters[0], kind: 'integer' }] }],
      ['empty choice', { ...good, parameters: [{ kind: 'choice', name: 'c', description: '', values: [] }] }],
      [
        'choice default not a value',
        {
          ...good,
          parameters: [{ kind: 'choice', name: 'c', description: '', values: ['a'], default: 'b' }],
        },
      ],
    ];
    for (const [, p] of bad) expect(caught(() => registerPricer(p as Pricer)).code).toBe('INVALID_PRICER');
    expect(pricerNames()).not.toContain('malformed');
  });
});

describe('loadPricerModules', () => {
  let dir: string;
  const file = (name: string, code: string) => {
    const path = join(dir, name);
    writeFileSync(path, code);
    return path;
  };
  const pricerSource = (name: string) => `{
    name: ${JSON.stringify(name)}, version: '0.2.0', description: 'y = a·x + 1',
    parameters: [
      { kind: 'number', name: 'x', unit: '', description: 'x', min: -10, max: 10, minInclusive: true, maxInclusive: true },
      { kind: 'number', name: 'a', unit: '', description: 'slope', min: -5, max: 5, minInclusive: true, maxInclusive: true, default: 2 },
    ],
    outputs: ['y', 'dy'],
    evaluate(p, out) { out[0] = p.a * p.x + 1; out[1] = p.a; },
  }`;
  let registering: string;
  let exporting: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'surrogate-pricing-'));
    registering = file(
      'registering.js',
      `require(${JSON.stringify(INDEX)}).registerPricer(${pricerSource('plugin-registering')});\n`,
    );
    exporting = file(
      'exporting.js',
      `exports.pricers = [${pricerSource('plugin-exporting-a')}, ${pricerSource('plugin-exporting-b')}];\n`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads modules that register pricers or export them; loading again is harmless', () => {
    expect(loadPricerModules([registering, exporting])).toEqual([
      'plugin-registering',
      'plugin-exporting-a',
      'plugin-exporting-b',
    ]);
    expect(loadPricerModules([exporting, registering])).toEqual([
      'plugin-exporting-a',
      'plugin-exporting-b',
      'plugin-registering',
    ]);
    expect(pricerNames()).toEqual(
      expect.arrayContaining(['plugin-registering', 'plugin-exporting-a', 'plugin-exporting-b']),
    );
    expect(priceOne(getPricer('plugin-registering'), { x: 3 })).toEqual({ y: 7, dy: 2 });
    expect(loadPricerModules([])).toEqual([]);
  });

  it('fails with PRICER_MODULE_FAILED naming the path', () => {
    const cases = [
      file('throws.js', `throw new Error('boom');\n`),
      file('empty.js', `exports.nothing = 1;\n`),
      file('not-array.js', `exports.pricers = 'nope';\n`),
      file('invalid.js', `exports.pricers = [{ name: 'half-a-pricer' }];\n`),
      file('duplicate.js', `exports.pricers = [${pricerSource('black-scholes')}];\n`),
      join(dir, 'missing.js'),
    ];
    for (const path of cases) {
      const e = caught(() => loadPricerModules([path]));
      expect(e.code).toBe('PRICER_MODULE_FAILED');
      expect(e.message).toContain(path);
      expect(e.details).toEqual({ path });
    }
    expect(caught(() => loadPricerModules([cases[0]])).message).toContain('boom');
    expect((caught(() => loadPricerModules([cases[3]])).cause as PricingError).code).toBe('INVALID_PRICER');
    expect(caught(() => loadPricerModules(['relative/pricer.js'])).code).toBe('PRICER_MODULE_FAILED');
    expect(getPricer('black-scholes')).toBe(blackScholesPricer);
  });

  it('gives a worker thread the same registry as the main thread', async () => {
    const mainResult = priceOne(getPricer('plugin-exporting-b'), { x: -1.5, a: 4 });
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const lib = require(workerData.index);
      lib.loadPricerModules(workerData.paths);
      parentPort.postMessage({ names: lib.pricerNames(), result: lib.priceOne(lib.getPricer('plugin-exporting-b'), { x: -1.5, a: 4 }) });
    `;
    const fromWorker = await new Promise<{ names: string[]; result: Record<string, number> }>(
      (resolvePromise, reject) => {
        const w = new Worker(code, {
          eval: true,
          workerData: { index: INDEX, paths: [registering, exporting] },
        });
        w.once('message', (m) => {
          resolvePromise(m);
          void w.terminate();
        });
        w.once('error', reject);
      },
    );
    expect(fromWorker.result).toEqual(mainResult);
    expect(fromWorker.names).toEqual([
      'american',
      'asian-arithmetic',
      'asian-geometric',
      'barrier',
      'black-scholes',
      'heston',
      'plugin-exporting-a',
      'plugin-exporting-b',
      'plugin-registering',
    ]);
  });
});
