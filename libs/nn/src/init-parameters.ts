import { layerShapes, parameterCount, type Activation, type MlpConfig } from './mlp-config';
import type { Rng } from './rng';

/**
 * Variance gain of each activation for Glorot-style initialization: tanh is ~identity near 0;
 * silu(z) and gelu(z) ≈ z/2 near 0 and softplus's slope is 1/2, so they get a larger gain to keep
 * the forward signal from shrinking layer after layer; relu gets He's √2.
 */
const GAIN: Record<Activation, number> = { tanh: 1, silu: 1.7, softplus: 1.6, gelu: 1.7, relu: Math.SQRT2 };

/**
 * Extra gain of the first layer. With inputs on [-1, 1] and few of them, Glorot's first layer
 * starts with nearly linear features over the whole box; a 3× steeper start lets the network
 * resolve sharp features (an option price's kink at short maturity and low volatility) much
 * sooner — on the Black–Scholes example it cut both RMSE and max error by about a third.
 */
export const INPUT_LAYER_GAIN = 3;

/**
 * Initial flat parameter vector (W1, b1, W2, b2, …): weights uniform in ±gain·√(6/(fanIn+fanOut))
 * (Glorot) with the activation's gain, times `inputGain` (default INPUT_LAYER_GAIN) for the first
 * layer; the output layer has gain 1; biases are zero. Deterministic given the generator's state.
 */
export function initParameters(mlp: MlpConfig, rng: Rng, options: { inputGain?: number; hiddenGain?: number } = {}): Float32Array {
  const theta = new Float32Array(parameterCount(mlp));
  const layers = layerShapes(mlp);
  let offset = 0;
  layers.forEach((layer, l) => {
    const gain = (l === layers.length - 1 ? 1 : (options.hiddenGain ?? GAIN[mlp.activation])) * (l === 0 ? (options.inputGain ?? INPUT_LAYER_GAIN) : 1);
    const limit = gain * Math.sqrt(6 / (layer.fanIn + layer.fanOut));
    const n = layer.fanIn * layer.fanOut;
    for (let i = 0; i < n; i++) theta[offset + i] = (2 * rng.nextFloat() - 1) * limit;
    offset += n + layer.fanOut;
  });
  return theta;
}
