import {
  barrierPricer,
  blackScholesPricer,
  GrpcPricerError,
  PricerServer,
  registerPricer,
  RemotePricers,
  invalidParameter,
  type Pricer,
} from '@surrogate/pricing';
import { boxProbe, parseSpec, resolveSpecReachingPricer, SpecError, specFromWire, specToWire } from './index';
import { parseSpecDocument } from './parse-spec';

function issuesOf(fn: () => unknown): { field: string; rule: string; value?: unknown }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return [...(err as SpecError).issues];
  }
  throw new Error('expected a SpecError');
}

async function issuesOfAsync(
  p: Promise<unknown>,
): Promise<{ field: string; rule: string; value?: unknown }[]> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return [...(err as SpecError).issues];
  }
  throw new Error('expected a SpecError');
}

const BARRIER = `
name: dao
pricer: barrier
fixed: {type: call, strike: 100, rate: 0.02, dividend: 0, volatility: 0.25, maturity: 1, barrierType: down-and-out}
inputs:
  spot: {min: 80, max: 120}
  barrier: {min: 60, max: 75}
samples: 4096
`;

// Cross-parameter rule on a pricer with many inputs: a < b must hold everywhere in the box.
const ordered: Pricer = {
  name: 'test-ordered-14',
  version: '1',
  description: 'y = a + b; needs a < b',
  parameters: Array.from({ length: 14 }, (_, k) => ({
    kind: 'number' as const,
    name: k === 0 ? 'a' : k === 13 ? 'b' : `p${k}`,
    unit: '',
    description: '',
    min: 0,
    max: 10,
    minInclusive: true,
    maxInclusive: true,
  })),
  outputs: ['y'],
  validate(params) {
    if ((params.a as number) >= (params.b as number))
      throw invalidParameter(this, 'b', params.b, 'b > a', `b = ${params.b} must exceed a = ${params.a}`);
  },
  evaluate: (p, out) => void (out[0] = (p.a as number) + (p.b as number)),
};

const counted: Pricer = {
  name: 'test-counted',
  version: '1',
  description: 'y = n·x',
  parameters: [
    {
      kind: 'number',
      name: 'n',
      unit: '',
      description: '',
      min: 1,
      max: 64,
      minInclusive: true,
      maxInclusive: true,
      integer: true,
    },
    {
      kind: 'number',
      name: 'x',
      unit: '',
      description: '',
      min: 0,
      max: 1,
      minInclusive: false,
      maxInclusive: false,
    },
  ],
  outputs: ['y'],
  evaluate: (p, out) => void (out[0] = (p.n as number) * (p.x as number)),
};

beforeAll(() => {
  registerPricer(ordered);
  registerPricer(counted);
});

