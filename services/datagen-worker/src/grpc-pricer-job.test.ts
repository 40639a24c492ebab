import { createServer, type AddressInfo } from 'node:net';
import { createLogger } from '@surrogate/core';
import { createMemoryBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import {
  blackScholesPricer,
  chunkInputs,
  PricerServer,
  priceColumns,
  type GrpcPricerOptions,
} from '@surrogate/pricing';
import {
  startFaultyPricerServer,
  type FaultyPricerServer,
} from '@surrogate/pricing/dist/test-fixtures/faulty-pricer-server';
import { v1 } from '@surrogate/proto';
import { Codecs, decodeColumns } from '@surrogate/protocol';
import { parseSpec, specToWire, type ExperimentSpec } from '@surrogate/spec';
import { DatagenWorker } from './datagen-worker';
import { recordWorkerOutput } from './test-fixtures/worker-output';

const silent = createLogger({ name: 'test', level: 'silent' });

const specFor = (url: string, extra = ''): ExperimentSpec =>
  parseSpec(`
name: remote
pricer: ${url}
fixed: {type: call, strike: 100, dividend: 0.02}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}, rate: {min: 0, max: 0.05}, maturity: {min: 0.1, max: 2}}
outputs: [price, delta]
samples: 3000
chunkSize: 1000
seed: 4
${extra}`);

/** A worker on a fresh memory bus, with what it publishes collected. */
async function harness(grpc: GrpcPricerOptions, maxRedeliveries = 2) {
  const bus: Bus = createMemoryBus({ logger: silent });
  const topics = new Topics();
  const { chunks, failures, dead } = await recordWorkerOutput(bus, topics);
  const worker = new DatagenWorker({
    bus,
    topics,
    threads: 2,
    maxRedeliveries,
    nackRedeliveryDelayMs: 20,
    logger: silent,
    grpc: { initialBackoffMs: 5, maxBackoffMs: 20, retries: 1, ...grpc },
  });
  await worker.start();
  const submit = (spec: ExperimentSpec, index = 1, purpose = v1.ChunkPurpose.TRAINING) =>
    bus.publish(topics.jobs, {
      payload: Codecs.job.encode(
        v1.DataGenJob.create({
          experimentId: 'e',
          purpose,
          chunkIndex: index,
          chunkCount: 3,
          startIndex: index * spec.chunkSize,
          sampleCount: spec.chunkSize,
          attempt: 1,
          spec: specToWire(spec),
        }),
      ),
    });
  const stop = async (): Promise<void> => {
    await worker.stop();
    await bus.close();
  };
  return { chunks, failures, dead, submit, stop };
}

describe('a datagen job whose pricer is a gRPC pricer', () => {
  it('calls the pricer in sub-batches and publishes exactly the values the pricer gives', async () => {
    const server = await PricerServer.start({ pricers: [blackScholesPricer] });
    const h = await harness({ batchRows: 128, concurrency: 3 });
    try {
      const spec = specFor(server.urlOf('black-scholes'));
      await h.submit(spec, 1);
      await h.submit(spec, 0, v1.ChunkPurpose.VALIDATION);
      await waitFor(() => h.chunks.length === 2, 10_000, 'two chunks');
      const training = h.chunks.find((c) => c.purpose === v1.ChunkPurpose.TRAINING)!;
      expect(training).toMatchObject({
        pricer: spec.pricer,
        pricerVersion: blackScholesPricer.version,
        sampleCount: 1000,
      });
      const box = spec.inputs;
      const inputs = chunkInputs({ sampler: 'sobol', seed: 4, box, start: 1000, count: 1000, total: 3000 });
      expect(decodeColumns(training.inputs, 4, 1000).map((c) => Array.from(c))).toEqual(
        inputs.map((c) => Array.from(c)),
      );
      const local = priceColumns(
        blackScholesPricer,
        spec.fixed,
        box.map((b) => b.name),
        inputs,
        ['price', 'delta'],
      );
      expect(decodeColumns(training.outputs, 2, 1000).map((c) => Array.from(c))).toEqual(
        local.map((c) => Array.from(c, (x) => Math.fround(x))),
      );
      const validation = h.chunks.find((c) => c.purpose === v1.ChunkPurpose.VALIDATION)!;
      const uniform = chunkInputs({ sampler: 'uniform', seed: 4, box, start: 0, count: 1000 });
      expect(Array.from(decodeColumns(validation.inputs, 4, 1000)[0]!)).toEqual(Array.from(uniform[0]!));
      expect(h.failures).toEqual([]);
    } finally {
      await h.stop();
      await server.close();
    }
  });

  it.each([
    [
      'is down',
      'unavailable' as const,
      {},
      /is unavailable \(PriceBatch: UNAVAILABLE after 2 attempts\): the pricing grid is restarting/,
    ],
    ['is slow', 'slow' as const, { deadlineMs: 150 }, /did not answer PriceBatch within its 150 ms deadline/],
    [
      'returns the wrong number of values',
      'short' as const,
      {},
      /returned 1999 values for 1000 rows; expected 2000/,
    ],
  ])(
    'fails the chunk when the pricer %s; the job is retried, then dead-lettered with the reason',
    async (_what, fault, grpc: GrpcPricerOptions, reason) => {
      const server: FaultyPricerServer = await startFaultyPricerServer(blackScholesPricer, fault, {
        delayMs: 1000,
      });
      const h = await harness({ ...grpc, batchRows: 1000 });
      try {
        await h.submit(specFor(server.url));
        await waitFor(() => h.dead.length === 1, 20_000, 'dead letter');
        expect(h.failures.map((f) => f.permanent)).toEqual([false, false, true]);
        for (const f of h.failures) expect(f.reason).toMatch(reason);
        expect(h.failures[2]!.reason).toMatch(/\(after 3 deliveries\)$/);
        expect(h.dead[0]?.reason).toMatch(reason);
        expect(h.chunks).toEqual([]);
        expect(server.calls()).toBeGreaterThanOrEqual(3);
      } finally {
        await h.stop();
        server.close();
      }
    },
  );

  it('succeeds on a redelivery once the pricer is back', async () => {
    const server = await startFaultyPricerServer(blackScholesPricer, 'unavailable');
    const h = await harness({}, 5);
    try {
      await h.submit(specFor(server.url));
      await waitFor(() => h.failures.length >= 1, 10_000, 'first failure');
      server.setFault('none');
      await waitFor(() => h.chunks.length === 1, 10_000, 'chunk after recovery');
      expect(h.failures.every((f) => !f.permanent)).toBe(true);
      expect(h.dead).toEqual([]);
    } finally {
      await h.stop();
      server.close();
    }
  });

  it('fails the chunk for good at once when the spec does not fit the pricer it describes', async () => {
    const server = await PricerServer.start({ pricers: [blackScholesPricer] });
    const h = await harness({});
    try {
      // Checked for shape only where the pricer was not reachable: `vol` is no Black–Scholes parameter.
      const spec = parseSpec(
        `name: r\npricer: ${server.urlOf('black-scholes')}\nfixed: {strike: 100, rate: 0, spot: 100, maturity: 1}\ninputs: {vol: {min: 0.1, max: 0.3}}\noutputs: [price]\nsamples: 100\n`,
      );
      await h.submit(spec, 0);
      await waitFor(() => h.dead.length === 1, 10_000, 'dead letter');
      expect(h.failures).toHaveLength(1);
      expect(h.failures[0]).toMatchObject({ permanent: true, code: 'SPEC_INVALID' });
      expect(h.failures[0]!.reason).toMatch(
        /inputs\.vol: not a parameter of pricer grpc:\/\/.*black-scholes/,
      );
      expect(h.dead[0]?.reason).toMatch(/inputs\.vol/);
    } finally {
      await h.stop();
      await server.close();
    }
  });

  it('calls no pricer outside its allow-list: the chunk fails for good, and the token never leaves', async () => {
    const trusted = await PricerServer.start({ pricers: [blackScholesPricer] });
    // a "pricer" a submitter named: a TCP listener that counts who connects to it
    let connections = 0;
    const rogue = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
    const roguePort = (rogue.address() as AddressInfo).port;
    const h = await harness({ token: 'PRICER-SECRET', allow: [`127.0.0.1:${trusted.port}`] });
    try {
      await h.submit(specFor(`grpc://127.0.0.1:${roguePort}/black-scholes`), 0);
      await waitFor(() => h.dead.length === 1, 10_000, 'dead letter');
      expect(h.failures[0]).toMatchObject({ permanent: true, code: 'PRICER_NOT_ALLOWED' });
      expect(h.failures[0]!.reason).toContain(`127.0.0.1:${roguePort} is not among the pricers this process may call`);
      expect(connections).toBe(0);
      // the allowed one is priced as usual
      await h.submit(specFor(trusted.urlOf('black-scholes')), 1);
      await waitFor(() => h.chunks.length === 1, 20_000, 'the allowed pricer');
    } finally {
      await h.stop();
      await trusted.close();
      await new Promise((resolve) => rogue.close(resolve));
    }
  });

  it('fails the chunk for good when the pricer answers NaN, naming the sample and its inputs', async () => {
    const server = await startFaultyPricerServer(blackScholesPricer, 'nan', { row: 17 });
    const h = await harness({ batchRows: 1000 });
    try {
      await h.submit(specFor(server.url), 2);
      await waitFor(() => h.failures.length === 1, 10_000, 'failure');
      expect(h.failures[0]).toMatchObject({ permanent: true, code: 'NON_FINITE_OUTPUT' });
      expect(h.failures[0]!.reason).toMatch(/returned NaN for price at sample 2017 \(inputs \{"spot":/);
      expect(server.calls()).toBe(1);
    } finally {
      await h.stop();
      server.close();
    }
  });
});
