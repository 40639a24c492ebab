import { attr, type GraphBuilder } from './onnx-builder';
import { layerShapes, parameterShapes, type Activation, type MlpConfig } from './mlp-config';

/** One dense layer's parameters as graph values: W [fanIn, fanOut], b [fanOut]. */
export interface LayerValues {
  W: string;
  b: string;
}

/** What the forward pass keeps for the backward pass. */
export interface ForwardTrace {
  /** Layer inputs h0 = x, h1, …, h(L-1). */
  layerInputs: string[];
  /** Pre-activations of the hidden layers. */
  preActivations: string[];
  /** Per hidden layer, whatever the activation's derivative needs. */
  saved: string[][];
  /** The network output (pre-denormalization), [N, K]. */
  output: string;
}

/** Emits h = act(z); returns h and the values the derivative needs. */
export function emitActivation(g: GraphBuilder, z: string, activation: Activation): { h: string; saved: string[] } {
  switch (activation) {
    case 'tanh': {
      const h = g.op1('Tanh', [z]);
      return { h, saved: [h] };
    }
    case 'silu': {
      const s = g.op1('Sigmoid', [z]);
      const h = g.op1('Mul', [z, s]);
      return { h, saved: [s, h] };
    }
    case 'softplus': {
      // softplus(z) = log(1 + eᶻ) = max(z, 0) − log σ(|z|): stable for any z, and built from
      // vectorized kernels (ONNX Softplus has no float64 kernel in onnxruntime and a slow float one).
      const relu = g.op1('Relu', [z]);
      const logSig = g.op1('Log', [g.op1('Sigmoid', [g.op1('Abs', [z])])]);
      return { h: g.op1('Sub', [relu, logSig]), saved: [] };
    }
    case 'gelu': {
      // h = z·(½ + ½t), t = tanh(u), u = z·(c + c·a·z²)
      const z2 = g.op1('Mul', [z, z]);
      const u = g.op1('Mul', [z, g.op1('Add', [g.scalar(GELU_C), g.op1('Mul', [z2, g.scalar(GELU_C * GELU_A)])])]);
      const t = g.op1('Tanh', [u]);
      const h = g.op1('Mul', [z, g.op1('Add', [g.scalar(0.5), g.op1('Mul', [t, g.scalar(0.5)])])]);
      return { h, saved: [t, z2] };
    }
    case 'relu': {
      const h = g.op1('Relu', [z]);
      return { h, saved: [h] };
    }
  }
}

/** Constants of the tanh form of GELU: √(2/π) and the cubic coefficient. */
export const GELU_C = Math.sqrt(2 / Math.PI);
export const GELU_A = 0.044715;

/** Emits dz = dh · act'(z). */
export function emitActivationBackward(g: GraphBuilder, dh: string, z: string, saved: readonly string[], activation: Activation): string {
  switch (activation) {
    case 'tanh': {
      // tanh' = 1 − h²
      const [h] = saved;
      const h2 = g.op1('Mul', [h, h]);
      const d = g.op1('Sub', [g.scalar(1), h2]);
      return g.op1('Mul', [dh, d]);
    }
    case 'silu': {
      // silu(z) = z·σ(z);  silu' = σ + z·σ·(1 − σ) = σ + h − h·σ
      const [s, h] = saved;
      const hs = g.op1('Mul', [h, s]);
      const t = g.op1('Sub', [h, hs]);
      const d = g.op1('Add', [s, t]);
      return g.op1('Mul', [dh, d]);
    }
    case 'softplus': {
      // softplus' = σ(z)
      const s = g.op1('Sigmoid', [z]);
      return g.op1('Mul', [dh, s]);
    }
    case 'gelu': {
      // gelu' = ½(1 + t) + ½z·(1 − t²)·c·(1 + 3a·z²)
      const [t, z2] = saved;
      const first = g.op1('Add', [g.scalar(0.5), g.op1('Mul', [t, g.scalar(0.5)])]);
      const sech2 = g.op1('Sub', [g.scalar(1), g.op1('Mul', [t, t])]);
      const du = g.op1('Add', [g.scalar(0.5 * GELU_C), g.op1('Mul', [z2, g.scalar(1.5 * GELU_C * GELU_A)])]);
      const second = g.op1('Mul', [g.op1('Mul', [z, sech2]), du]);
      return g.op1('Mul', [dh, g.op1('Add', [first, second])]);
    }
    case 'relu': {
      // relu' = 1 where z > 0, else 0 (sign of h = relu(z) ≥ 0)
      const [h] = saved;
      return g.op1('Mul', [dh, g.op1('Sign', [h])]);
    }
  }
}

