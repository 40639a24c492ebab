import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { exportInferenceModel } from '@surrogate/nn';
import { onnx } from '@surrogate/proto';
import { makeTestCertificates } from '@surrogate/pricing/dist/test-fixtures/test-certificates';
import { cli } from './cli';

const MAIN = path.join(__dirname, 'main.js');


/** A self-signed certificate (and its key) that was valid on 1 January 2020 only, made with openssl. */
function expiredCertificate(dir: string): { cert: string; key: string } {
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  mkdirSync(path.join(dir, 'expired-db'), { recursive: true });
  writeFileSync(path.join(dir, 'expired-db', 'index.txt'), '');
  writeFileSync(path.join(dir, 'expired-db', 'serial'), '01\n');
  writeFileSync(
    path.join(dir, 'expired-ca.cnf'),
    '[ca]\ndefault_ca=c\n[c]\ndatabase=expired-db/index.txt\nnew_certs_dir=expired-db\nserial=expired-db/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n',
  );
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=localhost']);
  run(['ca', '-batch', '-config', 'expired-ca.cnf', '-selfsign', '-keyfile', 'expired.key', '-in', 'expired.csr', '-out', 'expired.pem', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z']);
  return { cert: path.join(dir, 'expired.pem'), key: path.join(dir, 'expired.key') };
}

describe('surrogate serve', () => {
  let dir: string;
  let model: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cli-serve-'));
    model = path.join(dir, 'model.onnx');
    const mlp = { inputDim: 1, outputDim: 1, hiddenLayers: [2], activation: 'tanh' as const };
    const bytes = exportInferenceModel(
      {
        mlp,
        normalization: { inputMin: [0], inputMax: [1], outputMean: [0], outputStd: [1] },
        parameters: [Float32Array.of(1, -1), Float32Array.of(0, 0), Float32Array.of(1, 1), Float32Array.of(0)],
        finalLoss: 0,
        epochs: 1,
        steps: 1,
        lossHistory: [],
      },
      { inputNames: ['spot'], outputNames: ['price'], metadata: { 'surrogate.spec_name': 'tiny' } },
    );
    await writeFile(model, bytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts `surrogate serve` in a child process; resolves with it and its first stdout line. */
  async function startServe(...extra: string[]): Promise<{ child: ReturnType<typeof spawn>; started: Record<string, unknown> }> {
    const child = spawn(process.execPath, [MAIN, 'serve', model, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('serve did not start')), 30_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]);
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    return { child, started: JSON.parse(line) as Record<string, unknown> };
  }

  async function stop(child: ReturnType<typeof spawn>): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  }

  it('prints its URL once it listens and stops cleanly on SIGTERM', async () => {
    const { child, started } = await startServe();
    expect(started.url).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    expect(started).toMatchObject({ spec: 'tiny', inputs: ['spot'], outputs: ['price'], extrapolation: false });
    expect(await stop(child)).toBe(0);
  });

  it('says when it answers outside the training box (--allow-extrapolation)', async () => {
    const { child, started } = await startServe('--allow-extrapolation');
    expect(started).toMatchObject({ spec: 'tiny', extrapolation: true });
    expect(await stop(child)).toBe(0);
  });

  it('with --metrics, serves Prometheus metrics, liveness and readiness over HTTP', async () => {
    const { child, started } = await startServe('--metrics', '127.0.0.1:0');
    try {
      expect(started.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const base = String(started.metrics).replace(/\/metrics$/, '');
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('surrogate_model_info{service="model-server",spec="tiny"');
      expect(text).toMatch(/\nprocess_resident_memory_bytes\{service="model-server"\} \d+/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('exits 2 on a missing or invalid model and on bad options', async () => {
    const missing = await cli(['serve', path.join(dir, 'nope.onnx'), '--port', '0']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.onnx: no such file');
    const junk = path.join(dir, 'junk.onnx');
    await writeFile(junk, 'junk');
    const notOnnx = await cli(['serve', junk, '--port', '0']);
    expect(notOnnx.exitCode).toBe(2);
    expect(notOnnx.stderr).toContain('not an ONNX model');
    const port = await cli(['serve', model, '--port', '70000']);
    expect(port.exitCode).toBe(2);
    expect(port.stderr).toContain('--port = 70000');
    expect((await cli(['serve'])).exitCode).toBe(2);
    const mtlsAlone = await cli(['serve', model, '--port', '0', '--tls-client-ca', path.join(dir, 'ca.pem')]);
    expect(mtlsAlone.exitCode).toBe(2);
    expect(mtlsAlone.stderr).toContain('--tls-client-ca needs --tls-cert and --tls-key');
    const noCa = await cli(['serve', model, '--port', '0', '--tls-cert', model, '--tls-key', model, '--tls-client-ca', path.join(dir, 'none.pem')]);
    expect(noCa.exitCode).toBe(2);
    expect(noCa.stderr).toContain('--tls-client-ca');
    const metrics = await cli(['serve', model, '--port', '0', '--metrics', '9464']);
    expect(metrics.exitCode).toBe(2);
    expect(metrics.stderr).toContain('--metrics = 9464: must be host:port');
  });

  it('exits 2 naming the flag when the TLS files are not a certificate and its key, before listening', async () => {
    const certs = makeTestCertificates();
    try {
      const cert = path.join(certs.dir, 'server.pem');
      const key = path.join(certs.dir, 'server.key');
      await writeFile(cert, certs.serverCert);
      await writeFile(key, certs.serverKey);
      const mismatched = await cli(['serve', model, '--port', '0', '--tls-cert', cert, '--tls-key', certs.clientKeyFile]);
      expect(mismatched.exitCode).toBe(2);
      expect(mismatched.stderr).toContain(`--tls-key = ${certs.clientKeyFile}: not the private key of --tls-cert = ${cert}`);
      const swapped = await cli(['serve', model, '--port', '0', '--tls-cert', key, '--tls-key', cert]);
      expect(swapped.exitCode).toBe(2);
      expect(swapped.stderr).toContain(`--tls-cert = ${key}: not a PEM certificate`);
      const notKey = await cli(['serve', model, '--port', '0', '--tls-cert', cert, '--tls-key', model]);
      expect(notKey.exitCode).toBe(2);
      expect(notKey.stderr).toContain(`--tls-key = ${model}: not a PEM private key`);
      const junkCa = await cli(['serve', model, '--port', '0', '--tls-cert', cert, '--tls-key', key, '--tls-client-ca', key]);
      expect(junkCa.exitCode).toBe(2);
      expect(junkCa.stderr).toContain(`--tls-client-ca = ${key}: not a PEM certificate`);
      // a certificate every client would refuse: valid for one day in 2020
      const expired = expiredCertificate(certs.dir);
      const old = await cli(['serve', model, '--port', '0', '--tls-cert', expired.cert, '--tls-key', expired.key]);
      expect(old.exitCode).toBe(2);
      expect(old.stderr).toContain(`--tls-cert = ${expired.cert}: the certificate expired on Jan  2 00:00:00 2020 GMT`);
    } finally {
      await rm(certs.dir, { recursive: true, force: true });
    }
  });

  it('predict reads the names any exported model carries, as serve does, and refuses a value float32 cannot hold', async () => {
    const p = await cli(['predict', model, '--params', '{"spot":0.5}']);
    expect(p.exitCode).toBe(0);
    expect(Object.keys(JSON.parse(p.stdout) as object)).toEqual(['price']);
    const huge = await cli(['predict', model, '--params', '{"spot":1e39}', '--allow-extrapolation']);
    expect(huge.exitCode).toBe(2);
    expect(huge.stderr).toContain('--params.spot = 1e+39: every input (spot) needs a finite number that float32 can hold');
    const bare = path.join(dir, 'bare.onnx');
    const m = onnx.ModelProto.decode(await readFile(model));
    m.metadataProps = [];
    await writeFile(bare, onnx.ModelProto.encode(m).finish());
    const refused = await cli(['predict', bare, '--params', '{"spot":0.5}']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`${bare}: not a Surrogate model (metadata surrogate.inputNames, surrogate.outputNames missing)`);
  });

  it('bench infer: a --model that is not a Surrogate model is bad input (exit 2), named with the reason', async () => {
    const junk = path.join(dir, 'junk-bench.onnx');
    await writeFile(junk, 'junk');
    const notOnnx = await cli(['bench', 'infer', '--model', junk]);
    expect(notOnnx.exitCode).toBe(2);
    expect(notOnnx.stderr).toContain(`--model ${junk}: not an ONNX model`);
    // an ONNX model without the pricer and box the speed-up needs
    const bare = await cli(['bench', 'infer', '--model', model, '--seconds', '0.01']);
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toContain('no pricer, fixed parameters or input box');
  });
});
