import { attr, GraphBuilder, type Dim } from './onnx-builder';
import { layerShapes, parameterCount, type MlpConfig } from './mlp-config';
import { emitBackward, emitFlatten, emitForward, emitMseLoss, emitRowOnes, emitUnflatten } from './mlp-graph';

/** Adam's constants (Kingma & Ba defaults). */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/**
 * Per-step scalars fed to the step graph. With lr the step's learning rate and t the 1-based step
 * number, alpha = lr·√(1−β2ᵗ)/(1−β1ᵗ) and eps = ε·√(1−β2ᵗ), so that
 *   θ ← θ − alpha·m/(√v + eps)  ≡  θ ← θ − lr·m̂/(√v̂ + ε)  with m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
 */
export function adamStepScalars(learningRate: number, t: number): { alpha: number; eps: number } {
  const c2 = Math.sqrt(1 - Math.pow(ADAM.beta2, t));
  return { alpha: (learningRate * c2) / (1 - Math.pow(ADAM.beta1, t)), eps: ADAM.epsilon * c2 };
}

/** 1 for the weights and 0 for the biases of a flat parameter vector (W1, b1, W2, b2, …). */
export function weightMaskOf(mlp: MlpConfig): Float64Array {
  const mask = new Float64Array(parameterCount(mlp));
  let offset = 0;
  for (const { fanIn, fanOut } of layerShapes(mlp)) {
    mask.fill(1, offset, offset + fanIn * fanOut);
    offset += fanIn * fanOut + fanOut;
  }
  return mask;
}

/** Names of the step graph's inputs and outputs. */
export const STEP_IO = {
  theta: 'theta',
  m: 'm',
  v: 'v',
  alpha: 'alpha',
  eps: 'eps',
  /** Per step: learning rate × weight decay (AdamW's decoupled decay); only in a graph built with weightDecay. */
  decay: 'decay',

  /**
   * The steps' mini-batches stacked, [steps·B, D] and [steps·B, K]: step s takes rows s·B … (s+1)·B−1.
   * One input each rather than one per step: every input costs onnxruntime-node a few µs per run.
   */
  x: 'x',
  y: 'y',
  /** Only in a weighted graph: the loss weight of each output element, stacked like y. */
  w: 'w',
  thetaOut: 'theta_out',
  mOut: 'm_out',
  vOut: 'v_out',

  losses: 'losses',
} as const;

/** Emits 2/(rows·cols) of a 2-D value, computed from its runtime shape. */
function emitMseGradScale(g: GraphBuilder, value: string): string {
  const shape = g.op1('Shape', [value]);
  const n = g.op1('ReduceProd', [shape], [attr.int('keepdims', 0)]);
  const nf = g.op1('Cast', [n], [attr.int('to', g.elemType === 'float64' ? 11 : 1)]);
  return g.op1('Div', [g.scalar(2), nf]);
}

/** Options of the gradient and training step graphs. */
export interface LossGraphOptions {
  /**
   * Weight each squared error: the graph takes an extra input of per-element loss weights w
   * ([N, K] / [B, K] like y) and its loss is mean(w ⊙ (out − y)²) over all elements, with
   * gradient 2·w⊙(out − y)/(N·K). Without it the loss is the plain MSE (and there is no w input).
   */
  weighted?: boolean;
}

/**
 * The gradient graph: inputs θ [P], x [N, D], y [N, K] (normalized units) and, when weighted,
 * w [N, K]; outputs "loss" (scalar (weighted) MSE, shape [1, 1]) and "grad" = ∂loss/∂θ [P]. Used
 * by the finite-difference tests and by tools.
 */
export function buildGradientGraph(
  mlp: MlpConfig,
  elemType: 'float32' | 'float64' = 'float32',
  options: LossGraphOptions = {},
): Uint8Array {
  const g = new GraphBuilder(elemType);
  const P = parameterCount(mlp);
  const theta = g.input('theta', [P]);
  const x = g.input('x', ['N', mlp.inputDim]);
  const y = g.input('y', ['N', mlp.outputDim]);
  const w = options.weighted === true ? g.input('w', ['N', mlp.outputDim]) : undefined;
  const layers = emitUnflatten(g, mlp, theta);
  const trace = emitForward(g, mlp, x, layers);
  const { loss, dOutput } = emitMseLoss(g, trace.output, y, emitMseGradScale(g, y), w);
  const grad = emitFlatten(g, emitBackward(g, mlp, trace, layers, dOutput, emitRowOnes(g, y)));
  g.output('loss', loss, [1, 1]);
  g.output('grad', grad, [P]);
  return g.encode({ name: 'mlp_gradient' });
}