/** Emits the MLP's forward pass on x [N, inputDim]; the output layer is linear. */
export function emitForward(g: GraphBuilder, mlp: MlpConfig, x: string, layers: readonly LayerValues[]): ForwardTrace {
  const trace: ForwardTrace = { layerInputs: [], preActivations: [], saved: [], output: '' };
  let h = x;
  layers.forEach((layer, l) => {
    trace.layerInputs.push(h);
    const z = g.op1('Gemm', [h, layer.W, layer.b]);
    if (l === layers.length - 1) {
      trace.output = z;
    } else {
      const a = emitActivation(g, z, mlp.activation);
      trace.preActivations.push(z);
      trace.saved.push(a.saved);
      h = a.h;
    }
  });
  return trace;
}

/**
 * Emits a row of ones [1, N], N the number of rows of the 2-D value `like` (known at run time):
 * the left operand that turns a column sum into a matrix product (see emitBackward).
 */
export function emitRowOnes(g: GraphBuilder, like: string): string {
  const rows = g.op1('Shape', [like], [attr.int('end', 1)]);
  const dims = g.op1('Concat', [g.int64s([1]), rows], [attr.int('axis', 0)]);
  return g.op1('Expand', [g.scalar(1), dims]);
}

/**
 * Emits the backward pass from dOutput = ∂loss/∂output [N, K]; returns per layer ∂loss/∂W and
 * ∂loss/∂b. Derivation, for z_l = h_(l-1)·W_l + b_l and h_l = act(z_l):
 *   ∂W_l = h_(l-1)ᵀ·∂z_l,  ∂b_l = Σ_rows ∂z_l,  ∂h_(l-1) = ∂z_l·W_lᵀ,  ∂z_(l-1) = ∂h_(l-1) ⊙ act'(z_(l-1)).
 * The row sum ∂b_l is the product ones·∂z_l with `ones` = emitRowOnes (shape [1, N]), [1, fanOut]:
 * onnxruntime's ReduceSum over axis 0 is several times slower than that small Gemm (one thread,
 * [256, 64]: about 15 µs against 3 µs; the default training step is about 15% faster for it).
 */
export function emitBackward(
  g: GraphBuilder,
  mlp: MlpConfig,
  trace: ForwardTrace,
  layers: readonly LayerValues[],
  dOutput: string,
  ones: string,
): { dW: string; db: string }[] {
  const grads: { dW: string; db: string }[] = new Array(layers.length);
  let dz = dOutput;
  for (let l = layers.length - 1; l >= 0; l--) {
    const dW = g.op1('Gemm', [trace.layerInputs[l], dz], [attr.int('transA', 1)]);
    const db = g.op1('Gemm', [ones, dz]);
    grads[l] = { dW, db };
    if (l > 0) {
      const dh = g.op1('Gemm', [dz, layers[l].W], [attr.int('transB', 1)]);
      dz = emitActivationBackward(g, dh, trace.preActivations[l - 1], trace.saved[l - 1], mlp.activation);
    }
  }
  return grads;
}

/** Splits a flat parameter vector θ (W1, b1, W2, b2, … concatenated) into layer values. */
export function emitUnflatten(g: GraphBuilder, mlp: MlpConfig, theta: string): LayerValues[] {
  const shapes = parameterShapes(mlp);
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const pieces = g.op('Split', [theta, g.int64s(sizes)], [attr.int('axis', 0)], { outputs: sizes.length });
  return layerShapes(mlp).map((shape, l) => ({
    W: g.op1('Reshape', [pieces[2 * l], g.int64s([shape.fanIn, shape.fanOut])]),
    b: pieces[2 * l + 1],
  }));
}

/** Concatenates per-layer gradients (any shapes; taken row-major) into one flat vector in θ's order. */
export function emitFlatten(g: GraphBuilder, grads: readonly { dW: string; db: string }[]): string {
  const flatShape = g.int64s([-1]);
  const parts = grads.flatMap(({ dW, db }) => [g.op1('Reshape', [dW, flatShape]), g.op1('Reshape', [db, flatShape])]);
  return g.op1('Concat', parts, [attr.int('axis', 0)]);
}

/**
 * Emits the mean-squared-error loss of `output` against `target` (both [N, K]) and its gradient
 * ∂loss/∂output = (output − target)·gradScale, where gradScale = 2/(N·K) is a graph value.
 * With `weight` (a value [N, K]), the loss is the weighted mean (1/(N·K))·Σ w⊙(output − target)²
 * and its gradient w⊙(output − target)·gradScale; weights of exactly 1 give exactly the unweighted
 * loss and gradient (w·r = r in floating point).
 */
export function emitMseLoss(
  g: GraphBuilder,
  output: string,
  target: string,
  gradScale: string,
  weight?: string,
): { loss: string; dOutput: string } {
  const r = g.op1('Sub', [output, target]);
  const wr = weight === undefined ? r : g.op1('Mul', [weight, r]);
  const r2 = g.op1('Mul', [wr, r]);
  const loss = g.op1('ReduceMean', [r2], [attr.int('keepdims', 1)]);
  const dOutput = g.op1('Mul', [wr, gradScale]);
  return { loss, dOutput };
}
