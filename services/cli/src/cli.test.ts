import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { checkDevice, InferenceModel } from '@surrogate/nn';
import { blackScholes } from '@surrogate/pricing';
import { parseSpec, resolveSpec } from '@surrogate/spec';
import { createLogger } from '@surrogate/core';
import { DataDirLock } from '@surrogate/trainer';
import { cli } from './cli';
import { runEmbedded } from './embedded-run';
import { ProgressDisplay } from './progress-display';

const run = promisify(execFile);
const MAIN = path.join(__dirname, 'main.js');
const NAN_PLUGIN = path.join(__dirname, 'test-fixtures', 'nan-pricer.js');

async function surrogate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const SMALL = `
name: small-bs
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
samples: 16384
chunkSize: 4096
seed: 3
training: {layers: [32, 32], epochs: 60, batchSize: 256, learningRate: 0.005, finalLearningRate: 0.00005}
validation: {samples: 2048, maxAbsError: 1.5, rmse: 0.25}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'surrogate-cli-'));
});

describe('surrogate price', () => {
  it("prices Hull's example call (S=42, K=40, r=10%, σ=20%, T=0.5 → 4.7594)", async () => {
    const r = await cli([
      'price',
      'black-scholes',
      '--params',
      '{"spot":42,"strike":40,"rate":0.1,"dividend":0,"volatility":0.2,"maturity":0.5,"type":"call"}',
    ]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    expect(out.price).toBeCloseTo(4.7594, 4);
    expect(Object.keys(out).sort()).toEqual(['delta', 'gamma', 'price', 'rho', 'theta', 'vega']);
  });

  it('exits 2 naming the parameter, its value and the valid range', async () => {
    const r = await cli([
      'price',
      'black-scholes',
      '--params',
      '{"spot":42,"strike":40,"rate":0.1,"dividend":0,"volatility":-0.2,"maturity":0.5}',
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/volatility/);
    expect(r.stderr).toMatch(/-0\.2/);
    const unknown = await cli(['price', 'no-such-pricer', '--params', '{}']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/black-scholes/);
    const badJson = await cli(['price', 'black-scholes', '--params', '{spot:']);
    expect(badJson.exitCode).toBe(2);
    expect(badJson.stderr).toMatch(/--params is not valid JSON/);
  });
});

describe('surrogate validate', () => {
  it('prints the resolved example spec', async () => {
    const r = await cli(['validate', path.join(__dirname, '../../../examples/black-scholes.yaml')]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as {
      valid: boolean;
      spec: { samples: number; training: { epochs: number } };
    };
    expect(out.valid).toBe(true);
    expect(out.spec.samples).toBe(1048576);
    expect(out.spec.training.epochs).toBeGreaterThan(0);
    // what it prints is a spec itself: saved as a file, it validates to the same
    const file = path.join(dir, 'printed.json');
    await writeFile(file, JSON.stringify(out.spec));
    const again = await cli(['validate', file]);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(out);
  });

  it.each([
    ['unknown key', SMALL + 'colour: red\n', /colour: unknown key/],
    [
      'min ≥ max',
      SMALL.replace('{min: 80, max: 120}', '{min: 120, max: 80}'),
      /inputs\.spot: min must be less than max/,
    ],
    ['unknown input', SMALL.replace('spot: {min', 'spott: {min'), /inputs\.spott: not a parameter/],
    [
      'non-positive samples',
      SMALL.replace('samples: 16384', 'samples: -5'),
      /samples = -5: must be between 1/,
    ],
    ['YAML syntax', SMALL.replace('inputs:', 'inputs: [oops'), /line \d+/],
    ['unknown pricer', SMALL.replace('pricer: black-scholes', 'pricer: nope'), /pricer = "nope"/],
  ])('exits 2 on %s, naming the field and the rule', async (_what, text, pattern) => {
    const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    const r = await cli(['validate', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(pattern);
  });

  it('exits 2 on a missing file', async () => {
    const r = await cli(['validate', path.join(dir, 'missing.yaml')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no such file/);
  });
});

describe('surrogate run (embedded)', () => {
  it('runs an experiment end to end and writes a model that matches the pricer', async () => {
    const spec = path.join(dir, 'small.yaml');
    await writeFile(spec, SMALL);
    const out = path.join(dir, 'small-out');
    const r = await surrogate('run', spec, '--out', out);
    expect(r.stderr).toMatch(/chunks/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { pass: boolean; model: string; experimentId: string };
    expect(summary.pass).toBe(true);
    for (const f of ['model.onnx', 'report.json', 'report.html', 'spec.json'])
      expect(existsSync(path.join(out, f))).toBe(true);
    // the model carries its version (the experiment that trained it) and the trainer's release
    const model = await InferenceModel.load(path.join(out, 'model.onnx'));
    const trainerPackage = JSON.parse(await readFile(path.join(__dirname, '..', '..', 'trainer', 'package.json'), 'utf8')) as { version: string };
    expect(model.metadata).toMatchObject({
      'surrogate.model_version': summary.experimentId,
      'surrogate.trainer_version': trainerPackage.version,
      'surrogate.spec_name': 'small-bs',
    });
    await model.close();
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('price: |error| across maturity');

    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.dataset).toMatchObject({
      chunksExpected: 5,
      chunksStored: 5,
      duplicatesDropped: 0,
      samples: 16384,
    });
    expect(report.validation.samples).toBe(2048);
    expect(report.validation.pass).toBe(true);
    expect(report.validation.maxAbsError).toBeLessThanOrEqual(1.5);
    expect(report.training.epochs).toBe(60);
    expect(report.training.steps).toBe(60 * 64);
    expect(report.training.stages).toBe(2);
    expect(Number.isFinite(report.training.finalLoss)).toBe(true);
    for (const k of ['datagenSeconds', 'trainingSeconds', 'validationSeconds', 'exportSeconds'])
      expect(typeof report.timings[k]).toBe('number');
    // spec.json is the spec as it ran, in the syntax of a spec file: it resolves to the same spec
    const saved = JSON.parse(await readFile(path.join(out, 'spec.json'), 'utf8')) as unknown;
    expect(resolveSpec(saved)).toEqual(parseSpec(SMALL));

    // The exported model takes raw inputs in spec order and returns raw prices.
    const point = { spot: 103, volatility: 0.3, maturity: 0.9 };
    const p = await cli(['predict', path.join(out, 'model.onnx'), '--params', JSON.stringify(point)]);
    expect(p.exitCode).toBe(0);
    const predicted = JSON.parse(p.stdout) as { price: number };
    const truth = blackScholes({ ...point, strike: 100, rate: 0.02, dividend: 0, type: 'call' }).price;
    expect(Math.abs(predicted.price - truth)).toBeLessThan(0.5);

    const bad = await cli(['predict', path.join(out, 'model.onnx'), '--params', '{"spot": 100}']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--params\.volatility is missing: every input \(spot, volatility, maturity\) needs a value/);

    // outside the box it was trained on the model is refused, unless asked to extrapolate
    const far = [point, { ...point, volatility: 0.6 }];
    const refused = await cli(['predict', path.join(out, 'model.onnx'), '--params', JSON.stringify(far)]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/--params\[1\]\.volatility = 0\.6 is outside the model's training box \[0\.15, 0\.4\].*--allow-extrapolation/);
    const allowed = await cli(['predict', path.join(out, 'model.onnx'), '--params', JSON.stringify(far), '--allow-extrapolation']);
    expect(allowed.exitCode).toBe(0);
    const both = JSON.parse(allowed.stdout) as { price: number }[];
    expect(Math.abs(both[0].price - predicted.price)).toBeLessThan(1e-5); // batch 2 vs 1: last float32 bits may differ
    expect(Number.isFinite(both[1].price)).toBe(true);
    const corner = await cli(['predict', path.join(out, 'model.onnx'), '--params', JSON.stringify({ spot: 80, volatility: 0.15, maturity: 1.5 })]);
    expect(corner.exitCode).toBe(0);
    const nowhere = await cli(['predict', path.join(dir, 'no-model.onnx'), '--params', JSON.stringify(point)]);
    expect(nowhere.exitCode).toBe(2);
    expect(nowhere.stderr).toMatch(/no-model\.onnx: no such file/);
  }, 180_000);

  it('streams a training set over its memory budget from the shards on disk, and the model still passes', async () => {
    // 32,768 rows × 4 float32 columns, held 3 times over in memory: 1.5 MiB, over a 1 MiB budget
    const spec = path.join(dir, 'streamed.yaml');
    await writeFile(spec, SMALL.replace('samples: 16384', 'samples: 32768').replace('epochs: 60', 'epochs: 30'));
    const out = path.join(dir, 'streamed-out');
    const r = await surrogate('run', spec, '--out', out, '--memory-budget-mb', '1');
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.training.data).toBe('stream');
    expect(report.training.steps).toBe(30 * 128);
    expect(report.training.validationLossHistory).toHaveLength(30);
    expect(report.dataset.samples).toBe(32768);
    expect(report.validation.pass).toBe(true);

    const bad = await surrogate('run', spec, '--out', path.join(dir, 'never-written-2'), '--memory-budget-mb', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--memory-budget-mb = 0: must be a whole number ≥ 1/);
    expect(existsSync(path.join(dir, 'never-written-2'))).toBe(false);
  }, 180_000);

  it('exits 2 on a bad spec and writes nothing', async () => {
    const spec = path.join(dir, 'bad-run.yaml');
    await writeFile(spec, SMALL.replace('samples: 16384', 'samples: 0'));
    const out = path.join(dir, 'never-written');
    const r = await surrogate('run', spec, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/samples = 0/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a training device this machine cannot use before generating any data (exit 2), and runs on one it can', async () => {
    const spec = path.join(dir, 'cuda-run.yaml');
    await writeFile(spec, SMALL.replace('training: {', 'training: {device: cuda, '));
    const out = path.join(dir, 'cuda-out');
    const usable = await checkDevice('cuda').then(
      () => true,
      (err: unknown) => {
        expect(err).toMatchObject({ code: 'NN_DEVICE_UNAVAILABLE' });
        return false;
      },
    );
    const r = await surrogate('run', spec, '--out', out, '--quiet');
    if (usable) {
      expect(r.code === 0 || r.code === 1).toBe(true);
      expect(existsSync(path.join(out, 'report.json'))).toBe(true);
    } else {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cuda-run\.yaml: training\.device: device cuda: onnxruntime's CUDA execution provider is not installed here/);
      expect(r.stderr).toMatch(/or train with device: cpu/);
      expect(existsSync(out)).toBe(false);
    }
  }, 180_000);

  it('refuses the relative loss on a training set it would stream from disk before generating any data (exit 2)', async () => {
    const spec = path.join(dir, 'relative-streamed.yaml');
    // 65,536 rows of 4 columns, held 3 times: 3 MiB, more than the 1 MiB budget
    await writeFile(spec, SMALL.replace('training: {', 'training: {loss: relative, ').replace('samples: 16384', 'samples: 65536'));
    const out = path.join(dir, 'relative-out');
    const r = await surrogate('run', spec, '--out', out, '--memory-budget-mb', '1', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/relative-streamed\.yaml: training\.loss: relative: not available when the training set is streamed from disk/);
    expect(r.stderr).toMatch(/--memory-budget-mb/);
    expect(existsSync(out)).toBe(false);
  });

  it('fails the run with a clear event when the pricer returns NaN, and trains on nothing', async () => {
    const spec = path.join(dir, 'nan.yaml');
    await writeFile(
      spec,
      `name: nan\npricer: broken-linear\ninputs: {spot: {min: 90, max: 130}}\noutputs: [value]\nsamples: 4096\nchunkSize: 1024\nvalidation: {samples: 512}\n`,
    );
    const out = path.join(dir, 'nan-out');
    const r = await surrogate('run', spec, '--out', out, '--pricer-module', NAN_PLUGIN);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NON_FINITE_OUTPUT|returned NaN/);
    expect(r.stderr).toMatch(/spot/);
    expect(existsSync(path.join(out, 'model.onnx'))).toBe(false);
    // the summary says so on stdout too, as for a run that finished
    const summary = JSON.parse(r.stdout) as { experimentId: string; pass: boolean; failed: { code: string; stage: string; reason: string } };
    expect(summary.experimentId).toMatch(/^nan-/);
    expect(summary.pass).toBe(false);
    expect(summary.failed.stage).toBe('datagen');
    expect(summary.failed.code).toBe('NON_FINITE_OUTPUT');
    expect(summary.failed.reason).toMatch(/spot/);
  }, 60_000);

  it('keeps the event loop responsive while data is generated and the model trains', async () => {
    const spec = parseSpec(
      SMALL.replace('samples: 16384', 'samples: 65536').replace('epochs: 60', 'epochs: 8'),
    );
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const result = await runEmbedded({
      spec,
      outDir: path.join(dir, 'loop-out'),
      display: new ProgressDisplay(process.stderr, false, true),
    });
    histogram.disable();
    expect(result.outcome.kind).toBe('modelReady');
    // Pricing and training run in worker threads: the loop only routes messages and writes shards.
    expect(histogram.percentile(99) / 1e6).toBeLessThan(100);
    expect(histogram.max / 1e6).toBeLessThan(1000);
  }, 180_000);
});

describe('surrogate datagen-worker', () => {
  it('takes --clock-skew-ms (0 allowed) and refuses a bad one before connecting, naming flag, value and rule', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/surrogate datagen-worker --pulsar URL .*\[--clock-skew-ms MS\]/);
    expect(help.stdout).toMatch(/--clock-skew-ms MS +datagen-worker: /);
    for (const bad of ['-1', '1.5', 'soon', '']) {
      // an unreachable broker: had the flag been accepted, this would fail later, with exit 1
      const r = await cli(['datagen-worker', '--pulsar', 'pulsar://127.0.0.1:9', `--clock-skew-ms=${bad}`]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`--clock-skew-ms = ${bad}: must be a whole number ≥ 0`);
    }
    const zero = await cli(['datagen-worker', '--pulsar', 'pulsar://127.0.0.1:9', '--clock-skew-ms', '0']);
    expect(zero.exitCode).toBe(1);
    expect(zero.stderr).toMatch(/cannot connect to Pulsar at pulsar:\/\/127\.0\.0\.1:9/);
  });

  it('takes --events-lookback-ms (0 allowed) and refuses a bad one before connecting, naming flag, value and rule', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/\[--events-lookback-ms MS\]/);
    expect(help.stdout).toMatch(/--events-lookback-ms MS +datagen-worker: .*default 1800000/);
    for (const bad of ['-1', '1.5', 'soon', '']) {
      const r = await cli(['datagen-worker', '--pulsar', 'pulsar://127.0.0.1:9', `--events-lookback-ms=${bad}`]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`--events-lookback-ms = ${bad}: must be a whole number ≥ 0`);
    }
    const zero = await cli(['datagen-worker', '--pulsar', 'pulsar://127.0.0.1:9', '--events-lookback-ms', '0']);
    expect(zero.exitCode).toBe(1);
    expect(zero.stderr).toMatch(/cannot connect to Pulsar at pulsar:\/\/127\.0\.0\.1:9/);
  });

  it('refuses a bad --metrics address before anything starts (exit 2), for every service', async () => {
    for (const service of ['producer', 'datagen-worker', 'trainer']) {
      const r = await cli([service, '--pulsar', 'pulsar://127.0.0.1:9', ...(service === 'trainer' ? ['--artifacts', dir] : []), '--metrics', 'localhost']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('--metrics = localhost: must be host:port');
    }
  });

  it('refuses a bad --api (address, service, TLS flags) before anything starts (exit 2), and documents it', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toContain('[--api HOST:PORT [--tls-cert F --tls-key F [--tls-client-ca F]]]');
    expect(help.stdout).toMatch(/--api HOST:PORT +producer: also serve the ExperimentService[\s\S]*SURROGATE_EXPERIMENT_API_TOKEN/);
    const pulsar = ['--pulsar', 'pulsar://127.0.0.1:9'];
    const cases: [string[], string][] = [
      [['producer', ...pulsar, '--api', 'localhost'], '--api = localhost: must be host:port'],
      [['producer', ...pulsar, '--api', '127.0.0.1:99999'], '--api = 127.0.0.1:99999: must be host:port'],
      [['trainer', ...pulsar, '--artifacts', dir, '--api', '127.0.0.1:0'], '--api: not an option of trainer'],
      [['producer', ...pulsar, '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], 'they need --api HOST:PORT'],
      [['producer', ...pulsar, '--api', '127.0.0.1:0', '--tls-cert', 'c.pem'], 'TLS needs both --tls-cert and --tls-key'],
      [['producer', ...pulsar, '--api', '127.0.0.1:0', '--tls-cert', path.join(dir, 'none.pem'), '--tls-key', 'k.pem'], '--tls-cert = '],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect({ args, exitCode: r.exitCode }).toEqual({ args, exitCode: 2 });
      expect(r.stderr).toContain(message);
    }
  });
});

describe('options a command does not take', () => {
  it('are refused (exit 2) naming them and what the command takes, instead of being ignored', async () => {
    const pulsar = ['--pulsar', 'pulsar://127.0.0.1:9'];
    const cases: [string[], string][] = [
      [['pricer-server', '--metrics', '127.0.0.1:0'], '--metrics: not an option of pricer-server, which takes --pricers, --listen'],
      [['trainer', ...pulsar, '--artifacts', dir, '--redis', 'redis://127.0.0.1:6379'], '--redis: not an option of trainer'],
      [['datagen-worker', ...pulsar, '--job-timeout-ms', '5000', '--max-trainings', '2'], '--job-timeout-ms, --max-trainings: not options of datagen-worker'],
      [['price', 'black-scholes', '--out', dir], '--out: not an option of price, which takes --params'],
      [['validate', 'examples/black-scholes.yaml', '--wait'], '--wait: not an option of validate'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect({ args, exitCode: r.exitCode }).toEqual({ args, exitCode: 2 });
      expect(r.stderr).toContain(message);
    }
    // what every command takes, and a deployment's common broker options on every service, stay accepted
    const plugin = await cli(['price', 'black-scholes', '--pricer-module', NAN_PLUGIN, '--params', '{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1}']);
    expect(plugin.exitCode).toBe(0);
    const site = await cli(['trainer', ...pulsar, '--site', 's1', '--tenant', 't', '--namespace', 'n']);
    expect(site.stderr).toContain('trainer needs --artifacts'); // got past the option check
  });
});

describe('two runs on one --out', () => {
  it('the second fails at once (exit 1, DATA_DIR_LOCKED) instead of training the same dataset beside the first', async () => {
    const spec = path.join(dir, 'locked.yaml');
    await writeFile(spec, SMALL.replace('name: small-bs', 'name: locked'));
    const out = path.join(dir, 'locked-out');
    const other = await DataDirLock.acquire(path.join(out, 'dataset'), { log: createLogger({ name: 't', level: 'silent' }), whenHeld: 'fail', signal: new AbortController().signal });
    try {
      const r = await cli(['run', spec, '--out', out, '--quiet']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/dataset is in use by another trainer \(.* pid \d+/);
      expect(existsSync(path.join(out, 'model.onnx'))).toBe(false);
    } finally {
      await other.release();
    }
  });
});

describe('a datagen-worker with a gRPC pricer token', () => {
  it('needs an allow-list of the pricers the token may go to (exit 2 without one)', async () => {
    process.env.SURROGATE_GRPC_TOKEN = 'PRICER-SECRET';
    try {
      const refused = await cli(['datagen-worker', '--pulsar', 'pulsar://127.0.0.1:9']);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain('needs --grpc-allow HOST[:PORT]');
      expect(refused.stderr).not.toContain('PRICER-SECRET');
      // with one it gets past the check (and fails on the broker that is not there: exit 1)
      const allowed = await cli(['datagen-worker', '--pulsar', 'pulsar://127.0.0.1:9', '--grpc-allow', 'pricing.bank.internal:50051']);
      expect(allowed.exitCode).toBe(1);
      expect(allowed.stderr).toMatch(/cannot connect to Pulsar/);
    } finally {
      delete process.env.SURROGATE_GRPC_TOKEN;
    }
  });
});

describe('a server token set but empty', () => {
  it('is bad input (exit 2) naming the variable, not a server without authentication', async () => {
    const cases: [string, string[]][] = [
      ['SURROGATE_SERVE_TOKEN', ['serve', path.join(dir, 'any.onnx')]],
      ['SURROGATE_PRICER_SERVER_TOKEN', ['pricer-server', '--pricers', 'black-scholes', '--listen', '127.0.0.1:0']],
      ['SURROGATE_EXPERIMENT_API_TOKEN', ['producer', '--pulsar', 'pulsar://127.0.0.1:9', '--api', '127.0.0.1:0']],
    ];
    for (const [name, args] of cases) {
      for (const blank of ['', '  ']) {
        process.env[name] = blank;
        try {
          const r = await cli(args);
          expect({ name, exitCode: r.exitCode }).toEqual({ name, exitCode: 2 });
          expect(r.stderr).toContain(`${name} is set but empty`);
        } finally {
          delete process.env[name];
        }
      }
    }
  });
});

describe('surrogate cancel', () => {
  it('refuses a missing id or a bad --timeout-ms before connecting (exit 2), and fails without a broker (exit 1)', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/surrogate cancel <experiment-id> --pulsar URL/);
    const missing = await cli(['cancel', '--pulsar', 'pulsar://127.0.0.1:9']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('usage: surrogate cancel <experiment-id>');
    for (const bad of ['0', '-5', '2.5', 'soon']) {
      const r = await cli(['cancel', 'bs-call-1', '--pulsar', 'pulsar://127.0.0.1:9', `--timeout-ms=${bad}`]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`--timeout-ms = ${bad}: must be a whole number of milliseconds ≥ 1`);
    }
    const unreachable = await cli(['cancel', 'bs-call-1', '--pulsar', 'pulsar://127.0.0.1:9']);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot connect to Pulsar at pulsar:\/\/127\.0\.0\.1:9/);
  });
});
