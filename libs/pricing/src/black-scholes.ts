import { DIVIDEND, MATURITY, OPTION_TYPE, RATE, SPOT, STRIKE, VOLATILITY } from './common-parameters';
import { blackScholesRow, blackScholesRows, type Lane } from './black-scholes-rows';
import type { ParamValues } from './parameter-spec';
import type { ColumnBatch, Pricer } from './pricer';
import { validateParams } from './validate-params';

export type OptionType = 'call' | 'put';

export interface BlackScholesInputs {
  spot: number;
  strike: number;
  rate: number;
  dividend: number;
  volatility: number;
  maturity: number;
  type: OptionType;
}

/**
 * Price and greeks of a European option under Black–Scholes–Merton with a continuous dividend
 * yield q. Conventions (all per unit, not per percent or per day):
 * - `delta` = ∂V/∂S, `gamma` = ∂²V/∂S²;
 * - `vega` = ∂V/∂σ per unit volatility (0.01 of it is the change for one vol point);
 * - `theta` = ∂V/∂t per year of calendar time passing, i.e. −∂V/∂T at fixed inputs otherwise;
 * - `rho` = ∂V/∂r per unit rate (the dividend yield held fixed).
 */
export interface BlackScholesResult {
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  rho: number;
}

/** The parameters read from lanes by `blackScholesRows`, in lane order. */
const LANE_PARAMETERS = ['spot', 'strike', 'rate', 'dividend', 'volatility', 'maturity'];
/** The lanes of `evaluateColumns`: the input columns as they are, or constants (one per thread). */
const batchLanes: Lane[] = LANE_PARAMETERS.map(() => new Float64Array(1));
const batchConstants = LANE_PARAMETERS.map(() => new Float64Array(1));
const batchMasks = new Int32Array(6);

/**
 * Writes price, delta, gamma, vega, theta, rho (in that order) into out[0..5]. No allocation.
 *
 * With σ√T > 0 the closed form is used: with F = S·e^{(r−q)T}, d1 = ln(F/K)/(σ√T) + σ√T/2,
 * d2 = d1 − σ√T, call = S e^{−qT} N(d1) − K e^{−rT} N(d2), put = K e^{−rT} N(−d2) − S e^{−qT} N(−d1)
 * (tails computed directly, never as 1 − N).
 *
 * When σ√T = 0 (zero volatility or zero maturity) the values are the limits as σ√T → 0: the
 * discounted intrinsic value of the forward, e^{−rT}·max(±(F − K), 0), with N(d1) = N(d2) = 1, 0
 * or 1/2 as the forward is above, below or exactly at the strike. Away from the strike gamma and
 * vega are 0; exactly at it (F = K) gamma is +Infinity (the payoff's kink), vega is its σ → 0
 * limit S e^{−qT} √T/√(2π), and when T = 0 with σ > 0 theta is −Infinity. Never NaN for inputs
 * in the pricer's valid ranges.
 *
 * This is `blackScholesRows` on one row (`blackScholesRow`).
 */
export const blackScholesInto = blackScholesRow;

/**
 * The `black-scholes` pricer: European call/put on an asset with a continuous dividend yield.
 * Valid ranges: spot and strike in (0, 1e9]; rate and dividend in [−1, 1] (continuously
 * compounded, per year); volatility in [0, 5] (per √year); maturity in [0, 100] years.
 * Outputs `price, delta, gamma, vega, theta, rho` with the conventions of {@link BlackScholesResult}.
 */
export const blackScholesPricer: Pricer = Object.freeze({
  name: 'black-scholes',
  version: '1.0.0',
  description:
    'European call/put under Black–Scholes–Merton with a continuous dividend yield; price and greeks.',
  parameters: Object.freeze([SPOT, STRIKE, RATE, DIVIDEND, VOLATILITY, MATURITY, OPTION_TYPE]),
  outputs: Object.freeze(['price', 'delta', 'gamma', 'vega', 'theta', 'rho']),
  evaluate(params: ParamValues, out: Float64Array): void {
    blackScholesInto(
      params.spot as number,
      params.strike as number,
      params.rate as number,
      params.dividend as number,
      params.volatility as number,
      params.maturity as number,
      params.type !== 'put',
      out,
    );
  },
  evaluateColumns(batch: ColumnBatch): void {
    const { rows, params, inputs } = batch;
    const lanes = batchLanes;
    const masks = batchMasks;
    LANE_PARAMETERS.forEach((name, p) => {
      const column = inputs.get(name);
      // A column is read as it is (float32 values convert to doubles exactly); a fixed value is a
      // constant.
      if (column === undefined) {
        lanes[p] = batchConstants[p];
        lanes[p][0] = params[name] as number;
      } else {
        lanes[p] = column;
      }
      masks[p] = column === undefined ? 0 : -1;
    });
    blackScholesRows(lanes, masks, params.type !== 'put', rows, batch.outputs);
    lanes.fill(batchConstants[0]); // keep no reference to the caller's columns
  },
});

/** Validates the inputs against the `black-scholes` pricer's ranges and returns price and greeks. */
export function blackScholes(p: BlackScholesInputs): BlackScholesResult {
  const { spot, strike, rate, dividend, volatility, maturity, type } = p;
  const v = validateParams(blackScholesPricer, { spot, strike, rate, dividend, volatility, maturity, type });
  const out = [0, 0, 0, 0, 0, 0];
  blackScholesInto(
    v.spot as number,
    v.strike as number,
    v.rate as number,
    v.dividend as number,
    v.volatility as number,
    v.maturity as number,
    v.type !== 'put',
    out,
  );
  return { price: out[0], delta: out[1], gamma: out[2], vega: out[3], theta: out[4], rho: out[5] };
}
