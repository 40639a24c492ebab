import { DIVIDEND, MATURITY, OPTION_TYPE, RATE, SPOT, STRIKE, VOLATILITY } from './common-parameters';
import { exp } from './exponential';
import { halfSquareHead, halfSquareRest, normCdfFromParts, tailRatio } from './normal-distribution';
import type { ParamValues } from './parameter-spec';
import type { Pricer } from './pricer';
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

const INV_SQRT_2PI = 0.3989422804014327; // 1/sqrt(2π)

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const log = Math.log;
const sqrt = Math.sqrt;
const abs = Math.abs;

// Scratch of blackScholesInto: the arguments, then values, of its four exponentials, and |d1|, |d2|
// then their tail ratios.
const exps = new Float64Array(4);
const tails = new Float64Array(2);

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
 * Implementation: N and φ are `normCdf` and `normPdf` (Cody) taken apart, so that the four
 * exponentials (e^{−qT}, e^{−rT} and exp(−d²/2) for d1 and d2) run through one inlined copy of
 * `exp` in a loop and both tail ratios through one copy of `tailRatio`: V8 then inlines the whole
 * evaluation (its inlining budget would not cover four copies of exp), which makes it ~30% faster.
 * The values are bit for bit those of the straightforward calls.
 */
export function blackScholesInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  out: Float64Array | number[],
): void {
  const sqrtT = sqrt(maturity);
  const stdDev = volatility * sqrtT;
  if (!(stdDev > 0)) {
    deterministicInto(spot, strike, rate, dividend, volatility, maturity, isCall, out);
    return;
  }
  const d1 = (log(spot / strike) + (rate - dividend) * maturity) / stdDev + 0.5 * stdDev;
  const d2 = d1 - stdDev;
  const y1 = abs(d1);
  const y2 = abs(d2);
  const e = exps;
  e[0] = -dividend * maturity;
  e[1] = -rate * maturity;
  e[2] = halfSquareRest(y1);
  e[3] = halfSquareRest(y2);
  for (let i = 0; i < 4; i++) e[i] = exp(e[i]);
  const t = tails;
  t[0] = y1;
  t[1] = y2;
  for (let i = 0; i < 2; i++) t[i] = tailRatio(t[i]);
  const dq = e[0];
  const df = e[1];
  const sDq = spot * dq;
  const kDf = strike * df;
  const g1 = halfSquareHead(y1) * e[2]; // exp(−d1²/2)
  const g2 = halfSquareHead(y2) * e[3];
  const pdf = INV_SQRT_2PI * g1;
  const decay = (-sDq * pdf * volatility) / (2 * sqrtT);
  if (isCall) {
    const n1 = normCdfFromParts(d1, g1, t[0]);
    const n2 = normCdfFromParts(d2, g2, t[1]);
    out[0] = sDq * n1 - kDf * n2;
    out[1] = dq * n1;
    out[4] = decay - rate * kDf * n2 + dividend * sDq * n1;
    out[5] = kDf * maturity * n2;
  } else {
    const n1 = normCdfFromParts(-d1, g1, t[0]);
    const n2 = normCdfFromParts(-d2, g2, t[1]);
    out[0] = kDf * n2 - sDq * n1;
    out[1] = -dq * n1;
    out[4] = decay + rate * kDf * n2 - dividend * sDq * n1;
    out[5] = -kDf * maturity * n2;
  }
  out[2] = (dq * pdf) / (spot * stdDev);
  out[3] = sDq * pdf * sqrtT;
}

/** blackScholesInto when σ√T = 0 (or NaN): the deterministic forward's limits. */
function deterministicInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  out: Float64Array | number[],
): void {
  const sqrtT = sqrt(maturity);
  const dq = exp(-dividend * maturity);
  const df = exp(-rate * maturity);
  const sDq = spot * dq;
  const kDf = strike * df;
  // moneyness > 0 ⇔ F > K.
  const moneyness = sDq - kDf;
  const atStrike = moneyness === 0;
  const w = moneyness > 0 ? 1 : atStrike ? 0.5 : 0; // N(d1) = N(d2) in the limit
  if (isCall) {
    out[0] = moneyness > 0 ? moneyness : 0;
    out[1] = dq * w;
    out[4] = w * (dividend * sDq - rate * kDf);
    out[5] = w * kDf * maturity;
  } else {
    const v = 1 - w;
    out[0] = moneyness < 0 ? -moneyness : 0;
    out[1] = -dq * v;
    out[4] = v * (rate * kDf - dividend * sDq);
    out[5] = -v * kDf * maturity;
  }
  out[2] = atStrike ? Infinity : 0;
  out[3] = atStrike ? sDq * sqrtT * INV_SQRT_2PI : 0;
  if (atStrike && volatility > 0) out[4] = -Infinity;
}

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
