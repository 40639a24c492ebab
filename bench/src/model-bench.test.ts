import { benchInfer, benchTrain, formatInferBench, formatTrainBench } from './index';

// Shapes and consistency only: speed is what the benchmarks print, never what a test asserts.
describe('bench train and bench infer', () => {
  it('bench train reports the training step against the matmul peak, and the sweep', async () => {
    const r = await benchTrain({ seconds: 0.3, sweep: { batchSizes: [64], widths: [16, 32] } });
    expect(r.samplesPerSec).toBeGreaterThan(0);
    // the peak is the best MatMul rate of the whole run: the square sizes and every shape's own product
    expect(r.peakGflops).toBe(Math.max(...r.peakBySize.map((p) => p.gflops), r.default.matmulGflops, ...r.sweep.map((s) => s.matmulGflops)));
    expect(r.peakGflops).toBeGreaterThanOrEqual(Math.max(...r.peakBySize.map((p) => p.gflops)));
    expect(r.peakBySize.map((p) => p.size)).toEqual([128, 256, 512, 1024]);
    expect(r.efficiency).toBeCloseTo(r.gflops / r.peakGflops, 12);
    expect(r.mlp.hiddenLayers).toEqual([64, 64, 64]);
    expect(r.default.matmulGflops).toBeGreaterThan(0);
    expect(r.sweep.map((s) => [s.batchSize, s.hiddenLayers])).toEqual([
      [64, [16, 16, 16]],
      [64, [32, 32, 32]],
    ]);
    for (const s of r.sweep) {
      // 4→w→w→w→1: 4·4·w + 6·w·w·2 + 6·w matmul operations per sample
      const w = s.hiddenLayers[0];
      expect(s.gflops).toBeCloseTo((s.samplesPerSec * (16 * w + 12 * w * w + 6 * w)) / 1e9, 9);
      expect(s.efficiency).toBeCloseTo(s.gflops / r.peakGflops, 12);
    }
    expect(formatTrainBench(r)).toContain('batch    64, width   32');
    await expect(benchTrain({ seconds: 0.1, sweep: { batchSizes: [0], widths: [8] } })).rejects.toMatchObject({ code: 'BENCH_BAD_OPTION' });
  });

  it('bench infer reports in-process rates, gRPC latency against a server process and the speed-up over the pricer', async () => {
    const r = await benchInfer({ seconds: 0.2, grpcWarmupCalls: 600 });
    expect(r.model.pricer).toBe('heston');
    // the default model: 2 stages of 7→64→64→64→1, 2 FLOP per weight
    expect(r.model.stages).toBe(2);
    expect(r.model.flopsPerPrediction).toBe(2 * 2 * (7 * 64 + 64 * 64 + 64 * 64 + 64));
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.machine.loadAverageStart).toHaveLength(3);
    for (const s of r.inProcess.sweep) {
      expect(s.predictionsPerSec).toBeGreaterThan(0);
      expect(s.gflops).toBeCloseTo((s.predictionsPerSec * r.model.flopsPerPrediction) / 1e9, 9);
    }
    const one = r.inProcess.sweep.filter((s) => s.threads === 1);
    expect(one.map((s) => s.batch)).toEqual([1, 64, 256, 1024, 4096, 16384]);
    expect(r.inProcess.batch1.predictionsPerSec).toBe(one[0].predictionsPerSec);
    expect(r.inProcess.batch4096.predictionsPerSec).toBe(one.find((s) => s.batch === 4096)?.predictionsPerSec);
    expect(r.inProcess.best.predictionsPerSec).toBe(Math.max(...r.inProcess.sweep.map((s) => s.predictionsPerSec)));
    for (const g of [r.grpc, ...(r.grpcTls ? [r.grpcTls] : [])]) {
      expect(g.calls).toBeGreaterThan(0);
      expect(g.warmupCalls).toBeGreaterThanOrEqual(600);
      expect(g.warmup.p99Ms).toBeGreaterThanOrEqual(g.warmup.p50Ms);
      expect(g.p50Ms).toBeGreaterThan(0);
      expect(g.p90Ms).toBeGreaterThanOrEqual(g.p50Ms);
      expect(g.p99Ms).toBeGreaterThanOrEqual(g.p90Ms);
      expect(g.maxMs).toBeGreaterThanOrEqual(g.p99Ms);
      expect(g.slowCalls.count).toBeLessThanOrEqual(g.calls);
      expect(g.slowCalls.duringServerGc).toBeLessThanOrEqual(g.slowCalls.count);
      expect(g.slowCalls.duringClientGc).toBeLessThanOrEqual(g.slowCalls.count);
      expect(g.serverCpuUsPerCall).toBeGreaterThan(0);
      if (process.platform === 'linux') expect(g.serverRunQueueUsPerCall).toBeGreaterThanOrEqual(0);
      expect(g.method).toContain('separate process');
    }
    expect(r.grpc.tls).toBe(false);
    // CI installs openssl (the gRPC TLS tests need it): the TLS figures are there
    expect(r.grpcTls?.tls).toBe(true);
    expect(r.grpcTls?.token).toBe(true);
    expect(r.speedup).toBeCloseTo(r.inProcess.batch4096.predictionsPerSec / r.pricerSamplesPerSec, 9);
    expect(r.speedupTarget.gflopsPerCoreNeeded).toBeCloseTo((1000 * r.pricerSamplesPerSec * r.model.flopsPerPrediction) / 1e9, 6);
    expect(formatInferBench(r)).toContain('faster');
    await expect(benchInfer({ model: '/nonexistent/model.onnx', seconds: 0.1 })).rejects.toMatchObject({ code: 'BENCH_BAD_OPTION' });
    await expect(benchInfer({ seconds: 0.1, grpcWarmupCalls: -1 })).rejects.toMatchObject({ code: 'BENCH_BAD_OPTION', message: expect.stringContaining('grpcWarmupCalls = -1') });
  }, 60_000);
});
