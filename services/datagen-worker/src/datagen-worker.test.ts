import { createLogger } from '@surrogate/core';
import { createMemoryBus, Topics, waitFor, type Bus } from '@surrogate/messaging';
import { MetricsRegistry } from '@surrogate/observability';
import { blackScholes, chunkInputs, loadPricerModules } from '@surrogate/pricing';
import { v1 } from '@surrogate/proto';
import { Codecs, decodeColumns, eventKind } from '@surrogate/protocol';
import { parseSpec, specToWire } from '@surrogate/spec';
import { DatagenWorker } from './datagen-worker';
import { PricingPool } from './pricing-pool';
import { recordWorkerOutput, type WorkerOutput } from './test-fixtures/worker-output';

const SPEC = parseSpec(`
name: w
pricer: black-scholes
fixed: {type: put, strike: 100, dividend: 0.01}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}, rate: {min: 0, max: 0.05}, maturity: {min: 0.1, max: 2}}
outputs: [price, delta]
samples: 5000
chunkSize: 1000
seed: 11
`);

describe('PricingPool', () => {
  it('gives the same bits with any number of threads, and the bits of the sampler and the pricer', async () => {
    const task = {
      pricer: 'black-scholes',
      fixed: SPEC.fixed,
      box: SPEC.inputs,
      sampler: 'sobol' as const,
      total: 5000,
      seed: 11,
      start: 1000,
      count: 1000,
      outputs: ['price', 'delta'],
    };
    const one = new PricingPool({ threads: 1 });
    const two = new PricingPool({ threads: 2 });
    try {
      const a = await one.compute(task);
      const b = await two.compute(task);
      expect(Buffer.from(b.inputs[0]!.buffer)).toEqual(Buffer.from(a.inputs[0]!.buffer));
      expect(Array.from(b.outputs[1]!)).toEqual(Array.from(a.outputs[1]!));
      const inputs = chunkInputs({ sampler: 'sobol', seed: 11, box: SPEC.inputs, start: 1000, count: 1000 });
      expect(Array.from(a.inputs[3]!)).toEqual(Array.from(inputs[3]!));
      const row = 417;
      const p = blackScholes({
        spot: inputs[0]![row]!,
        volatility: inputs[1]![row]!,
        rate: inputs[2]![row]!,
        maturity: inputs[3]![row]!,
        strike: 100,
        dividend: 0.01,
        type: 'put',
      });
      expect(a.outputs[0]![row]).toBe(p.price);
      expect(a.outputs[1]![row]).toBe(p.delta);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('PricingPool with a thread that dies', () => {
  it('fails the slice with a typed error and replaces the thread', async () => {
    const pool = new PricingPool({
      threads: 1,
      pricerModules: [require.resolve('./test-fixtures/exiting-pricer')],
    });
    const task = (min: number, max: number) => ({
      pricer: 'exits-above-half',
      fixed: {},
      box: [{ name: 'x', min, max }],
      sampler: 'uniform' as const,
      total: 64,
      seed: 1,
      start: 0,
      count: 64,
      outputs: ['y'],
    });
    try {
      await expect(pool.compute(task(0.6, 1))).rejects.toMatchObject({ code: 'PRICING_THREAD_FAILED' });
      const ok = await pool.compute(task(0, 0.4));
      expect(Array.from(ok.outputs[0]!)).toEqual(Array.from(ok.inputs[0]!));
    } finally {
      await pool.close();
    }
  });
});

describe('DatagenWorker', () => {
  let bus: Bus;
  let worker: DatagenWorker;
  const registry = new MetricsRegistry();
  const topics = new Topics();
  let chunks: v1.DataChunk[];
  let events: v1.ExperimentEvent[];
  let dead: WorkerOutput['dead'];

  beforeAll(async () => {
    bus = createMemoryBus({ logger: createLogger({ name: 'bus', level: 'silent' }) });
    ({ chunks, events, dead } = await recordWorkerOutput(bus, topics));
    worker = new DatagenWorker({
      bus,
      topics,
      threads: 2,
      logger: createLogger({ name: 'w', level: 'silent' }),
      metrics: registry,
    });
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop();
    await bus.close();
  });

  function job(
    purpose: v1.ChunkPurpose,
    index: number,
    spec: v1.IExperimentSpec = specToWire(SPEC),
  ): v1.DataGenJob {
    return v1.DataGenJob.create({
      experimentId: 'e',
      purpose,
      chunkIndex: index,
      chunkCount: 5,
      startIndex: index * 1000,
      sampleCount: 1000,
      attempt: 1,
      spec,
      submittedAtMs: 1_700_000_000_123,
    });
  }

  it('turns a job into a chunk: float32 column-major inputs from the sampler, outputs from the pricer', async () => {
    await bus.publish(topics.jobs, { payload: Codecs.job.encode(job(v1.ChunkPurpose.TRAINING, 2)) });
    await waitFor(() => chunks.length === 1, 5000, 'chunk');
    const c = chunks[0]!;
    expect(c).toMatchObject({
      experimentId: 'e',
      chunkIndex: 2,
      chunkCount: 5,
      sampleCount: 1000,
      pricer: 'black-scholes',
    });
    expect(Number(c.submittedAtMs)).toBe(1_700_000_000_123); // the submission the job was issued for
    expect(c.inputNames).toEqual(['spot', 'volatility', 'rate', 'maturity']);
    expect(c.outputNames).toEqual(['price', 'delta']);
    const inputs = decodeColumns(c.inputs, 4, 1000);
    const expected = chunkInputs({ sampler: 'sobol', seed: 11, box: SPEC.inputs, start: 2000, count: 1000 });
    expect(inputs.map((col) => Array.from(col))).toEqual(expected.map((col) => Array.from(col)));
    const outputs = decodeColumns(c.outputs, 2, 1000);
    const row = 5;
    const p = blackScholes({
      spot: inputs[0]![row]!,
      volatility: inputs[1]![row]!,
      rate: inputs[2]![row]!,
      maturity: inputs[3]![row]!,
      strike: 100,
      dividend: 0.01,
      type: 'put',
    });
    expect(outputs[0]![row]).toBe(Math.fround(p.price));
    expect(outputs[1]![row]).toBe(Math.fround(p.delta));
  });

  it('draws validation chunks from an independent uniform stream', async () => {
    await bus.publish(topics.jobs, { payload: Codecs.job.encode(job(v1.ChunkPurpose.VALIDATION, 2)) });
    await waitFor(() => chunks.length === 2, 5000, 'validation chunk');
    const training = decodeColumns(chunks[0]!.inputs, 4, 1000);
    const validation = decodeColumns(chunks[1]!.inputs, 4, 1000);
    const expected = chunkInputs({
      sampler: 'uniform',
      seed: 11,
      box: SPEC.inputs,
      start: 2000,
      count: 1000,
    });
    expect(Array.from(validation[0]!)).toEqual(Array.from(expected[0]!));
    expect(Array.from(validation[0]!)).not.toEqual(Array.from(training[0]!));
  });

  it('counts the jobs it priced, their samples and pricing time, for Prometheus', () => {
    const text = registry.exposition();
    expect(text).toContain('\nsurrogate_datagen_jobs_total{outcome="priced",pricer="black-scholes"} 2\n');
    expect(text).toContain('\nsurrogate_datagen_samples_total{pricer="black-scholes"} 2000\n');
    expect(text).toContain('\nsurrogate_datagen_chunk_seconds_count{pricer="black-scholes"} 2\n');
    expect(text).toContain('\nsurrogate_datagen_jobs_in_progress 0\n');
    expect(text).toContain('\nsurrogate_datagen_ended_experiments_known 0\n');
  });

  it('dead-letters an undecodable job and a job with an invalid spec, with reasons, and keeps working', async () => {
    await bus.publish(topics.jobs, { payload: new Uint8Array([0x0a, 0xff]) });
    const broken = specToWire(SPEC);
    broken.pricer = 'nope';
    await bus.publish(topics.jobs, { payload: Codecs.job.encode(job(v1.ChunkPurpose.TRAINING, 0, broken)) });
    await waitFor(() => dead.length === 2, 5000, 'dead letters');
    expect(dead[0]?.reason).toMatch(/not a valid surrogate\.v1\.DataGenJob/);
    expect(dead[1]?.reason).toMatch(/invalid spec.*pricer/s);
    await waitFor(() => events.filter((e) => eventKind(e) === 'deadLettered').length === 2, 5000);
    await bus.publish(topics.jobs, { payload: Codecs.job.encode(job(v1.ChunkPurpose.TRAINING, 3)) });
    await waitFor(() => chunks.length === 3, 5000, 'chunk after bad jobs');
    // a job's pricer is whatever its publisher wrote: metrics label it only with bounded values
    const text = registry.exposition();
    expect(text).toContain('\nsurrogate_datagen_jobs_total{outcome="failed",pricer="unknown"} 1\n');
    expect(text).not.toContain('pricer="nope"');
  });
});

describe('DatagenWorker with a pricer that throws', () => {
  it('retries the job, then reports a permanent failure and dead-letters it', async () => {
    const silent = createLogger({ name: 'w', level: 'silent' });
    const bus = createMemoryBus({ logger: silent });
    const topics = new Topics();
    const { failures, dead } = await recordWorkerOutput(bus, topics);
    const registry = new MetricsRegistry();
    const plugin = require.resolve('./test-fixtures/throwing-pricer');
    const worker = new DatagenWorker({
      bus,
      topics,
      threads: 1,
      pricerModules: [plugin],
      maxRedeliveries: 2,
      nackRedeliveryDelayMs: 20,
      logger: silent,
      metrics: registry,
    });
    await worker.start();
    try {
      const spec = parseSpec(
        'name: t\npricer: always-throws\ninputs: {x: {min: 0, max: 1}}\noutputs: [y]\nsamples: 10\n',
      );
      const job = v1.DataGenJob.create({
        experimentId: 'e',
        purpose: v1.ChunkPurpose.TRAINING,
        chunkIndex: 0,
        chunkCount: 1,
        startIndex: 0,
        sampleCount: 10,
        attempt: 1,
        spec: specToWire(spec),
      });
      await bus.publish(topics.jobs, { payload: Codecs.job.encode(job) });
      await waitFor(() => dead.length === 1, 5000, 'dead letter');
      expect(failures.map((f) => f.permanent)).toEqual([false, false, true]);
      expect(failures[2]?.reason).toMatch(/pricing library crashed \(after 3 deliveries\)/);
      expect(dead[0]?.reason).toMatch(/pricing library crashed/);
      // every delivery failed; none was priced, and nothing is left in progress
      const text = registry.exposition();
      expect(text).toContain('\nsurrogate_datagen_jobs_total{outcome="failed",pricer="always-throws"} 3\n');
      expect(text).not.toContain('outcome="priced"');
      expect(text).toContain('\nsurrogate_datagen_jobs_in_progress 0\n');
    } finally {
      await worker.stop();
      await bus.close();
    }
  });
});

describe('DatagenWorker and jobs that no worker can price', () => {
  const silent = createLogger({ name: 'w', level: 'silent' });
  let bus: Bus;
  let worker: DatagenWorker;
  const topics = new Topics();
  let chunks: v1.DataChunk[];
  let failures: v1.IChunkFailed[];
  let dead: WorkerOutput['dead'];
  const plugin = require.resolve('./test-fixtures/refusing-pricer');
  // The pricer refuses one point of training chunk 2 (samples 400…599: row 123 is sample 523), far
  // from the points the spec check probes (the corners and the first 256 of each stream).
  loadPricerModules([plugin]);
  const spec = parseSpec(
    'name: r\npricer: refuses-one-x\ninputs: {x: {min: 0, max: 1}}\noutputs: [y]\nsamples: 600\nchunkSize: 200\n',
  );

  beforeAll(async () => {
    bus = createMemoryBus({ logger: silent });
    ({ chunks, failures, dead } = await recordWorkerOutput(bus, topics));
    // A redelivery would come a minute later: every refusal below must be final at the first delivery.
    worker = new DatagenWorker({
      bus,
      topics,
      threads: 1,
      pricerModules: [plugin],
      nackRedeliveryDelayMs: 60_000,
      logger: silent,
      workerId: 'w-1',
    });
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop();
    await bus.close();
  });

  const job = (fields: Partial<v1.IDataGenJob>, wire: v1.IExperimentSpec = specToWire(spec)): Uint8Array =>
    Codecs.job.encode(
      v1.DataGenJob.create({
        experimentId: 'r',
        purpose: v1.ChunkPurpose.TRAINING,
        chunkIndex: 0,
        chunkCount: 3,
        startIndex: 0,
        sampleCount: 200,
        attempt: 1,
        spec: wire,
        ...fields,
      }),
    );

  it('dead-letters a job that names no experiment or no purpose (e.g. empty bytes) at once, naming the rule', async () => {
    await bus.publish(topics.jobs, { payload: new Uint8Array(0) });
    await waitFor(() => dead.length === 1, 10_000, 'dead letter');
    expect(dead[0]).toEqual({ reason: expect.stringMatching(/experimentId is empty/), redeliveries: '0' });
    await bus.publish(topics.jobs, { payload: job({ purpose: 0 as v1.ChunkPurpose }) });
    await waitFor(() => dead.length === 2, 10_000, 'dead letter');
    expect(dead[1]).toEqual({
      reason: expect.stringMatching(/purpose = 0 is neither TRAINING nor VALIDATION/),
      redeliveries: '0',
    });
    expect(failures).toEqual([]);
  });

  it('fails the chunk for good and dead-letters the job at once when its spec is invalid here', async () => {
    const broken = specToWire(spec);
    broken.pricer = 'not-loaded-here';
    await bus.publish(topics.jobs, { payload: job({ chunkIndex: 1, startIndex: 200 }, broken) });
    await waitFor(() => dead.length === 3 && failures.length === 1, 10_000, 'dead letter and chunk failed');
    expect(dead[2]).toEqual({
      reason: expect.stringMatching(/invalid spec.*unknown pricer "not-loaded-here"/s),
      redeliveries: '0',
    });
    expect(failures).toEqual([
      expect.objectContaining({
        chunkIndex: 1,
        code: 'SPEC_INVALID',
        permanent: true,
        reason: expect.stringMatching(/unknown pricer "not-loaded-here".*\(worker w-1\)/s),
      }),
    ]);
  });

  it('fails the chunk for good when its sample range cannot be a chunk of its spec', async () => {
    failures.length = 0;
    await bus.publish(topics.jobs, { payload: job({ sampleCount: 201 }) });
    await bus.publish(topics.jobs, { payload: job({ chunkIndex: 2, startIndex: 450 }) });
    await bus.publish(topics.jobs, { payload: job({ chunkIndex: 3, startIndex: 600 }) });
    await bus.publish(topics.jobs, { payload: job({ sampleCount: 0 }) });
    await waitFor(() => dead.length === 7 && failures.length === 4, 10_000, 'dead letters and chunks failed');
    expect(dead.slice(3).map((d) => d.redeliveries)).toEqual(['0', '0', '0', '0']);
    expect(failures.map((f) => [f.code, f.permanent, f.reason])).toEqual([
      ['JOB_INVALID', true, expect.stringMatching(/sampleCount = 201 must be between 1 and the spec's chunkSize 200/)],
      ['JOB_INVALID', true, expect.stringMatching(/samples \[450, 650\) must lie within the spec's 600 training samples/)],
      ['JOB_INVALID', true, expect.stringMatching(/chunkIndex = 3 must be below chunkCount = 3/)],
      ['JOB_INVALID', true, expect.stringMatching(/sampleCount = 0 must be between 1/)],
    ]);
    expect(chunks).toEqual([]);
  });

  it('fails the chunk for good at the first delivery when the local pricer refuses a sample (it would again)', async () => {
    failures.length = 0;
    await bus.publish(topics.jobs, { payload: job({ chunkIndex: 2, startIndex: 400 }) });
    await waitFor(() => dead.length === 8 && failures.length === 1, 10_000, 'dead letter and chunk failed');
    expect(dead[7]).toEqual({ reason: expect.stringMatching(/row 123: refuses-one-x: x = .* is refused/), redeliveries: '0' });
    expect(failures).toEqual([
      expect.objectContaining({ chunkIndex: 2, code: 'INVALID_PARAMETER', permanent: true }),
    ]);
    // and it keeps working: the chunk before it has no refused point
    await bus.publish(topics.jobs, { payload: job({ chunkIndex: 1, startIndex: 200 }) });
    await waitFor(() => chunks.length === 1, 10_000, 'chunk');
    expect(chunks[0]).toMatchObject({ experimentId: 'r', chunkIndex: 1, sampleCount: 200 });
  });
});

describe('DatagenWorker and outputs beyond float32', () => {
  it('fails the chunk for good when an output would travel as ±Infinity in float32, naming the sample', async () => {
    const silent = createLogger({ name: 'w', level: 'silent' });
    const bus = createMemoryBus({ logger: silent });
    const topics = new Topics();
    const { chunks, failures } = await recordWorkerOutput(bus, topics);
    const plugin = require.resolve('./test-fixtures/overflowing-pricer');
    loadPricerModules([plugin]);
    const worker = new DatagenWorker({ bus, topics, threads: 1, pricerModules: [plugin], logger: silent });
    await worker.start();
    try {
      const job = (max: number, chunkIndex: number): Uint8Array => {
        const spec = parseSpec(
          `name: o\npricer: overflows-float32\ninputs: {x: {min: 0, max: ${max}}}\noutputs: [y]\nsamples: 400\nchunkSize: 100\n`,
        );
        return Codecs.job.encode(
          v1.DataGenJob.create({
            experimentId: `o-${max}`,
            purpose: v1.ChunkPurpose.TRAINING,
            chunkIndex,
            chunkCount: 4,
            startIndex: chunkIndex * 100,
            sampleCount: 100,
            attempt: 1,
            spec: specToWire(spec),
          }),
        );
      };
      // x ≤ 0.8: every y ≤ 3.2e38 is a finite float32; the chunk is published
      await bus.publish(topics.jobs, { payload: job(0.8, 1) });
      await waitFor(() => chunks.length === 1, 10_000, 'chunk');
      const y = decodeColumns(chunks[0]!.outputs, 1, 100)[0]!;
      expect(Array.from(y).every((v) => Number.isFinite(v))).toBe(true);
      expect(Math.max(...y)).toBeGreaterThan(3e38);
      // x up to 1: some y are above 3.4028e38, which float32 rounds to Infinity
      const x = chunkInputs({ sampler: 'sobol', seed: 1, box: [{ name: 'x', min: 0, max: 1 }], start: 200, count: 100 })[0]!;
      const row = x.findIndex((v) => !Number.isFinite(Math.fround(v * 4e38)));
      expect(row).toBeGreaterThanOrEqual(0);
      await bus.publish(topics.jobs, { payload: job(1, 2) });
      await waitFor(() => failures.length === 1, 10_000, 'chunk failed');
      expect(failures[0]).toMatchObject({ chunkIndex: 2, code: 'NON_FINITE_OUTPUT', permanent: true });
      expect(failures[0]!.reason).toContain(`returned ${x[row]! * 4e38} for y at sample ${200 + row}`);
      expect(failures[0]!.reason).toMatch(/beyond the float32 range .* where it is Infinity; non-finite values are never trained on/);
      expect(chunks).toHaveLength(1);
    } finally {
      await worker.stop();
      await bus.close();
    }
  });
});
