import * as ort from 'onnxruntime-node';
import { emitForward, emitUnflatten } from './mlp-graph';
import { GraphBuilder } from './onnx-builder';
import { parameterCount, type MlpConfig } from './mlp-config';
import { createSession, type Device } from './ort-session';
import { rowWidth, type NormalizedRows } from './train-loop';

/**
 * Residuals (network output − target, normalized units) of given parameters over every training
 * row, by chunked forward passes. The targets are read from the rows at each call, so a caller
 * that rewrites them (residual stages) sees the new ones.
 */
export class RowResiduals {
  private static readonly CHUNK = 65536;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly mlp: MlpConfig,
    private readonly data: NormalizedRows,
  ) {}

  static async create(mlp: MlpConfig, data: NormalizedRows, threads: number, device: Device = 'cpu'): Promise<RowResiduals> {
    const g = new GraphBuilder('float32');
    const theta = g.input('theta', [parameterCount(mlp)]);
    const x = g.input('x', ['N', mlp.inputDim]);
    const y = g.input('y', ['N', mlp.outputDim]);
    const out = emitForward(g, mlp, x, emitUnflatten(g, mlp, theta)).output;
    g.output('r', g.op1('Sub', [out, y]), ['N', mlp.outputDim]);
    return new RowResiduals(await createSession(g.encode({ name: 'mlp_row_residuals' }), threads, false, device), mlp, data);
  }

  /** Row-major [count, K] residuals out − y. */
  async residuals(theta: ort.Tensor): Promise<Float32Array> {
    const { count, rows } = this.data;
    const D = this.mlp.inputDim;
    const K = this.mlp.outputDim;
    const W = rowWidth(this.mlp, this.data.weighted);
    const out = new Float32Array(count * K);
    const x = new Float32Array(RowResiduals.CHUNK * D);
    const y = new Float32Array(RowResiduals.CHUNK * K);
    for (let first = 0; first < count; first += RowResiduals.CHUNK) {
      const n = Math.min(RowResiduals.CHUNK, count - first);
      // de-interleave into plain (non-shared) buffers: onnxruntime-node rejects shared memory
      for (let i = 0; i < n; i++) {
        const r = (first + i) * W;
        for (let j = 0; j < D; j++) x[i * D + j] = rows[r + j];
        for (let k = 0; k < K; k++) y[i * K + k] = rows[r + D + k];
      }
      const res = await this.session.run({
        theta,
        x: new ort.Tensor('float32', x.subarray(0, n * D), [n, D]),
        y: new ort.Tensor('float32', y.subarray(0, n * K), [n, K]),
      });
      out.set(res.r.data as Float32Array, first * K);
    }
    return out;
  }

  /** Per-row squared error Σₖ wₖ·rₖ² of the parameters (wₖ = 1 without a weighted loss). */
  async squaredErrors(theta: ort.Tensor): Promise<Float32Array> {
    const r = await this.residuals(theta);
    return weightedRowSquares(r, this.data, this.mlp, new Array<number>(this.mlp.outputDim).fill(1));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Per-row Σₖ wₖ·(rₖ·scaleₖ)² of residuals r [count, K], with the rows' loss weights wₖ (1 each
 * when the rows carry none).
 */
export function weightedRowSquares(r: Float32Array, data: NormalizedRows, mlp: MlpConfig, scale: readonly number[]): Float32Array {
  const D = mlp.inputDim;
  const K = mlp.outputDim;
  const W = rowWidth(mlp, data.weighted);
  const e2 = new Float32Array(data.count);
  for (let i = 0; i < data.count; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = r[i * K + k] * scale[k];
      s += (data.weighted ? data.rows[i * W + D + K + k] : 1) * e * e;
    }
    e2[i] = s;
  }
  return e2;
}
