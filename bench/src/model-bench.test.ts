import { benchInfer, benchTrain, formatInferBench, formatTrainBench } from './index';

// Shapes and consistency only: speed is what the benchmarks print, never what a test asserts.
describe('bench train and bench infer', () => {
  it('bench train reports the training step against the matmul peak', async () => {
    const r = await benchTrain({ seconds: 0.3 });
    expect(r.samplesPerSec).toBeGreaterThan(0);
    expect(r.peakGflops).toBeGreaterThan(0);
    expect(r.efficiency).toBeCloseTo(r.gflops / r.peakGflops, 12);
    expect(r.mlp.hiddenLayers).toEqual([64, 64, 64]);
    expect(formatTrainBench(r)).toContain('GFLOP/s');
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
