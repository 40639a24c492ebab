import * as grpc from '@grpc/grpc-js';
import { HEALTH_SERVICE, health, v1 } from '@surrogate/proto';
import { barrierPricer } from './barrier';
import { blackScholesPricer } from './black-scholes';
import { chunkInputs } from './chunk-inputs';
import { GrpcPricerClient } from './grpc-pricer-client';
import { GrpcPricerError, isPermanentGrpcPricerError } from './grpc-pricer-error';
import { grpcPricerOptions, grpcPricerSettingsFromEnv } from './grpc-pricer-options';
import { PricerServer, priceBatchLocally } from './grpc-pricer-server';
import type { Pricer } from './pricer';
import { describeToWire } from './pricer-description';
import { PRICER_SERVICE } from './pricer-service-definition';
import { priceColumns } from './price-columns';
import { isRemotePricer, parseRemotePricerUrl } from './remote-pricer-url';
import { RemotePricers } from './remote-pricers';
import { makeTestCertificates, type TestCertificates } from './test-fixtures/test-certificates';

const FAST = { retries: 2, initialBackoffMs: 5, maxBackoffMs: 20, deadlineMs: 5000 };

async function caught(p: Promise<unknown>): Promise<GrpcPricerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GrpcPricerError) return err;
    throw err;
  }
  throw new Error('expected a GrpcPricerError');
}

/** A raw gRPC server with hand-written PricerService handlers (to misbehave on purpose). */
async function rawServer(
  handlers: grpc.UntypedServiceImplementation,
): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(PRICER_SERVICE, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, server };
}

const BOX = [
  { name: 'spot', min: 80, max: 120 },
  { name: 'volatility', min: 0.1, max: 0.5 },
  { name: 'maturity', min: 0.1, max: 2 },
];
const FIXED = { strike: 100, rate: 0.03, dividend: 0.01, type: 'put' };