describe('the input box against a local pricer', () => {
  it('accepts a knock-out barrier below spot everywhere in the box', () => {
    expect(parseSpec(BARRIER).inputs.map((i) => i.name)).toEqual(['spot', 'barrier']);
  });

  it('rejects a barrier on the wrong side of spot at a corner, naming the field, value and rule', () => {
    const issues = issuesOf(() =>
      parseSpec(BARRIER.replace('barrier: {min: 60, max: 75}', 'barrier: {min: 60, max: 85}')),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field: 'inputs.barrier', value: { min: 60, max: 85 } });
    expect(issues[0]!.rule).toMatch(
      /^at the corner \{"spot":80,"barrier":85\} of the input box: barrier: barrier = 85 is on the wrong side of spot/,
    );
  });

  it('rejects a fixed barrier that spot crosses somewhere in the box', () => {
    const text = BARRIER.replace(
      'barrierType: down-and-out}',
      'barrierType: up-and-out, barrier: 110}',
    ).replace('  barrier: {min: 60, max: 75}\n', '');
    const issues = issuesOf(() => parseSpec(text));
    expect(issues[0]).toMatchObject({ field: 'fixed.barrier', value: 110 });
    expect(issues[0]!.rule).toMatch(/corner \{"spot":120\}.*wrong side of spot/);
  });

  it('finds a rule broken only at corners when there are more inputs than corners enumerated', () => {
    const inputs = ordered.parameters.map(
      (p) =>
        `  ${p.name}: {min: ${p.name === 'a' ? 1 : p.name === 'b' ? 3 : 0}, max: ${p.name === 'a' ? 3.5 : p.name === 'b' ? 9 : 10}}`,
    );
    const text = `name: o\npricer: test-ordered-14\ninputs:\n${inputs.join('\n')}\nsamples: 64\nvalidation: {samples: 8}\n`;
    const issues = issuesOf(() => parseSpec(text));
    expect(issues[0]).toMatchObject({ field: 'inputs.b' });
    expect(issues[0]!.rule).toMatch(/corner .*"a":3\.5.*"b":3\}.*b = 3 must exceed a = 3\.5/);
    expect(parseSpec(text.replace('a: {min: 1, max: 3.5}', 'a: {min: 1, max: 2.5}')).inputs).toHaveLength(14);
  });

  it('rejects an integer parameter as a continuous input or a fractional fixed value', () => {
    const base = 'name: c\npricer: test-counted\nsamples: 64\n';
    const input = issuesOf(() =>
      parseSpec(`${base}inputs: {n: {min: 1, max: 8}, x: {min: 0.1, max: 0.9}}\n`),
    );
    expect(input[0]).toMatchObject({ field: 'inputs.n' });
    expect(input[0]!.rule).toMatch(/whole numbers only.*put it under fixed/);
    const fixed = issuesOf(() => parseSpec(`${base}fixed: {n: 2.5}\ninputs: {x: {min: 0.1, max: 0.9}}\n`));
    expect(fixed[0]).toMatchObject({ field: 'fixed.n', value: 2.5 });
    expect(parseSpec(`${base}fixed: {n: 3}\ninputs: {x: {min: 0.1, max: 0.9}}\n`).fixed).toEqual({ n: 3 });
  });

  it('rejects a bound that float32 rounding pushes outside an open range', () => {
    // 0.99999999 rounds to 1 in float32, and x must stay below 1.
    const issues = issuesOf(() =>
      parseSpec(
        'name: c\npricer: test-counted\nfixed: {n: 2}\ninputs: {x: {min: 0.5, max: 0.99999999}}\nsamples: 64\n',
      ),
    );
    expect(issues[0]).toMatchObject({ field: 'inputs.x' });
    expect(issues[0]!.rule).toMatch(/x = 1 is outside its valid range \(0, 1\)/);
  });

  it('probes every corner once and the first points of both streams', () => {
    const probe = boxProbe({
      inputs: [
        { name: 'u', min: 0, max: 1, transform: 'linear' },
        { name: 'v', min: 2, max: 3, transform: 'linear' },
      ],
      sampler: 'sobol',
      seed: 1,
      samples: 10,
      validationSamples: 5,
    });
    expect(probe.count).toBe(4 + 10 + 5);
    const corners = Array.from({ length: 4 }, (_, i) => probe.point(i));
    expect(corners).toEqual([
      { u: 0, v: 2 },
      { u: 1, v: 2 },
      { u: 0, v: 3 },
      { u: 1, v: 3 },
    ]);
    expect(probe.where(4)).toMatch(/^at training sample 0 /);
    expect(probe.where(14)).toMatch(/^at validation sample 0 /);
  });

  it('checks the box again when a spec arrives over the wire', () => {
    const wire = specToWire(parseSpec(BARRIER));
    wire.inputs[1]!.max = 90;
    const issues = issuesOf(() => specFromWire(wire));
    expect(issues[0]).toMatchObject({ field: 'inputs.barrier' });
  });
});

const REMOTE = (url: string, extra = ''): string => `
name: remote-bs
pricer: ${url}
fixed: {type: put, strike: 100, dividend: 0}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.1, max: 0.5}
  rate: {min: 0, max: 0.05}
  maturity: {min: 0.1, max: 2}
samples: 4096
${extra}`;

