import { benchInfer, benchTrain, formatInferBench, formatTrainBench } from './index';

// Shapes and consistency only: speed is what the benchmarks print, never what a test asserts.
describe('bench train and bench infer', () => {
  it('bench train reports the training step against the matmul peak, and the sweep', async () => {
    const r = await benchTrain({ seconds: 0.3, sweep: { batchSizes: [64], widths: [16, 32] } });
    expect(r.samplesPerSec).toBeGreaterThan(0);
    expect(r.peakGflops).toBe(Math.max(...r.peakBySize.map((p) => p.gflops)));
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

  it('bench infer reports in-process rates, gRPC latency and the speed-up over the pricer', async () => {
    const r = await benchInfer({ seconds: 0.2 });
    expect(r.model.pricer).toBe('heston');
    expect(r.inProcess.batch1.predictionsPerSec).toBeGreaterThan(0);
    expect(r.inProcess.batch4096.predictionsPerSec).toBeGreaterThan(0);
    expect(r.grpc.calls).toBeGreaterThan(0);
    expect(r.grpc.p99Ms).toBeGreaterThanOrEqual(r.grpc.p50Ms);
    expect(r.speedup).toBeCloseTo(r.inProcess.batch4096.predictionsPerSec / r.pricerSamplesPerSec, 9);
    expect(formatInferBench(r)).toContain('faster');
    await expect(benchInfer({ model: '/nonexistent/model.onnx', seconds: 0.1 })).rejects.toMatchObject({ code: 'BENCH_BAD_OPTION' });
  });
});