describe('pricer URLs', () => {
  it('parse grpc:// and grpcs:// with host, port and name', () => {
    expect(parseRemotePricerUrl('grpc://127.0.0.1:50051/bachelier')).toMatchObject({
      tls: false,
      host: '127.0.0.1',
      port: 50051,
      target: '127.0.0.1:50051',
      name: 'bachelier',
      url: 'grpc://127.0.0.1:50051/bachelier',
    });
    expect(parseRemotePricerUrl('GRPCS://Pricing.Example.com:443/desk.fx-1')).toMatchObject({
      tls: true,
      url: 'grpcs://pricing.example.com:443/desk.fx-1',
    });
    expect(parseRemotePricerUrl('grpc://[::1]:7000/p').target).toBe('[::1]:7000');
    expect(isRemotePricer('grpc://x:1/y')).toBe(true);
    expect(isRemotePricer('black-scholes')).toBe(false);
  });

  it.each([
    ['grpc://host/p', /needs a port/],
    ['grpc://host:70000/p', /not a valid URL|port must be/],
    ['grpc://host:1/', /path must be the pricer name/],
    ['grpc://host:1/a/b', /path must be the pricer name/],
    ['grpc://user:pw@host:1/p', /must not carry credentials/],
    ['grpc://host:1/p?token=x', /must not have a query/],
    ['http://host:1/p', /must start with grpc:\/\/ or grpcs:\/\//],
  ])('refuse %s naming the rule', (url, rule) => {
    let err: unknown;
    try {
      parseRemotePricerUrl(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GrpcPricerError);
    expect((err as GrpcPricerError).code).toBe('INVALID_PRICER_URL');
    expect((err as Error).message).toMatch(rule);
    expect((err as Error).message).toContain(JSON.stringify(url));
  });
});

describe('gRPC pricer client and server on loopback', () => {
  let server: PricerServer;
  let client: GrpcPricerClient;

  beforeAll(async () => {
    server = await PricerServer.start({ pricers: [blackScholesPricer, barrierPricer], maxBatchRows: 700 });
    client = new GrpcPricerClient(server.urlOf('black-scholes'), { ...FAST, batchRows: 300, concurrency: 3 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('describes the pricer exactly as it is declared locally', async () => {
    const d = await client.describe();
    expect(d.name).toBe('black-scholes');
    expect(d.version).toBe(blackScholesPricer.version);
    expect(d.outputs).toEqual([...blackScholesPricer.outputs]);
    expect(d.maxBatchRows).toBe(700);
    expect(JSON.parse(JSON.stringify(d.parameters))).toEqual(
      JSON.parse(JSON.stringify(blackScholesPricer.parameters)),
    );
    // Infinite and exclusive bounds survive the wire.
    const wide: Pricer = {
      ...blackScholesPricer,
      name: 'wide',
      parameters: [
        {
          kind: 'number',
          name: 'x',
          unit: '',
          description: '',
          min: -Infinity,
          max: 1,
          minInclusive: false,
          maxInclusive: false,
          integer: true,
          default: 0,
        },
      ],
    };
    const back = v1.PricerDescription.decode(v1.PricerDescription.encode(describeToWire(wide)).finish());
    expect(back.parameters[0]?.number).toMatchObject({
      min: -Infinity,
      max: 1,
      minInclusive: false,
      integer: true,
      hasDefault: true,
      defaultValue: 0,
    });
  });

  it('prices in sub-batches and returns exactly the local values', async () => {
    const inputs = chunkInputs({ sampler: 'sobol', seed: 5, box: BOX, start: 0, count: 2000 });
    const names = BOX.map((b) => b.name);
    const remote = await client.price({
      fixed: FIXED,
      inputNames: names,
      inputs,
      outputs: ['price', 'vega', 'delta'],
    });
    const local = priceColumns(blackScholesPricer, FIXED, names, inputs, ['price', 'vega', 'delta']);
    expect(remote.map((c) => Array.from(c))).toEqual(local.map((c) => Array.from(c)));
    expect(remote[0]!.length).toBe(2000);
    // An empty request makes no call and returns empty columns.
    const none = await client.price({
      fixed: FIXED,
      inputNames: names,
      inputs: inputs.map(() => new Float32Array(0)),
      outputs: ['price'],
    });
    expect(none.map((c) => c.length)).toEqual([0]);
  });

  it('refuses a row out of range with INVALID_ARGUMENT naming the parameter, value, rule and row', async () => {
    const inputs = chunkInputs({ sampler: 'sobol', seed: 5, box: BOX, start: 0, count: 1000 });
    inputs[1]![923] = -0.25; // a negative volatility in the fourth sub-batch
    const err = await caught(
      client.price({ fixed: FIXED, inputNames: BOX.map((b) => b.name), inputs, outputs: ['price'] }),
    );
    expect(err.code).toBe('REMOTE_INVALID_ARGUMENT');
    expect(err.details).toMatchObject({
      parameter: 'volatility',
      value: '-0.25',
      rule: 'range [0, 5]',
      row: 923,
    });
    expect(err.message).toMatch(/refused row 923: .*volatility = -0.25 is outside its valid range \[0, 5\]/);
  });

  it('refuses a fixed value out of range without blaming a row', async () => {
    const err = await caught(
      client.price({
        fixed: { ...FIXED, strike: -5 },
        inputNames: ['spot'],
        inputs: [new Float32Array([100])],
        outputs: ['price'],
      }),
    );
    expect(err.details).toMatchObject({ parameter: 'strike', value: '-5', rule: 'range (0, 1000000000]' });
    expect(err.details.row).toBeUndefined();
  });

  it('checks rows without pricing them, including a rule across parameters', async () => {
    const barrier = new GrpcPricerClient(server.urlOf('barrier'), FAST);
    try {
      const rows = {
        fixed: { ...FIXED, type: 'call', barrierType: 'down-and-out', volatility: 0.2, maturity: 1 },
        inputNames: ['spot', 'barrier'],
        inputs: [new Float64Array([100, 100, 90]), new Float64Array([80, 95, 95])],
      };
      const err = await caught(barrier.check(rows));
      expect(err.code).toBe('REMOTE_INVALID_ARGUMENT');
      expect(err.details).toMatchObject({ parameter: 'barrier', value: '95', row: 2 });
      expect(err.message).toMatch(/wrong side of spot/);
      await barrier.check({ ...rows, inputs: [new Float64Array([100, 100]), new Float64Array([80, 95])] });
    } finally {
      barrier.close();
    }
  });

  it('says which pricers a server has when asked for another', async () => {
    const other = new GrpcPricerClient(server.urlOf('heston'), FAST);
    try {
      const err = await caught(other.describe());
      expect(err.code).toBe('REMOTE_UNKNOWN_PRICER');
      expect(err.message).toMatch(/no pricer "heston" on this server; it serves: barrier, black-scholes/);
    } finally {
      other.close();
    }
  });

  it('shares one channel per URL and keeps descriptions for their time to live', async () => {
    const pricers = new RemotePricers(FAST, 60_000);
    try {
      const url = server.urlOf('black-scholes');
      expect(pricers.client(url) === pricers.client(url.replace('grpc://', 'GRPC://'))).toBe(true);
      const a = await pricers.describe(url);
      expect((await pricers.describe(url)) === a).toBe(true);
    } finally {
      pricers.close();
    }
  });
});

describe('the pricer server\'s health service (grpc.health.v1)', () => {
  it('answers SERVING for the server and PricerService, NOT_FOUND for another name, and NOT_SERVING to watchers when it closes', async () => {
    const server = await PricerServer.start({ pricers: [blackScholesPricer] });
    const Client = grpc.makeGenericClientConstructor(HEALTH_SERVICE, 'Health');
    const hc = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as {
      check(req: health.IHealthCheckRequest, cb: (err: grpc.ServiceError | null, res?: health.HealthCheckResponse) => void): void;
      watch(req: health.IHealthCheckRequest): grpc.ClientReadableStream<health.HealthCheckResponse>;
      close(): void;
    };
    const check = (service: string): Promise<health.HealthCheckResponse> =>
      new Promise((resolve, reject) => hc.check({ service }, (err, res) => (err ? reject(err) : resolve(res as health.HealthCheckResponse))));
    try {
      const SERVING = health.HealthCheckResponse.ServingStatus.SERVING;
      expect((await check('')).status).toBe(SERVING);
      expect((await check('surrogate.v1.PricerService')).status).toBe(SERVING);
      await expect(check('surrogate.v1.Other')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
      const statuses: number[] = [];
      const stream = hc.watch({ service: '' });
      stream.on('data', (r: health.HealthCheckResponse) => statuses.push(r.status));
      const ended = new Promise<void>((resolve) => {
        stream.on('end', () => resolve());
        stream.on('error', () => resolve());
      });
      while (statuses.length === 0) await new Promise((r) => setTimeout(r, 10));
      await server.close(500);
      await ended;
      expect(statuses).toEqual([SERVING, health.HealthCheckResponse.ServingStatus.NOT_SERVING]);
    } finally {
      hc.close();
      server.kill();
    }
  });
});

describe('a server given requests directly', () => {
  it('enforces integer parameters and the request shape', () => {
    const stepper: Pricer = {
      name: 'stepper',
      version: '1',
      description: '',
      parameters: [
        {
          kind: 'number',
          name: 'n',
          unit: '',
          description: '',
          min: 1,
          max: 100,
          minInclusive: true,
          maxInclusive: true,
          integer: true,
        },
      ],
      outputs: ['y'],
      evaluate: (p, out) => void (out[0] = 2 * (p.n as number)),
    };
    expect(
      Array.from(
        priceBatchLocally(stepper, { inputNames: ['n'], rows: 2, inputs: [3, 4], outputs: ['y'] }).values ??
          [],
      ),
    ).toEqual([6, 8]);
    expect(() =>
      priceBatchLocally(stepper, { inputNames: ['n'], rows: 2, inputs: [3, 4.5], outputs: ['y'] }),
    ).toThrow(/row 1: .*n = 4.5 is not an integer/);
    expect(() =>
      priceBatchLocally(stepper, { inputNames: ['n'], rows: 2, inputs: [3], outputs: ['y'] }),
    ).toThrow(/1 input columns × 2 rows need 2/);
    expect(() =>
      priceBatchLocally(stepper, { inputNames: ['n'], rows: 1, inputs: [3], outputs: ['z'] }),
    ).toThrow(/unknown output "z"/);
    expect(() =>
      priceBatchLocally(stepper, { inputNames: ['n'], rows: 1, inputs: [3], outputs: ['y'] }, 0),
    ).not.toThrow();
    expect(() =>
      priceBatchLocally(stepper, { inputNames: ['n'], rows: 3, inputs: [1, 2, 3], outputs: ['y'] }, 2),
    ).toThrow(/exceeds this server's 2 rows/);
  });
});

describe('a server given a long request', () => {
  it('serves other calls while it prices, and stops pricing a call that was cancelled or is past its deadline', async () => {
    let evaluated = 0;
    const slow: Pricer = {
      name: 'slow',
      version: '1',
      description: 'a millisecond a row',
      parameters: [{ kind: 'number', name: 'x', unit: '', description: '', min: 0, max: 1, minInclusive: true, maxInclusive: true, integer: false }],
      outputs: ['y'],
      evaluate: (p, out) => {
        const until = performance.now() + 1;
        while (performance.now() < until);
        evaluated += 1;
        out[0] = p.x as number;
      },
    };
    const server = await PricerServer.start({ pricers: [slow] });
    const Client = grpc.makeGenericClientConstructor(PRICER_SERVICE, 'PricerService');
    const raw = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as {
      priceBatch(req: v1.IPriceBatchRequest, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void): void;
      close(): void;
    };
    const describer = new GrpcPricerClient(server.urlOf('slow'), FAST);
    try {
      const rows = 3000; // 3 s of pricing
      const long = new Promise<grpc.ServiceError | null>((resolve) =>
        raw.priceBatch({ pricer: 'slow', rows, inputNames: ['x'], inputs: new Array(rows).fill(0.5), outputs: ['y'] }, new grpc.Metadata(), { deadline: Date.now() + 300 }, resolve),
      );
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      expect((await describer.describe()).name).toBe('slow');
      expect(performance.now() - t0).toBeLessThan(1000); // answered between slices, not after 3 s
      expect((await long)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      await new Promise((r) => setTimeout(r, 200));
      const after = evaluated;
      await new Promise((r) => setTimeout(r, 300));
      expect(evaluated).toBe(after); // no longer pricing the abandoned call
      expect(evaluated).toBeLessThan(rows);
    } finally {
      describer.close();
      raw.close();
      await server.close();
    }
  });
});

describe('a pricer that is down, slow or wrong', () => {
  it('fails with REMOTE_UNAVAILABLE after retrying when nothing listens', async () => {
    const { port, server } = await rawServer({});
    server.forceShutdown(); // the port is now closed
    const client = new GrpcPricerClient(`grpc://127.0.0.1:${port}/gone`, FAST);
    try {
      const err = await caught(client.describe());
      expect(err.code).toBe('REMOTE_UNAVAILABLE');
      expect(err.details).toMatchObject({ status: 'UNAVAILABLE', attempts: 3, method: 'Describe' });
      expect(err.message).toMatch(
        /pricer grpc:\/\/127\.0\.0\.1:\d+\/gone is unavailable \(Describe: UNAVAILABLE after 3 attempts\)/,
      );
    } finally {
      client.close();
    }
  });

  it('fails with REMOTE_DEADLINE_EXCEEDED when every attempt outlives its deadline', async () => {
    let calls = 0;
    const { server, port } = await rawServer({
      describe: () => undefined,
      priceBatch: (_call: unknown, callback: grpc.sendUnaryData<v1.IPriceBatchResponse>) => {
        calls++;
        setTimeout(() => callback(null, { rows: 1, values: [1] }), 600);
      },
    });
    const client = new GrpcPricerClient(`grpc://127.0.0.1:${port}/slow`, {
      ...FAST,
      deadlineMs: 100,
      retries: 1,
    });
    try {
      const err = await caught(client.price({ fixed: {}, inputNames: ['x'], inputs: [[1]], outputs: ['y'] }));
      expect(err.code).toBe('REMOTE_DEADLINE_EXCEEDED');
      expect(err.message).toMatch(
        /did not answer PriceBatch within its 100 ms deadline \(DEADLINE_EXCEEDED after 2 attempts\)/,
      );
      expect(calls).toBe(2);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('recovers when a retry succeeds', async () => {
    let calls = 0;
    const { server, port } = await rawServer({
      priceBatch: (
        call: grpc.ServerUnaryCall<v1.PriceBatchRequest, unknown>,
        callback: grpc.sendUnaryData<v1.IPriceBatchResponse>,
      ) => {
        calls++;
        if (calls <= 2) return callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'busy' });
        callback(null, { rows: call.request.rows, values: call.request.inputs.map((x) => x + 1) });
      },
    });
    const client = new GrpcPricerClient(`grpc://127.0.0.1:${port}/flaky`, FAST);
    try {
      const [y] = await client.price({ fixed: {}, inputNames: ['x'], inputs: [[1, 2, 3]], outputs: ['y'] });
      expect(Array.from(y!)).toEqual([2, 3, 4]);
      expect(calls).toBe(3);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('rejects an answer with the wrong number of values, or a non-finite one, and a bad description', async () => {
    const { server, port } = await rawServer({
      describe: (_c: unknown, callback: grpc.sendUnaryData<v1.IPricerDescription>) =>
        callback(null, { name: 'wrong', version: '1', outputs: [], parameters: [] }),
      priceBatch: (
        call: grpc.ServerUnaryCall<v1.PriceBatchRequest, unknown>,
        callback: grpc.sendUnaryData<v1.IPriceBatchResponse>,
      ) => {
        const n = call.request.rows;
        if (call.request.fixed.mode?.text === 'short')
          return callback(null, { rows: n, values: new Array(n - 1).fill(1) });
        const values = new Array(2 * n).fill(1);
        values[n + 3] = NaN;
        callback(null, { rows: n, values });
      },
    });
    const client = new GrpcPricerClient(`grpc://127.0.0.1:${port}/wrong`, { ...FAST, batchRows: 5 });
    try {
      const short = await caught(
        client.price({
          fixed: { mode: 'short' },
          inputNames: ['x'],
          inputs: [[1, 2, 3, 4, 5, 6, 7]],
          outputs: ['y'],
        }),
      );
      expect(short.code).toBe('REMOTE_BAD_RESPONSE');
      expect(short.message).toMatch(/returned 4 values for 5 rows; expected 5 \(5 rows × 1 outputs: y\)/);
      const nan = await caught(
        client.price({
          fixed: { mode: 'nan' },
          inputNames: ['x'],
          inputs: [[1, 2, 3, 4, 5, 6, 7]],
          outputs: ['y', 'z'],
        }),
      );
      expect(nan.code).toBe('REMOTE_NON_FINITE');
      expect(nan.details).toMatchObject({ output: 'z', row: 3 });
      const described = await caught(client.describe());
      expect(described.code).toBe('REMOTE_BAD_RESPONSE');
      expect(described.message).toMatch(
        /Describe returned an invalid description: .*outputs must be a non-empty array/,
      );
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('gRPC pricers over TLS', () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = makeTestCertificates();
  });

  it('verifies the server against the configured CA and sends the bearer token', async () => {
    const server = await PricerServer.start({
      pricers: [blackScholesPricer],
      address: 'localhost:0',
      tls: { cert: certs.serverCert, key: certs.serverKey },
      token: 's3cret',
    });
    const url = server.urlOf('black-scholes');
    expect(url).toMatch(/^grpcs:\/\/localhost:\d+\/black-scholes$/);
    const good = new GrpcPricerClient(url, {
      ...grpcPricerOptions({ caFile: certs.caFile, token: 's3cret' }),
      ...FAST,
    });
    const wrongToken = new GrpcPricerClient(url, { ca: certs.ca, token: 'guess', ...FAST });
    const untrusted = new GrpcPricerClient(url, {
      ...grpcPricerOptions({ caFile: certs.otherCaFile, token: 's3cret' }),
      ...FAST,
      retries: 0,
    });
    const plaintext = new GrpcPricerClient(url.replace('grpcs://', 'grpc://'), {
      token: 's3cret',
      ...FAST,
      retries: 0,
      deadlineMs: 2000,
    });
    try {
      const [price] = await good.price({
        fixed: FIXED,
        inputNames: ['spot', 'volatility', 'maturity'],
        inputs: [[100], [0.25], [1]],
        outputs: ['price'],
      });
      const local = priceColumns(
        blackScholesPricer,
        FIXED,
        ['spot', 'volatility', 'maturity'],
        [new Float32Array([100]), new Float32Array([0.25]), new Float32Array([1])],
        ['price'],
      );
      expect(price![0]).toBe(local[0]![0]);
      expect((await caught(wrongToken.describe())).code).toBe('REMOTE_UNAUTHENTICATED');
      const refused = await caught(untrusted.describe());
      expect(refused.code).toBe('REMOTE_UNAVAILABLE');
      const clear = await caught(plaintext.describe());
      expect(['REMOTE_UNAVAILABLE', 'REMOTE_FAILED']).toContain(clear.code);
    } finally {
      for (const c of [good, wrongToken, untrusted, plaintext]) c.close();
      await server.close();
    }
  });

  it('presents a client certificate to a server that requires one', async () => {
    const server = await PricerServer.start({
      pricers: [blackScholesPricer],
      address: '127.0.0.1:0',
      tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca },
    });
    const url = server.urlOf('black-scholes');
    const withCert = new GrpcPricerClient(url, {
      ...grpcPricerOptions({
        caFile: certs.caFile,
        certFile: certs.clientCertFile,
        keyFile: certs.clientKeyFile,
      }),
      ...FAST,
    });
    const without = new GrpcPricerClient(url, { ca: certs.ca, ...FAST, retries: 0 });
    try {
      expect((await withCert.describe()).name).toBe('black-scholes');
      expect((await caught(without.describe())).code).toBe('REMOTE_UNAVAILABLE');
    } finally {
      withCert.close();
      without.close();
      await server.close();
    }
  });
});

describe('gRPC pricer settings', () => {
  it('come from SURROGATE_GRPC_* and name the variable when wrong', () => {
    const env = {
      SURROGATE_GRPC_DEADLINE_MS: '2500',
      SURROGATE_GRPC_RETRIES: '0',
      SURROGATE_GRPC_TOKEN: 't',
      SURROGATE_GRPC_CA: '',
    };
    expect(grpcPricerOptions(grpcPricerSettingsFromEnv(env))).toEqual({
      deadlineMs: 2500,
      retries: 0,
      token: 't',
    });
    expect(() =>
      grpcPricerOptions(grpcPricerSettingsFromEnv({ SURROGATE_GRPC_CA: '/no/such/ca.pem' })),
    ).toThrow(/SURROGATE_GRPC_CA = \/no\/such\/ca\.pem: cannot read the file \(ENOENT\)/);
    expect(() => grpcPricerOptions({ deadlineMs: '-3' }, { deadlineMs: '--grpc-deadline-ms' })).toThrow(
      /--grpc-deadline-ms = -3: must be a whole number from 1/,
    );
    expect(() => grpcPricerOptions({ certFile: '/x.pem' })).toThrow(/SURROGATE_GRPC_KEY is not set/);
  });

  it('read an allow-list of hosts or host:port entries, refusing malformed ones', () => {
    expect(grpcPricerOptions(grpcPricerSettingsFromEnv({ SURROGATE_GRPC_ALLOW: ' Pricing.Bank.internal:50051, 10.0.0.7 ,[::1]:9' })).allow).toEqual([
      'pricing.bank.internal:50051',
      '10.0.0.7',
      '[::1]:9',
    ]);
    expect(() => grpcPricerOptions({ allow: 'a.example:99999' })).toThrow(/SURROGATE_GRPC_ALLOW = a\.example:99999: a\.example:99999: each entry is a host or host:port/);
    expect(() => grpcPricerOptions({ allow: ' , ' }, { allow: '--grpc-allow' })).toThrow(/--grpc-allow = .*name at least one host/);
  });

  it('with an allow-list, a pricer elsewhere is refused before any connection (PRICER_NOT_ALLOWED, permanent)', () => {
    const remote = new RemotePricers({ allow: ['pricing.bank.internal:50051', '127.0.0.1', '[::1]:9'] });
    try {
      expect(remote.client('grpcs://PRICING.bank.internal:50051/heston').url).toBe('grpcs://pricing.bank.internal:50051/heston');
      expect(remote.client('grpc://127.0.0.1:7/black-scholes').url).toBe('grpc://127.0.0.1:7/black-scholes');
      expect(remote.client('grpc://[::1]:9/black-scholes').url).toContain(':9/black-scholes');
      for (const url of ['grpcs://pricing.bank.internal:50052/heston', 'grpcs://evil.example:50051/heston', 'grpc://[::1]:10/x']) {
        let err: unknown;
        try {
          remote.client(url);
        } catch (e) {
          err = e;
        }
        expect({ url, code: (err as GrpcPricerError).code }).toEqual({ url, code: 'PRICER_NOT_ALLOWED' });
        expect(isPermanentGrpcPricerError(err)).toBe(true);
      }
    } finally {
      remote.close();
    }
  });
});
