import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GrpcPricerClient, priceOne } from '@surrogate/pricing';
import { makeTestCertificates } from '@surrogate/pricing/dist/test-fixtures/test-certificates';
import { bachelierPricer } from './bachelier';

const exec = promisify(execFile);
const EXAMPLE = path.join(__dirname, 'main.js');
const SURROGATE = require.resolve('@surrogate/cli/dist/main.js');

async function surrogate(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [SURROGATE, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The example server as its own process; resolves with the URL it prints. */
async function startExample(
  args: string[],
  env: Record<string, string> = {},
  listen = '127.0.0.1:0',
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [EXAMPLE, '--listen', listen, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example server did not start:\n${stderr}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example server exited with ${code}:\n${stderr}`));
    });
  });
  return { child, url };
}

const SPEC = (url: string): string => `
name: bachelier-example
pricer: ${url}
fixed: {type: call, strike: 100, rate: 0.02, dividend: 0}
inputs:
  spot: {min: 90, max: 110}
  normalVolatility: {min: 5, max: 20}
  maturity: {min: 0.25, max: 1}
samples: 8192
chunkSize: 2048
seed: 3
training: {layers: [32, 32], epochs: 40, batchSize: 256, learningRate: 0.01, finalLearningRate: 0.0001}
validation: {samples: 2048, maxAbsError: 1, rmse: 0.25}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'example-grpc-'));
});

describe('the example gRPC pricer server', () => {
  let server: { child: ChildProcess; url: string };
  beforeAll(async () => {
    server = await startExample([]);
  }, 60_000);
  afterAll(() => {
    server.child.kill('SIGTERM');
  });

  it('describes the Bachelier pricer and prices it exactly as it does in process', async () => {
    expect(server.url).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+\/bachelier$/);
    const client = new GrpcPricerClient(server.url);
    try {
      const d = await client.describe();
      expect(d.outputs).toEqual(['price', 'delta', 'vega']);
      expect(d.parameters.map((p) => p.name)).toEqual(bachelierPricer.parameters.map((p) => p.name));
      const [price, vega] = await client.price({
        fixed: { type: 'put', strike: 100, rate: 0.01, dividend: 0 },
        inputNames: ['spot', 'normalVolatility', 'maturity'],
        inputs: [
          [95, 100.5],
          [8, 15],
          [0.5, 2],
        ],
        outputs: ['price', 'vega'],
      });
      const local = priceOne(bachelierPricer, {
        type: 'put',
        strike: 100,
        rate: 0.01,
        spot: 100.5,
        normalVolatility: 15,
        maturity: 2,
      });
      expect(price![1]).toBe(local.price);
      expect(vega![1]).toBe(local.vega);
    } finally {
      client.close();
    }
  });

  it('runs an experiment end to end with `surrogate run`, the data priced by the example server', async () => {
    const spec = path.join(dir, 'bachelier.yaml');
    await writeFile(spec, SPEC(server.url));
    const out = path.join(dir, 'bachelier-out');
    const r = await surrogate(['run', spec, '--out', out, '--threads', '1', '--quiet']);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { pass: boolean };
    expect(summary.pass).toBe(true);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.dataset).toMatchObject({ chunksExpected: 5, chunksStored: 5, samples: 8192 });
    const saved = JSON.parse(await readFile(path.join(out, 'spec.json'), 'utf8')) as {
      outputs: string[];
      pricer: string;
    };
    expect(saved).toMatchObject({ pricer: server.url, outputs: ['price'] });

    // The model learned the client's pricer, not another.
    const point = { spot: 104, normalVolatility: 11, maturity: 0.6 };
    const p = await surrogate(['predict', path.join(out, 'model.onnx'), '--params', JSON.stringify(point)]);
    expect(p.code).toBe(0);
    const truth = priceOne(bachelierPricer, { ...point, strike: 100, rate: 0.02, type: 'call' }).price;
    expect(Math.abs((JSON.parse(p.stdout) as { price: number }).price - truth)).toBeLessThan(1);
  }, 180_000);
});

describe('the example server over TLS with a bearer token', () => {
  it('is reached as grpcs:// with the CA and token configured in the environment', async () => {
    const certs = makeTestCertificates();
    const server = await startExample(
      ['--tls-cert', path.join(certs.dir, 'server.pem'), '--tls-key', path.join(certs.dir, 'server.key')],
      { SURROGATE_PRICER_SERVER_TOKEN: 'example-token' },
      'localhost:0', // a DNS name: TLS verifies it against the certificate (SNI takes no IP address)
    );
    try {
      expect(server.url).toMatch(/^grpcs:\/\/localhost:\d+\/bachelier$/);
      const spec = path.join(dir, 'tls.yaml');
      await writeFile(spec, SPEC(server.url));
      const ok = await surrogate(['validate', spec], {
        SURROGATE_GRPC_CA: certs.caFile,
        SURROGATE_GRPC_TOKEN: 'example-token',
      });
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect((JSON.parse(ok.stdout) as { spec: { outputs: string[] } }).spec.outputs).toEqual(['price']);
      const noToken = await surrogate(['validate', spec], { SURROGATE_GRPC_CA: certs.caFile });
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toMatch(/refused the credentials \(UNAUTHENTICATED\)/);
      const untrusted = await surrogate(
        ['validate', spec, '--grpc-ca', certs.otherCaFile, '--grpc-retries', '0'],
        {
          SURROGATE_GRPC_TOKEN: 'example-token',
        },
      );
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/is unavailable/);
      expect(existsSync(certs.caFile)).toBe(true);
    } finally {
      server.child.kill('SIGTERM');
    }
  }, 60_000);
});
