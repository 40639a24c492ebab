import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { exportInferenceModel, InferenceModel, type TrainedModel } from '@surrogate/nn';
import { MetricsRegistry } from '@surrogate/observability';
import { makeTestCertificates, type TestCertificates } from '@surrogate/pricing/dist/test-fixtures/test-certificates';
import { HEALTH_SERVICE, health, onnx, v1 } from '@surrogate/proto';
import { INFERENCE_SERVICE, ModelServer } from './index';

/** A small random two-input, one-output model (its exact values are checked against InferenceModel). */
function model(): TrainedModel {
  const mlp = { inputDim: 2, outputDim: 1, hiddenLayers: [8], activation: 'silu' as const };
  let s = 7;
  const rnd = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const p = (n: number): Float32Array => Float32Array.from({ length: n }, rnd);
  return {
    mlp,
    normalization: { inputMin: [80, 0.1], inputMax: [120, 0.5], outputMean: [10], outputStd: [5] },
    parameters: [p(16), p(8), p(8), p(1)],
    finalLoss: 0,
    epochs: 1,
    steps: 1,
    lossHistory: [],
  };
}

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;
interface InferenceClient extends grpc.Client {
  describe: Unary<v1.IDescribeModelRequest, v1.ModelDescription>;
  predict: Unary<v1.IPredictRequest, v1.PredictResponse>;
}
interface HealthClient extends grpc.Client {
  check: Unary<health.IHealthCheckRequest, health.HealthCheckResponse>;
  watch: (req: health.IHealthCheckRequest) => grpc.ClientReadableStream<health.HealthCheckResponse>;
}

function call<Req, Res>(fn: Unary<Req, Res>, client: grpc.Client, req: Req, token?: string): Promise<Res> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => fn.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res as Res))));
}

