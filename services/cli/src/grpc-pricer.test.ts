import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { blackScholesPricer } from '@surrogate/pricing';
import { startFaultyPricerServer } from '@surrogate/pricing/dist/test-fixtures/faulty-pricer-server';
import { cli } from './cli';

const run = promisify(execFile);
const MAIN = path.join(__dirname, 'main.js');

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

/** `surrogate pricer-server` as its own process; resolves with the URLs it serves. */
async function startPricerServer(args: string[]): Promise<{ child: ChildProcess; urls: string[] }> {
  const child = spawn(process.execPath, [MAIN, 'pricer-server', '--listen', '127.0.0.1:0', ...args], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const urls = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pricer-server did not start:\n${stderr}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const line = stderr.split('\n').find((l) => l.includes('pricer server listening'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { urls: string[] }).urls);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pricer-server exited with ${code}:\n${stderr}`));
    });
  });
  return { child, urls };
}

const spec = (pricer: string, extra = ''): string => `
name: grpc-bs
pricer: ${pricer}
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
samples: 4096
chunkSize: 1024
training: {layers: [16], epochs: 4, batchSize: 256}
validation: {samples: 1024}
${extra}`;

let dir: string;
let server: { child: ChildProcess; urls: string[] };
let closedPort: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'surrogate-grpc-cli-'));
  server = await startPricerServer(['--pricers', 'black-scholes,barrier']);
  const closed = await startFaultyPricerServer(blackScholesPricer, 'none');
  closedPort = closed.port;
  closed.close();
}, 60_000);

afterAll(() => {
  server.child.kill('SIGTERM');
});

async function specFile(text: string): Promise<string> {
  const file = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  return file;
}

describe('surrogate pricer-server', () => {
  it('serves the named pricers at grpc:// URLs', () => {
    expect(server.urls).toEqual([
      expect.stringMatching(/^grpc:\/\/127\.0\.0\.1:\d+\/black-scholes$/),
      expect.stringMatching(/^grpc:\/\/127\.0\.0\.1:\d+\/barrier$/),
    ]);
  });

  it.each([
    [['--listen', 'nowhere'], /--listen = nowhere: must be host:port/],
    [['--tls-cert', '/x.pem'], /TLS needs both --tls-cert and --tls-key/],
    [['--pricers', 'sabr'], /unknown pricer "sabr"/],
    [['--max-batch-rows', ''], /--max-batch-rows = : must be a whole number from 0 \(no limit\)/],
    [['--max-batch-rows', '2.5'], /--max-batch-rows = 2.5: must be a whole number/],
  ])('exits 2 on bad options %j', async (args, pattern) => {
    const r = await cli(['pricer-server', ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(pattern);
  });
});

describe('surrogate validate with a gRPC pricer', () => {
  it('asks the pricer for its description and fills in the defaults', async () => {
    const url = server.urls[0] as string;
    const r = await cli(['validate', await specFile(spec(url))]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { spec: { pricer: string; outputs: string[] } };
    expect(out.spec.pricer).toBe(url);
    expect(out.spec.outputs).toEqual(['price']);
  });

  it('exits 2 naming field, value and rule when the spec does not fit the described pricer', async () => {
    const url = server.urls[0] as string;
    const r = await cli([
      'validate',
      await specFile(spec(url).replace('volatility: {min: 0.15', 'vol: {min: 0.15')),
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /inputs\.vol: not a parameter of pricer grpc:\/\/127\.0\.0\.1:\d+\/black-scholes/,
    );
    const range = await cli(['validate', await specFile(spec(url).replace('max: 0.4}', 'max: 7}'))]);
    expect(range.exitCode).toBe(2);
    expect(range.stderr).toMatch(/inputs\.volatility\.max = 7: outside the valid range \[0, 5\]/);
  });

  it("exits 2 when the box breaks the server's own rule somewhere (a knock-out barrier above spot)", async () => {
    const url = server.urls[1] as string;
    const text = `name: dao\npricer: ${url}\nfixed: {type: call, strike: 100, rate: 0.02, volatility: 0.25, maturity: 1, barrierType: down-and-out}\ninputs: {spot: {min: 80, max: 120}, barrier: {min: 60, max: 90}}\nsamples: 1024\n`;
    const r = await cli(['validate', await specFile(text)]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /inputs\.barrier = \{"min":60,"max":90\}: at the corner \{"spot":80,"barrier":90\} of the input box: .*wrong side of spot/,
    );
    const ok = await cli(['validate', await specFile(text.replace('max: 90', 'max: 75'))]);
    expect(ok.exitCode).toBe(0);
  });

  it('exits 1 when the pricer cannot be reached, and checks the shape only with --offline', async () => {
    const url = `grpc://127.0.0.1:${closedPort}/black-scholes`;
    const file = await specFile(spec(url));
    const r = await cli(['validate', file, '--grpc-retries', '0']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/pricer grpc:\/\/127\.0\.0\.1:\d+\/black-scholes is unavailable/);
    const offline = await cli(['validate', file, '--offline']);
    expect(offline.exitCode).toBe(2);
    expect(offline.stderr).toMatch(/outputs: a gRPC pricer that was not described needs its outputs listed/);
    expect(
      (await cli(['validate', await specFile(spec(url, 'outputs: [price]\n')), '--offline'])).exitCode,
    ).toBe(0);
  });

  it('exits 2 on a malformed pricer URL or unreadable TLS settings', async () => {
    const r = await cli(['validate', await specFile(spec('grpc://127.0.0.1/black-scholes'))]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/pricer = "grpc:\/\/127\.0\.0\.1\/black-scholes": needs a port/);
    const ca = await cli([
      'validate',
      await specFile(spec(server.urls[0] as string)),
      '--grpc-ca',
      '/no/ca.pem',
    ]);
    expect(ca.exitCode).toBe(2);
    expect(ca.stderr).toMatch(/--grpc-ca = \/no\/ca\.pem: cannot read the file \(ENOENT\)/);
  });
});

describe('surrogate run with a gRPC pricer that misbehaves', () => {
  it('fails the run (exit 1) with the reason once the job is dead-lettered, and writes no model', async () => {
    const faulty = await startFaultyPricerServer(blackScholesPricer, 'short');
    try {
      const out = path.join(dir, 'short-out');
      const r = await surrogate(
        'run',
        await specFile(spec(faulty.url)),
        '--out',
        out,
        '--grpc-retries',
        '0',
        '--quiet',
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /failed in datagen: (training|validation) chunk \d+: pricer grpc:\/\/127\.0\.0\.1:\d+\/black-scholes returned 1023 values for 1024 rows; expected 1024 .* \(after 6 deliveries\)/,
      );
      expect(existsSync(path.join(out, 'model.onnx'))).toBe(false);
      expect(faulty.calls()).toBeGreaterThanOrEqual(6);
    } finally {
      faulty.close();
    }
  }, 120_000);

  it('fails before anything is written when the pricer is down', async () => {
    const out = path.join(dir, 'down-out');
    const r = await surrogate(
      'run',
      await specFile(spec(`grpc://127.0.0.1:${closedPort}/black-scholes`)),
      '--out',
      out,
      '--grpc-retries',
      '1',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is unavailable \(Describe: UNAVAILABLE after 2 attempts\)/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
