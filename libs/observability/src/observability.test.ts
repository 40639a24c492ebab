import { request } from 'node:http';
import { parseListenAddress } from '@surrogate/core';
import { Counter, Histogram, MetricsRegistry, ObservabilityServer, registerProcessMetrics } from './index';

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics in the Prometheus text format', () => {
  it('writes HELP, TYPE and samples; labels escaped; histogram buckets cumulative with +Inf, _sum and _count', () => {
    const r = new MetricsRegistry({ service: 'model-server' });
    const calls = r.counter('rpc_calls_total', 'Calls answered,\nby code.', ['method', 'code']);
    calls.inc({ method: 'Predict', code: 'OK' });
    calls.inc({ code: 'OK', method: 'Predict' }, 2); // label order does not matter
    calls.inc({ method: 'Pre"di\\ct', code: 'INVALID_ARGUMENT' });
    r.gauge('queue_depth', 'Jobs waiting.').set(-3.5);
    const h = r.histogram('latency_seconds', 'Call latency.', [0.001, 0.01, 0.1]);
    for (const v of [0.0005, 0.001, 0.002, 0.05, 3, Number.NaN]) h.observe(v);
    expect(r.exposition()).toBe(
      [
        '# HELP rpc_calls_total Calls answered,\\nby code.',
        '# TYPE rpc_calls_total counter',
        'rpc_calls_total{service="model-server",method="Predict",code="OK"} 3',
        'rpc_calls_total{service="model-server",method="Pre\\"di\\\\ct",code="INVALID_ARGUMENT"} 1',
        '# HELP queue_depth Jobs waiting.',
        '# TYPE queue_depth gauge',
        'queue_depth{service="model-server"} -3.5',
        '# HELP latency_seconds Call latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{service="model-server",le="0.001"} 2', // le is inclusive
        'latency_seconds_bucket{service="model-server",le="0.01"} 3',
        'latency_seconds_bucket{service="model-server",le="0.1"} 4',
        'latency_seconds_bucket{service="model-server",le="+Inf"} 5',
        `latency_seconds_sum{service="model-server"} ${0.0005 + 0.001 + 0.002 + 0.05 + 3}`,
        'latency_seconds_count{service="model-server"} 5',
        '',
      ].join('\n'),
    );
    expect(h.get()).toEqual({ count: 5, sum: 0.0005 + 0.001 + 0.002 + 0.05 + 3 });
    expect(calls.get({ method: 'Predict', code: 'OK' })).toBe(3);
  });

  it('refuses what would break the format or a counter\'s meaning, naming the metric and the rule', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter('bad-name', 'x')).toThrow(/metric name "bad-name": must match/);
    expect(() => r.counter('ok_total', 'x', ['__reserved'])).toThrow(/label name "__reserved" is not allowed/);
    expect(() => r.histogram('h', 'x', [0.1], ['le'])).toThrow(/label name "le" is not allowed/);
    expect(() => r.histogram('h2', 'x', [0.1, 0.1])).toThrow(/must be finite and strictly increasing/);
    const c = r.counter('c_total', 'x', ['code']);
    expect(() => c.inc({ code: 'OK' }, -1)).toThrow(/a counter increases by a finite amount ≥ 0/);
    expect(() => c.inc({})).toThrow(/labels \{\} must be exactly \{code\}; missing code/);
    expect(() => c.inc({ code: 'OK', extra: 'x' })).toThrow(/unknown extra/);
    expect(() => r.counter('c_total', 'again')).toThrow(/registered already/);
    const total = new Counter('t_total', 'x');
    total.setTotal(5);
    expect(() => total.setTotal(4)).toThrow(/never goes down/);
    expect(() => new MetricsRegistry({ 'bad label': 'x' })).toThrow(/label name "bad label"/);
    expect(() => new Histogram('h3', 'x', [])).toThrow(/strictly increasing/);
  });

  it('reads the process\'s CPU, memory and event-loop delay at each scrape', async () => {
    const r = new MetricsRegistry();
    const stop = registerProcessMetrics(r);
    try {
      const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      const before = value(r.exposition(), 'process_cpu_seconds_total');
      // the monitor runs on the loop's timers, and takes its first tick after a scrape as its baseline
      await new Promise((resolve) => setTimeout(resolve, 30));
      const until = Date.now() + 80;
      while (Date.now() < until); // block the loop for 80 ms, burning CPU
      await new Promise((resolve) => setTimeout(resolve, 30)); // let the monitor see the delay
      const text = r.exposition();
      expect(value(text, 'process_cpu_seconds_total')).toBeGreaterThanOrEqual(before + 0.05);
      expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
      expect(value(text, 'nodejs_heap_used_bytes')).toBeGreaterThan(1e5);
      expect(value(text, 'nodejs_eventloop_delay_max_seconds')).toBeGreaterThanOrEqual(0.06);
      expect(Math.abs(value(text, 'process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(1);
      // the delay figures cover the time since the previous scrape
      expect(value(r.exposition(), 'nodejs_eventloop_delay_max_seconds')).toBeLessThan(0.06);
    } finally {
      stop();
    }
  });
});

describe('the observability endpoint', () => {
  it('serves /metrics, /healthz and /readyz (503 with the reason until ready); 404 and 405 otherwise', async () => {
    const registry = new MetricsRegistry();
    registry.counter('hits_total', 'Hits.').inc();
    let notReady: string | undefined = 'not connected to the broker';
    const server = await ObservabilityServer.start({ address: '127.0.0.1:0', registry, ready: () => notReady });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      const metrics = await get(`${server.url}/metrics`);
      expect(metrics).toMatchObject({ status: 200, type: 'text/plain; version=0.0.4; charset=utf-8' });
      expect(metrics.body).toContain('\nhits_total 1\n');
      expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
      expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: not connected to the broker\n' });
      notReady = undefined;
      expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });
      expect((await get(`${server.url}/metrics?x=1`)).status).toBe(200);
      expect(await get(`${server.url}/metrics`, 'HEAD')).toMatchObject({ status: 200, body: '' });
      expect((await get(`${server.url}/other`)).status).toBe(404);
      expect((await get(`${server.url}/metrics`, 'POST')).status).toBe(405);
    } finally {
      await server.stop();
    }
  });

  it('says why it cannot listen: a malformed address, a port in use', async () => {
    const registry = new MetricsRegistry();
    await expect(ObservabilityServer.start({ address: 'localhost', registry })).rejects.toMatchObject({
      code: 'METRICS_LISTEN_FAILED',
      message: expect.stringContaining('must be host:port'),
    });
    const first = await ObservabilityServer.start({ address: '127.0.0.1:0', registry });
    try {
      await expect(ObservabilityServer.start({ address: `127.0.0.1:${first.port}`, registry })).rejects.toMatchObject({
        code: 'METRICS_LISTEN_FAILED',
        message: expect.stringMatching(/cannot listen on 127\.0\.0\.1:\d+ for metrics: .*EADDRINUSE/),
      });
    } finally {
      await first.stop();
    }
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseListenAddress('0.0.0.0:70000')).toBeUndefined();
  });
});
