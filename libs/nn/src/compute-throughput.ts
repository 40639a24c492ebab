import * as ort from 'onnxruntime-node';
import { layerShapes, type MlpConfig } from './mlp-config';
import { NnError } from './nn-error';
import { GraphBuilder } from './onnx-builder';
import { createSession } from './ort-session';

/**
 * Floating-point operations of one training step's matrix products, the only work counted:
 * per layer 2·B·fanIn·fanOut for z = h·W, as much for ∂W = hᵀ·∂z, and as much again for
 * ∂h = ∂z·Wᵀ except at the first layer, whose input needs no gradient. Not counted (so the
 * achieved rate is, if anything, understated): bias additions, the bias gradients' column sums,
 * the activations and their derivatives, the loss, and the Adam(W) update (all elementwise).
 */
export function trainingStepFlops(mlp: MlpConfig, batch: number): number {
  return layerShapes(mlp).reduce((sum, { fanIn, fanOut }, l) => sum + (l === 0 ? 4 : 6) * batch * fanIn * fanOut, 0);
}

/** The square sizes matmulPeakGflops tries by default; onnxruntime's MatMul is fastest in this range. */
export const MATMUL_PEAK_SIZES: readonly number[] = [128, 256, 512, 1024];

/** Roughly how many floating-point operations one timed session.run does (enough to hide its fixed cost). */
const FLOPS_PER_RUN = 2e8;

/**
 * The best GFLOP/s onnxruntime's float32 MatMul reaches with `threads` intra-op threads (default
 * 1), over `sizes` (square sides; default MATMUL_PEAK_SIZES; `size` = just that one; `shape` =
 * just the product [m, k]·[k, n]), each timed for about `seconds`/sizes.length of repeated runs
 * after a warm-up; the best run counts. This is the peak a training step is compared with: the
 * same runtime and threads, at the shapes it does best. See matmulGflops.
 */
export async function matmulPeakGflops(
  o: { size?: number; sizes?: readonly number[]; shape?: { m: number; k: number; n: number }; threads?: number; seconds?: number } = {},
): Promise<number> {
  const shapes =
    o.shape !== undefined
      ? [o.shape]
      : (o.size !== undefined ? [o.size] : (o.sizes ?? MATMUL_PEAK_SIZES)).map((n) => ({ m: n, k: n, n }));
  if (shapes.length === 0) throw new NnError('NN_INVALID_CONFIG', 'sizes: empty; give at least one matrix size');
  const seconds = (o.seconds ?? 1) / shapes.length;
  let best = 0;
  for (const shape of shapes) best = Math.max(best, await matmulGflops({ ...shape, threads: o.threads, seconds }));
  return best;
}

/**
 * The best GFLOP/s of onnxruntime's float32 MatMul on [m, k]·[k, n] with `threads` intra-op
 * threads (default 1) over about `seconds` of runs after a warm-up. Small products are chained
 * (x ← x·W_i with k = n; otherwise independent products of the same x) so that each session.run
 * does about 2·10⁸ operations and its fixed cost does not count against the kernel.
 */
export async function matmulGflops(o: { m: number; k: number; n: number; threads?: number; seconds?: number }): Promise<number> {
  const { m, k, n } = o;
  for (const [name, v] of Object.entries({ m, k, n })) {
    if (!Number.isInteger(v) || v < 1) throw new NnError('NN_INVALID_CONFIG', `${name} = ${v}: must be a positive integer`);
  }
  const flopsPerProduct = 2 * m * k * n;
  const reps = Math.max(1, Math.min(64, Math.round(FLOPS_PER_RUN / flopsPerProduct)));
  const g = new GraphBuilder('float32');
  const x = g.input('x', [m, k]);
  // weights ±1/√k with a fixed sign pattern: chained products keep their scale (no overflow, no
  // subnormals, which would slow the kernel down)
  const weights = Float32Array.from({ length: k * n }, (_, i) => (((i * 2654435761) >>> 13) & 1 ? 1 : -1) / Math.sqrt(k));
  let h = x;
  const outs: string[] = [];
  for (let r = 0; r < reps; r++) {
    const w = g.constant(weights, [k, n], 'float32', `w${r}`);
    if (k === n) h = g.op1('MatMul', [h, w]);
    else outs.push(g.op1('MatMul', [x, w]));
  }
  if (k === n) g.output('y', h, [m, n]);
  else outs.forEach((out, r) => g.output(`y${r}`, out, [m, n]));
  const session = await createSession(g.encode({ name: 'matmul_rate' }), o.threads ?? 1, true);
  try {
    const feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [m, k]) };
    await session.run(feeds); // warm-up
    let best = 0;
    const deadline = performance.now() + 1000 * (o.seconds ?? 1);
    do {
      const t0 = performance.now();
      await session.run(feeds);
      const secs = (performance.now() - t0) / 1000;
      best = Math.max(best, (reps * flopsPerProduct) / secs / 1e9);
    } while (performance.now() < deadline);
    return best;
  } finally {
    await session.release();
  }
}