describe('a spec naming a gRPC pricer', () => {
  let server: PricerServer;
  let remote: RemotePricers;
  beforeAll(async () => {
    server = await PricerServer.start({ pricers: [blackScholesPricer, barrierPricer] });
    remote = new RemotePricers({ retries: 1, initialBackoffMs: 5, deadlineMs: 5000 });
  });
  afterAll(async () => {
    remote.close();
    await server.close();
  });

  it('is checked for shape only when the pricer cannot be asked, and needs its outputs then', () => {
    const spec = parseSpec(REMOTE('grpc://pricing.internal:50051/desk-bs', 'outputs: [price]\n'));
    expect(spec.pricer).toBe('grpc://pricing.internal:50051/desk-bs');
    expect(spec.fixed).toEqual({ type: 'put', strike: 100, dividend: 0 });
    expect(specFromWire(specToWire(spec))).toEqual(spec);
    const issues = issuesOf(() => parseSpec(REMOTE('grpc://pricing.internal:50051/desk-bs')));
    expect(issues).toEqual([{ field: 'outputs', rule: expect.stringMatching(/needs its outputs listed/) }]);
  });

  it('names the rule a malformed pricer URL breaks', () => {
    const issues = issuesOf(() => parseSpec(REMOTE('grpc://pricing.internal/desk-bs', 'outputs: [price]\n')));
    expect(issues[0]).toMatchObject({ field: 'pricer', value: 'grpc://pricing.internal/desk-bs' });
    expect(issues[0]!.rule).toMatch(/needs a port/);
  });

  it('is checked against the described parameters, ranges and outputs, defaults filled in', async () => {
    const url = server.urlOf('black-scholes');
    const spec = await resolveSpecReachingPricer(parseSpecDocument(REMOTE(url)), remote);
    expect(spec.outputs).toEqual(['price']);
    expect(spec.pricer).toBe(url);
    const bad = REMOTE(url, 'outputs: [price, charm]\n')
      .replace('volatility: {min: 0.1', 'vol: {min: 0.1')
      .replace('min: 80', 'min: -80');
    const issues = await issuesOfAsync(resolveSpecReachingPricer(parseSpecDocument(bad), remote));
    const byField = Object.fromEntries(issues.map((i) => [i.field, i]));
    expect(byField['inputs.vol']?.rule).toMatch(
      new RegExp(`not a parameter of pricer ${url.replace(/[/.]/g, '\\$&')}`),
    );
    expect(byField['inputs.spot.min']).toMatchObject({ value: -80 });
    expect(byField['inputs.spot.min']?.rule).toMatch(/outside the valid range \(0, 1000000000\]/);
    expect(byField['outputs[1]']).toMatchObject({ value: 'charm' });
  });

  it("has the server check its own rules over the box (the barrier's side of spot)", async () => {
    const url = server.urlOf('barrier');
    const ok = BARRIER.replace('pricer: barrier', `pricer: ${url}`);
    expect((await resolveSpecReachingPricer(parseSpecDocument(ok), remote)).outputs).toEqual(['price']);
    const bad = ok.replace('barrier: {min: 60, max: 75}', 'barrier: {min: 60, max: 85}');
    const issues = await issuesOfAsync(resolveSpecReachingPricer(parseSpecDocument(bad), remote));
    expect(issues[0]).toMatchObject({ field: 'inputs.barrier', value: { min: 60, max: 85 } });
    expect(issues[0]!.rule).toMatch(
      /at the corner \{"spot":80,"barrier":85\} of the input box: .*wrong side of spot.*checked by grpc:/,
    );
  });

  it('rejects a pricer the server does not have, and says when the server cannot be reached', async () => {
    const unknown = await issuesOfAsync(
      resolveSpecReachingPricer(parseSpecDocument(REMOTE(server.urlOf('sabr'))), remote),
    );
    expect(unknown[0]).toMatchObject({ field: 'pricer' });
    expect(unknown[0]!.rule).toMatch(/no pricer "sabr" on this server/);

    const closed = await PricerServer.start({ pricers: [blackScholesPricer] });
    const port = closed.port;
    closed.kill();
    const err = await resolveSpecReachingPricer(
      parseSpecDocument(REMOTE(`grpc://127.0.0.1:${port}/bs`)),
      remote,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcPricerError);
    expect((err as GrpcPricerError).code).toBe('REMOTE_UNAVAILABLE');
  });
});
