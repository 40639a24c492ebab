import * as ort from 'onnxruntime-node';
import { NnError } from './nn-error';
import { createSession } from './ort-session';

/**
 * The target of a residual stage, computed on the fly: y' = (y − model(x) − shift) / scale per
 * output, where x and y are the normalized inputs and outputs and `model` is what the earlier
 * stages predict (in stage-0 normalized units, shifts included).
 */
export interface TargetAdjustment {
  /** ONNX bytes of a graph with one float32 input [N, D] (normalized x) and one float32 output [N, K]. */
  model: Uint8Array;
  /** Per output, finite and > 0. */
  scale: readonly number[];
  /** Per output, finite. */
  shift: readonly number[];
}

/** Throws NN_INVALID_CONFIG unless `a` fits K outputs. */
export function validateTargetAdjustment(a: TargetAdjustment, outputDim: number): void {
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new NnError('NN_INVALID_CONFIG', `target adjustment: ${field} must be ${rule}, got ${String(value)}`, { details: { field, value, rule } });
  };
  if (!(a.model instanceof Uint8Array) || a.model.length === 0) fail('model', a.model, 'non-empty ONNX bytes');
  if (!Array.isArray(a.scale) || a.scale.length !== outputDim) fail('scale', a.scale, `an array of ${outputDim} numbers`);
  if (!Array.isArray(a.shift) || a.shift.length !== outputDim) fail('shift', a.shift, `an array of ${outputDim} numbers`);
  a.scale.forEach((s, k) => {
    if (!(Number.isFinite(s) && s > 0)) fail(`scale[${k}]`, s, 'finite and > 0');
  });
  a.shift.forEach((s, k) => {
    if (!Number.isFinite(s)) fail(`shift[${k}]`, s, 'finite');
  });
}

/** Applies a TargetAdjustment to blocks of normalized rows (one onnxruntime run per block). */
export class TargetAdjuster {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputDim: number,
    private readonly outputDim: number,
    private readonly scale: Float64Array,
    private readonly shift: Float64Array,
  ) {}

  /** One intra-op thread: the adjuster runs beside training, on the loader thread. */
  static async create(a: TargetAdjustment, inputDim: number, outputDim: number): Promise<TargetAdjuster> {
    validateTargetAdjustment(a, outputDim);
    let session: ort.InferenceSession;
    try {
      session = await createSession(a.model, 1);
    } catch (err) {
      throw new NnError('NN_INVALID_MODEL', `target adjustment: onnxruntime rejected the model: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
      await session.release();
      throw new NnError('NN_INVALID_MODEL', `target adjustment: the model needs one input and one output, it has ${session.inputNames.length} and ${session.outputNames.length}`);
    }
    return new TargetAdjuster(session, inputDim, outputDim, Float64Array.from(a.scale), Float64Array.from(a.shift));
  }

  /** y[0 … count·K) ← (y − model(x) − shift) / scale, with x the first count·D values of `x`. */
  async apply(x: Float32Array, y: Float32Array, count: number): Promise<void> {
    const D = this.inputDim;
    const K = this.outputDim;
    const out = await this.session.run({ [this.session.inputNames[0]]: new ort.Tensor('float32', x.subarray(0, count * D), [count, D]) });
    const m = out[this.session.outputNames[0]];
    if (m.type !== 'float32' || m.data.length !== count * K) {
      throw new NnError('NN_INVALID_MODEL', `target adjustment: the model returned ${m.type} × ${m.data.length} values for ${count} rows, expected float32 × ${count * K}`, {
        details: { type: m.type, length: m.data.length, expected: count * K },
      });
    }
    const p = m.data as Float32Array;
    const { scale, shift } = this;
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < K; k++) y[i * K + k] = (y[i * K + k] - p[i * K + k] - shift[k]) / scale[k];
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