describe('model server', () => {
  let dir: string;
  let file: string;
  const Inference = grpc.makeGenericClientConstructor(INFERENCE_SERVICE, 'InferenceService');
  const Health = grpc.makeGenericClientConstructor(HEALTH_SERVICE, 'Health');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'model-server-'));
    file = path.join(dir, 'model.onnx');
    const metadata = {
      'surrogate.spec_name': 'bs-call',
      'surrogate.experiment_id': 'bs-call-1',
      'surrogate.model_version': 'bs-call-1-v2', // Describe's version (older models have only the experiment id)
      'surrogate.pricer': 'black-scholes',
      'surrogate.pricer_version': '1',
      'surrogate.validation': JSON.stringify({ maxAbsError: 0.002, rmse: 0.0001, pass: true }),
    };
    await writeFile(file, exportInferenceModel(model(), { inputNames: ['spot', 'volatility'], outputNames: ['price'], metadata }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('describes the model, predicts exactly what the model computes, and answers health checks', async () => {
    const server = await ModelServer.start({ model: file });
    const client = new Inference(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    const hc = new Health(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
    const local = await InferenceModel.load(file);
    try {
      const d = await call(client.describe, client, {});
      expect(d).toMatchObject({ specName: 'bs-call', inputNames: ['spot', 'volatility'], outputNames: ['price'], version: 'bs-call-1-v2', pricer: 'black-scholes@1' });
      expect(JSON.parse(d.validationJson)).toMatchObject({ pass: true, rmse: 0.0001 });
      const inputs = [100, 0.2, 85, 0.45, 119, 0.11];
      const r = await call(client.predict, client, { rows: 3, inputs });
      const want = await local.predict(Float32Array.from(inputs), 3);
      expect(r.rows).toBe(3);
      expect(r.outputs).toEqual(Array.from(want));
      const h = await call(hc.check, hc, { service: '' });
      expect(h.status).toBe(health.HealthCheckResponse.ServingStatus.SERVING);
      expect((await call(hc.check, hc, { service: 'surrogate.v1.InferenceService' })).status).toBe(health.HealthCheckResponse.ServingStatus.SERVING);
    } finally {
      client.close();
      hc.close();
      await local.close();
      await server.stop();
    }
  });

  it('refuses a wrong number of inputs or a non-finite one with INVALID_ARGUMENT, and keeps serving', async () => {
    const server = await ModelServer.start({ model: file });
    const client = new Inference(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    try {
      await expect(call(client.predict, client, { rows: 2, inputs: [100, 0.2, 90] })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('inputs has 3 values; 2 rows of 2 inputs (spot, volatility) need 4'),
      });
      await expect(call(client.predict, client, { rows: 2, inputs: [100, 0.2, 90, NaN] })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: 'row 1: volatility = NaN is not a finite number',
      });
      await expect(call(client.predict, client, { rows: 0, inputs: [] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
      const ok = await call(client.predict, client, { rows: 1, inputs: [100, 0.2] });
      expect(ok.outputs).toHaveLength(1);
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('refuses a row outside the training box naming it, unless extrapolation is allowed; Describe gives the box', async () => {
    const strict = await ModelServer.start({ model: file });
    const loose = await ModelServer.start({ model: file, allowExtrapolation: true });
    const client = new Inference(`127.0.0.1:${strict.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    const other = new Inference(`127.0.0.1:${loose.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    const local = await InferenceModel.load(file);
    try {
      expect(await call(client.describe, client, {})).toMatchObject({ inputMin: [80, 0.1], inputMax: [120, 0.5], extrapolationAllowed: false });
      expect(await call(other.describe, other, {})).toMatchObject({ inputMin: [80, 0.1], inputMax: [120, 0.5], extrapolationAllowed: true });
      // the box's own corners, given as decimals, are inside
      expect((await call(client.predict, client, { rows: 2, inputs: [80, 0.1, 120, 0.5] })).outputs).toHaveLength(2);
      const outside = [100, 0.2, 100, 0.2, 100, 0.75];
      await expect(call(client.predict, client, { rows: 3, inputs: outside })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^row 2: volatility = 0\.75 is outside the model's training box \[0\.1, 0\.5\].*--allow-extrapolation/),
      });
      await expect(call(client.predict, client, { rows: 1, inputs: [79.5, 0.2] })).rejects.toMatchObject({
        details: expect.stringMatching(/^row 0: spot = 79\.5 is outside the model's training box \[80, 120\]/),
      });
      expect((await call(client.predict, client, { rows: 1, inputs: [100, 0.2] })).outputs).toHaveLength(1);
      const answered = await call(other.predict, other, { rows: 3, inputs: outside });
      expect(answered.outputs).toEqual(Array.from(await local.predict(Float32Array.from(outside), 3)));
    } finally {
      client.close();
      other.close();
      await local.close();
      await strict.stop();
      await loose.stop();
    }
  });

  it('counts calls by method and status, predicted rows and latency, and names the model, for Prometheus', async () => {
    const registry = new MetricsRegistry();
    const server = await ModelServer.start({ model: file, metrics: registry });
    const client = new Inference(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    try {
      await call(client.predict, client, { rows: 3, inputs: [100, 0.2, 90, 0.3, 110, 0.4] });
      await call(client.predict, client, { rows: 1, inputs: [100, 0.2] });
      await expect(call(client.predict, client, { rows: 1, inputs: [100] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
      await call(client.describe, client, {});
      const text = registry.exposition();
      expect(text).toContain('\nsurrogate_inference_calls_total{method="Predict",code="OK"} 2\n');
      expect(text).toContain('\nsurrogate_inference_calls_total{method="Predict",code="INVALID_ARGUMENT"} 1\n');
      expect(text).toContain('\nsurrogate_inference_calls_total{method="Describe",code="OK"} 1\n');
      expect(text).toContain('\nsurrogate_inference_predicted_rows_total 4\n');
      expect(text).toContain('\nsurrogate_inference_call_seconds_count{method="Predict"} 3\n');
      expect(text).toContain('\nsurrogate_model_info{spec="bs-call",version="bs-call-1-v2",pricer="black-scholes@1"} 1\n');
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('answers a batch beyond gRPC\'s default 4 MiB message limit, row for row as one-row calls do', async () => {
    const server = await ModelServer.start({ model: file });
    const client = new Inference(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    try {
      const rows = 600_000; // 1.2 M float inputs: a 4.8 MB request
      const inputs = new Array<number>(2 * rows);
      for (let i = 0; i < rows; i++) {
        inputs[2 * i] = 80 + (40 * i) / rows;
        inputs[2 * i + 1] = 0.1 + (0.4 * ((i * 7919) % rows)) / rows;
      }
      const big = await call(client.predict, client, { rows, inputs });
      expect(big.rows).toBe(rows);
      expect(big.outputs).toHaveLength(rows);
      for (const i of [0, 12_345, rows - 1]) {
        const one = await call(client.predict, client, { rows: 1, inputs: inputs.slice(2 * i, 2 * i + 2) });
        expect(big.outputs[i]).toBeCloseTo(one.outputs[0], 4);
      }
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('requires the bearer token when one is configured (health checks excepted)', async () => {
    const server = await ModelServer.start({ model: file, token: 's3cret' });
    const client = new Inference(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    const hc = new Health(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
    try {
      await expect(call(client.describe, client, {})).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(call(client.describe, client, {}, 'wrong')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      expect((await call(client.describe, client, {}, 's3cret')).specName).toBe('bs-call');
      expect((await call(hc.check, hc, {})).status).toBe(health.HealthCheckResponse.ServingStatus.SERVING);
    } finally {
      client.close();
      hc.close();
      await server.stop();
    }
  });

  describe('over TLS', () => {
    let certs: TestCertificates;
    beforeAll(() => {
      certs = makeTestCertificates();
    });
    afterAll(async () => {
      await rm(certs.dir, { recursive: true, force: true });
    });
    const client = (port: number, creds: grpc.ChannelCredentials): InferenceClient =>
      new Inference(`localhost:${port}`, creds) as unknown as InferenceClient;

    it('serves TLS to a client that trusts its CA, and refuses a plaintext client', async () => {
      const server = await ModelServer.start({ model: file, tls: { cert: certs.serverCert, key: certs.serverKey } });
      const trusting = client(server.port, grpc.credentials.createSsl(certs.ca));
      const plain = client(server.port, grpc.credentials.createInsecure());
      try {
        expect(server.url).toMatch(/^grpcs:\/\//);
        expect((await call(trusting.predict, trusting, { rows: 1, inputs: [100, 0.2] })).outputs).toHaveLength(1);
        await expect(call(plain.describe, plain, {})).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      } finally {
        trusting.close();
        plain.close();
        await server.stop();
      }
    });

    it('with a client CA, answers only clients presenting a certificate it signed (mutual TLS)', async () => {
      const server = await ModelServer.start({ model: file, tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca } });
      const anonymous = client(server.port, grpc.credentials.createSsl(certs.ca));
      const known = client(server.port, grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert));
      try {
        await expect(call(anonymous.describe, anonymous, {})).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
        expect((await call(known.describe, known, {})).specName).toBe('bs-call');
      } finally {
        anonymous.close();
        known.close();
        await server.stop();
      }
    });
  });

  it('refuses a missing file, a file that is not ONNX, and a model without Surrogate metadata', async () => {
    await expect(ModelServer.start({ model: path.join(dir, 'none.onnx') })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    const junk = path.join(dir, 'junk.onnx');
    await writeFile(junk, 'not a model');
    await expect(ModelServer.start({ model: junk })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    const bare = path.join(dir, 'bare.onnx');
    await writeFile(bare, exportInferenceModel(model(), { inputNames: ['spot', 'volatility'], outputNames: ['price'] }));
    await expect(ModelServer.start({ model: bare })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('metadata surrogate.spec_name missing'),
    });
  });

  describe('health, as grpc.health.v1 defines it', () => {
    const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = health.HealthCheckResponse.ServingStatus;

    it('Check of a service the server does not serve fails with NOT_FOUND naming it', async () => {
      const server = await ModelServer.start({ model: file });
      const hc = new Health(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
      try {
        await expect(call(hc.check, hc, { service: 'nope.v1.Other' })).rejects.toMatchObject({
          code: grpc.status.NOT_FOUND,
          details: expect.stringContaining('unknown service "nope.v1.Other"'),
        });
        expect((await call(hc.check, hc, {})).status).toBe(SERVING);
      } finally {
        hc.close();
        await server.stop();
      }
    });

    it('Watch gives SERVING, then NOT_SERVING when the server stops, and ends; an unknown service is SERVICE_UNKNOWN', async () => {
      const server = await ModelServer.start({ model: file });
      const hc = new Health(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
      const watch = (service: string): { statuses: number[]; ended: Promise<void>; first: Promise<void> } => {
        const statuses: number[] = [];
        const stream = hc.watch({ service });
        const first = new Promise<void>((resolve, reject) => {
          stream.once('data', () => resolve());
          stream.once('error', reject);
        });
        stream.on('data', (r: health.HealthCheckResponse) => statuses.push(r.status));
        const ended = new Promise<void>((resolve, reject) => {
          stream.on('end', resolve);
          stream.on('error', reject);
        });
        return { statuses, ended, first };
      };
      let stopped = false;
      try {
        const whole = watch('');
        const inference = watch('surrogate.v1.InferenceService');
        const unknown = watch('nope.v1.Other');
        await Promise.all([whole.first, inference.first, unknown.first]);
        expect([whole.statuses, inference.statuses, unknown.statuses]).toEqual([[SERVING], [SERVING], [SERVICE_UNKNOWN]]);
        // open watches must not hold the graceful shutdown up to its grace period
        await server.stop(600_000);
        stopped = true;
        await Promise.all([whole.ended, inference.ended, unknown.ended]);
        expect([whole.statuses, inference.statuses, unknown.statuses]).toEqual([[SERVING, NOT_SERVING], [SERVING, NOT_SERVING], [SERVICE_UNKNOWN]]);
      } finally {
        hc.close();
        if (!stopped) await server.stop(0);
      }
    }, 30_000);
  });

  it('refuses a Predict body that is not a PredictRequest with INVALID_ARGUMENT, and keeps serving', async () => {
    const server = await ModelServer.start({ model: file });
    const raw = (b: Buffer): Buffer => b;
    const Raw = grpc.makeGenericClientConstructor(
      {
        predict: {
          path: '/surrogate.v1.InferenceService/Predict',
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      'Raw',
    );
    const rawClient = new Raw(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { predict: Unary<Buffer, Buffer> };
    const client = new Inference(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as InferenceClient;
    try {
      // field 2 (inputs) says 12 bytes follow, 3 do
      await expect(call(rawClient.predict, rawClient, Buffer.from([0x08, 0x01, 0x12, 0x0c, 0, 0, 0x80]))).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('the request is not a valid surrogate.v1.PredictRequest'),
      });
      expect((await call(client.predict, client, { rows: 1, inputs: [100, 0.2] })).outputs).toHaveLength(1);
    } finally {
      rawClient.close();
      client.close();
      await server.stop();
    }
  });

  it('refuses a model whose metadata cannot describe it: an empty spec name, validation figures that are not JSON, names that do not fit the graph', async () => {
    const variant = async (name: string, edit: (md: Record<string, string>) => void): Promise<string> => {
      const m = onnx.ModelProto.decode(
        exportInferenceModel(model(), {
          inputNames: ['spot', 'volatility'],
          outputNames: ['price'],
          metadata: { 'surrogate.spec_name': 'bs-call', 'surrogate.validation': '{"pass":true}' },
        }),
      );
      const md: Record<string, string> = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
      edit(md);
      m.metadataProps = Object.entries(md).map(([key, value]) => ({ key, value }));
      const f = path.join(dir, `${name}.onnx`);
      await writeFile(f, onnx.ModelProto.encode(m).finish());
      return f;
    };
    const refused = (f: string, message: RegExp): Promise<void> =>
      expect(ModelServer.start({ model: f })).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(message) });
    await refused(await variant('no-spec-name', (md) => (md['surrogate.spec_name'] = '')), /no-spec-name\.onnx: metadata surrogate\.spec_name is empty/);
    await refused(await variant('bad-validation', (md) => (md['surrogate.validation'] = '{oops')), /surrogate\.validation = "\{oops": must be a JSON object/);
    await refused(await variant('bad-names', (md) => (md['surrogate.inputNames'] = '["spot"]')), /bad-names\.onnx: metadata surrogate\.inputNames = .*the graph has 2 inputs/);
    await refused(await variant('bad-box', (md) => (md['surrogate.normalization'] = '{')), /surrogate\.normalization = "\{": not valid JSON/);
  });
});
