import * as ort from 'onnxruntime-node';
import { layerShapes, type MlpConfig } from './mlp-config';
import { GraphBuilder } from './onnx-builder';
import { createSession } from './ort-session';

/**
 * Floating-point operations of one training step (forward, backward, excluding the elementwise
 * work): per layer 2·B·fanIn·fanOut for z = h·W, as much for ∂W = hᵀ·∂z, and as much again for
 * ∂h = ∂z·Wᵀ except at the first layer, whose input needs no gradient.
 */
export function trainingStepFlops(mlp: MlpConfig, batch: number): number {
  return layerShapes(mlp).reduce((sum, { fanIn, fanOut }, l) => sum + (l === 0 ? 4 : 6) * batch * fanIn * fanOut, 0);
}

/**
 * The GFLOP/s onnxruntime reaches on a square float32 MatMul of side `size` with `threads` intra-op
 * threads, over about `seconds` of repeated runs after a warm-up: the peak a training step is
 * compared with.
 */
export async function matmulPeakGflops(o: { size?: number; threads?: number; seconds?: number } = {}): Promise<number> {
  const n = o.size ?? 1024;
  const g = new GraphBuilder('float32');
  const a = g.input('a', [n, n]);
  const b = g.input('b', [n, n]);
  g.output('c', g.op1('MatMul', [a, b]), [n, n]);
  const session = await createSession(g.encode({ name: 'matmul_peak' }), o.threads ?? 1, true);
  try {
    const fill = (): Float32Array => Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const feeds = { a: new ort.Tensor('float32', fill(), [n, n]), b: new ort.Tensor('float32', fill(), [n, n]) };
    await session.run(feeds); // warm-up
    let best = 0;
    const deadline = performance.now() + 1000 * (o.seconds ?? 1);
    do {
      const t0 = performance.now();
      await session.run(feeds);
      const secs = (performance.now() - t0) / 1000;
      best = Math.max(best, (2 * n * n * n) / secs / 1e9);
    } while (performance.now() < deadline);
    return best;
  } finally {
    await session.release();
  }
}
