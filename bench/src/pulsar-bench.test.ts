/**
 * `surrogate bench pulsar` against the real broker with tiny durations: the report's shape and
 * positive figures (no timing assertions), and its errors for bad options and a missing reference.
 */
import { createLogger } from '@surrogate/core';
import { BROKER_START_TIMEOUT_MS, brokerUrl } from '@surrogate/testing';
import { BenchError } from './bench-error';
import { type PulsarBenchOptions, benchPulsar, formatPulsarBench, settingsFor } from './pulsar-bench';
import { parsePerfLog } from './pulsar-perf';

const quiet = createLogger({ name: 'bench-test', level: process.env.LOG_LEVEL ?? 'silent' });

async function errorOf(run: Promise<unknown>): Promise<BenchError> {
  try {
    await run;
  } catch (err) {
    return err as BenchError;
  }
  throw new Error('expected the bench to fail');
}

it(
  'measures both clients in both modes and reports positive figures',
  async () => {
    const report = await benchPulsar({ pulsarUrl: brokerUrl(), sizes: [1024], seconds: 1, logger: quiet });
    expect(report.results.map((r) => [r.size, r.mode])).toEqual([
      [1024, 'produce'],
      [1024, 'consume'],
    ]);
    for (const r of report.results) {
      for (const side of [r.ours, r.java]) {
        expect(side.msgsPerSec).toBeGreaterThan(0);
        // MB/s is msgs/s times the size, in MiB.
        expect(side.mbPerSec).toBeCloseTo((side.msgsPerSec * 1024) / 2 ** 20, 2);
      }
      expect(r.ratio).toBeCloseTo(r.ours.msgsPerSec / r.java.msgsPerSec, 2);
    }
    const table = formatPulsarBench(report);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toMatch(/^size\s+mode\s+ours msg\/s/);
  },
  BROKER_START_TIMEOUT_MS + 180_000,
);

it('rejects bad options with BENCH_BAD_OPTION naming the field', async () => {
  const url = 'pulsar://127.0.0.1:6650';
  for (const [options, field] of [
    [{ pulsarUrl: 'http://x' }, 'pulsarUrl'],
    [{ pulsarUrl: url, sizes: [] }, 'sizes'],
    [{ pulsarUrl: url, sizes: [0] }, 'sizes'],
    [{ pulsarUrl: url, sizes: [1.5] }, 'sizes'],
    [{ pulsarUrl: url, sizes: [6 * 1024 * 1024] }, 'sizes'],
    [{ pulsarUrl: url, seconds: 0 }, 'seconds'],
    [{ pulsarUrl: url, seconds: Number.NaN }, 'seconds'],
  ] as [Omit<PulsarBenchOptions, 'logger'>, string][]) {
    const err = await errorOf(benchPulsar({ ...options, logger: quiet }));
    expect({ field, code: err.code, details: err.details }).toMatchObject({
      field,
      code: 'BENCH_BAD_OPTION',
      details: { field },
    });
  }
});

it('fails with BENCH_REFERENCE_UNAVAILABLE when Java or pulsar-perf cannot run', async () => {
  const noJava = await errorOf(
    benchPulsar({ pulsarUrl: 'pulsar://127.0.0.1:6650', java: '/nonexistent/bin/java', logger: quiet }),
  );
  expect(noJava.code).toBe('BENCH_REFERENCE_UNAVAILABLE');
  expect(noJava.message).toMatch(/cannot run Java.*JDK 17/);
  const noPerf = await errorOf(
    benchPulsar({ pulsarUrl: 'pulsar://127.0.0.1:6650', classpath: '/nonexistent.jar', logger: quiet }),
  );
  expect(noPerf.code).toBe('BENCH_REFERENCE_UNAVAILABLE');
  expect(noPerf.message).toMatch(/pulsar-perf .* does not start/);
}, 120_000);

it('reads pulsar-perf’s count and its own start and DONE times from its log', () => {
  const log = [
    '08:26:57.002 INFO  PerformanceProducer - Starting Pulsar perf producer with config: {',
    '08:26:58.409 INFO  PerformanceProducer - Created 1 producers',
    '08:27:06.418 INFO  PerformanceProducer - ------------- DONE (reached the maximum duration: [8 seconds] of production) --------------',
    '08:27:07.042 INFO  PerformanceProducer - Aggregated throughput stats --- 472162 records sent --- 47030.710 msg/s --- 367.427 Mbit/s ',
  ].join('\n');
  const run = parsePerfLog(log, /PerformanceProducer - Created \d+ producers/);
  expect(run.messages).toBe(472162);
  expect(run.seconds).toBeCloseTo(8.009, 6);
  const overMidnight = log.replace('08:26:58.409', '23:59:59.500').replace('08:27:06.418', '00:00:07.500');
  expect(parsePerfLog(overMidnight, /Created \d+ producers/).seconds).toBeCloseTo(8, 6);
  expect(() => parsePerfLog('nothing useful', /Created/)).toThrow(BenchError);
});

it('uses the same settings for both sides: batching up to 16 KiB, pending and queue within 64 MiB', () => {
  expect(settingsFor('u', 100)).toMatchObject({ batching: true, maxPending: 1000, receiverQueueSize: 1000 });
  expect(settingsFor('u', 65536)).toMatchObject({
    batching: false,
    maxPending: 1000,
    receiverQueueSize: 1000,
  });
  expect(settingsFor('u', 1 << 20)).toMatchObject({ batching: false, maxPending: 64, receiverQueueSize: 64 });
});