/** Options of the training step graph. */
export interface TrainStepGraphOptions extends LossGraphOptions {
  /**
   * AdamW's decoupled weight decay: the graph takes the per-step input `decay`. Without it the graph
   * is plain Adam and has no decay operations (3 passes over the parameters per step fewer).
   */
  weightDecay?: boolean;
}

/**
 * The training step graph: `steps` consecutive Adam(W) steps on mini-batches of B rows, stacked in
 * x [steps·B, D], y [steps·B, K] (normalized units; step s takes rows s·B … (s+1)·B−1). θ, m, v
 * (flat, [P]) flow from one step to the next inside the graph; the per-step scalars alpha, eps
 * ([steps], see adamStepScalars) carry the learning-rate schedule and bias correction. With
 * `options.weightDecay`, decay ([steps], lr·λ) is AdamW's decoupled weight decay (Loshchilov &
 * Hutter 2019), applied to the weights only, not the biases:
 *   θ ← θ − decay·mask⊙θ − alpha·m/(√v + eps).
 * Outputs: θ, m, v after the last step and the loss of each step before its update. When
 * `options.weighted`, the graph also takes w (stacked like y) and each step's loss is
 * mean(w_s ⊙ (out − y_s)²) (see LossGraphOptions); the losses output is that weighted mean.
 */
export function buildTrainStepGraph(
  mlp: MlpConfig,
  steps: number,
  elemType: 'float32' | 'float64' = 'float32',
  options: TrainStepGraphOptions = {},
): Uint8Array {
  const g = new GraphBuilder(elemType);
  const P = parameterCount(mlp);
  let theta = g.input(STEP_IO.theta, [P]);
  let m = g.input(STEP_IO.m, [P]);
  let v = g.input(STEP_IO.v, [P]);
  /** One value per step: the input split into `steps` equal parts along axis 0. */
  const perStep = (name: string, dims: readonly Dim[]): string[] => {
    const all = g.input(name, dims);
    return steps === 1 ? [all] : g.op('Split', [all], [attr.int('axis', 0)], { outputs: steps });
  };
  const alphas = perStep(STEP_IO.alpha, [steps]);
  const epss = perStep(STEP_IO.eps, [steps]);
  const decay =
    options.weightDecay === true
      ? { perStep: perStep(STEP_IO.decay, [steps]), mask: g.constant(weightMaskOf(mlp), [P], elemType, 'weight_mask') }
      : undefined;
  const xs = perStep(STEP_IO.x, ['R', mlp.inputDim]);
  const ys = perStep(STEP_IO.y, ['R', mlp.outputDim]);
  const ws = options.weighted === true ? perStep(STEP_IO.w, ['R', mlp.outputDim]) : undefined;
  const b1 = g.scalar(ADAM.beta1);
  const b1c = g.scalar(1 - ADAM.beta1);
  const b2 = g.scalar(ADAM.beta2);
  const b2c = g.scalar(1 - ADAM.beta2);
  const losses: string[] = [];
  let gradScale = '';
  let ones = '';
  for (let s = 0; s < steps; s++) {
    const x = xs[s];
    const y = ys[s];
    const w = ws?.[s];
    if (s === 0) {
      gradScale = emitMseGradScale(g, y);
      ones = emitRowOnes(g, y);
    }
    const layers = emitUnflatten(g, mlp, theta);
    const trace = emitForward(g, mlp, x, layers);
    const { loss, dOutput } = emitMseLoss(g, trace.output, y, gradScale, w);
    losses.push(loss);
    const grad = emitFlatten(g, emitBackward(g, mlp, trace, layers, dOutput, ones));
    // Adam: m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  θ ← θ − alpha·m/(√v + eps)
    m = g.op1('Add', [g.op1('Mul', [m, b1]), g.op1('Mul', [grad, b1c])]);
    v = g.op1('Add', [g.op1('Mul', [v, b2]), g.op1('Mul', [g.op1('Mul', [grad, grad]), b2c])]);
    const denom = g.op1('Add', [g.op1('Sqrt', [v]), epss[s]]);
    const update = g.op1('Mul', [g.op1('Div', [m, denom]), alphas[s]]);
    if (decay) {
      const decayed = g.op1('Mul', [g.op1('Mul', [theta, decay.mask]), decay.perStep[s]]);
      theta = g.op1('Sub', [g.op1('Sub', [theta, decayed]), update]);
    } else {
      theta = g.op1('Sub', [theta, update]);
    }
  }
  const lossVec = losses.length === 1 ? losses[0] : g.op1('Concat', losses, [attr.int('axis', 0)]);
  g.output(STEP_IO.thetaOut, theta, [P]);
  g.output(STEP_IO.mOut, m, [P]);
  g.output(STEP_IO.vOut, v, [P]);
  g.output(STEP_IO.losses, g.op1('Reshape', [lossVec, g.int64s([steps])]), [steps]);
  return g.encode({ name: 'mlp_train_step' });
}
