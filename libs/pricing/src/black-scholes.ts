import { DIVIDEND, MATURITY, OPTION_TYPE, RATE, SPOT, STRIKE, VOLATILITY } from './common-parameters';
import { exp } from './exponential';
import { halfSquareHead, halfSquareRest, normCdfFromParts, tailRatio } from './normal-distribution';
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

const INV_SQRT_2PI = 0.3989422804014327; // 1/sqrt(2π)

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const log = Math.log;
const sqrt = Math.sqrt;
const abs = Math.abs;

// Scratch of blackScholesRows: the arguments, then values, of its four exponentials, and |d1|, |d2|
// then their tail ratios.
const exps = new Float64Array(4);
const tails = new Float64Array(2);
const cdfs = new Float64Array(6);
const degenerate = new Float64Array(6);

/** The parameters read from lanes by `blackScholesRows`, in lane order. */
const LANE_PARAMETERS = ['spot', 'strike', 'rate', 'dividend', 'volatility', 'maturity'];
/** The lanes of `evaluateColumns`, grown to the largest batch seen (one set per thread). */
let batchLanes = LANE_PARAMETERS.map(() => new Float64Array(1));
const batchMasks = new Int32Array(6);

/** The six parameters of one row for `blackScholesInto`, as one-element lanes. */
const scalarLanes = [0, 0, 0, 0, 0, 0].map(() => new Float64Array(1));
const scalarMasks = new Int32Array(6); // all 0: every lane is a constant
const scalarOutputs = [0, 0, 0, 0, 0, 0].map(() => new Float64Array(1));

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
 * This is `blackScholesRows` on one row.
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
  const lanes = scalarLanes;
  lanes[0][0] = spot;
  lanes[1][0] = strike;
  lanes[2][0] = rate;
  lanes[3][0] = dividend;
  lanes[4][0] = volatility;
  lanes[5][0] = maturity;
  const o = scalarOutputs;
  blackScholesRows(lanes, scalarMasks, isCall, 1, o);
  for (let j = 0; j < 6; j++) out[j] = o[j][0];
}

/**
 * Black–Scholes for `rows` rows at once (see `blackScholesInto` for the formulas and conventions):
 * the parameters spot, strike, rate, dividend, volatility, maturity are lanes[0..5], row i reading
 * lanes[p][i & masks[p]] — mask −1 for a column, 0 for a value held constant in lanes[p][0];
 * price, delta, gamma, vega, theta, rho go to outputs[0..5][i] (an output that is null is skipped).
 *
 * Written as one loop with everything it calls small enough for V8 to inline (an out-of-line call
 * boxes each double argument): N and φ are `normCdf` and `normPdf` (Cody) taken apart, the three
 * or four exponentials a row needs (e^{−qT}, e^{−rT}, exp(−d²/2) for d1 and, in the tails, d2) run
 * through one copy of `exp` in an inner loop, the tail ratios it needs through one copy of
 * `tailRatio` and both N(±d) through one copy of `normCdfFromParts`. The values are bit for bit those of the straightforward formulas with `normCdf`
 * and `normPdf`.
 */
export function blackScholesRows(
  lanes: readonly Float64Array[],
  masks: Int32Array,
  isCall: boolean,
  rows: number,
  outputs: readonly (Float64Array | null)[],
): void {
  const spots = lanes[0];
  const strikes = lanes[1];
  const rates = lanes[2];
  const dividends = lanes[3];
  const vols = lanes[4];
  const maturities = lanes[5];
  const m0 = masks[0];
  const m1 = masks[1];
  const m2 = masks[2];
  const m3 = masks[3];
  const m4 = masks[4];
  const m5 = masks[5];
  const o0 = outputs[0];
  const o1 = outputs[1];
  const o2 = outputs[2];
  const o3 = outputs[3];
  const o4 = outputs[4];
  const o5 = outputs[5];
  const e = exps;
  const t = tails;
  const c = cdfs;
  const sign = isCall ? 1 : -1;
  for (let i = 0; i < rows; i++) {
    const spot = spots[i & m0];
    const strike = strikes[i & m1];
    const rate = rates[i & m2];
    const dividend = dividends[i & m3];
    const volatility = vols[i & m4];
    const maturity = maturities[i & m5];
    const sqrtT = sqrt(maturity);
    const stdDev = volatility * sqrtT;
    let price: number;
    let delta: number;
    let gamma: number;
    let vega: number;
    let theta: number;
    let rho: number;
    if (stdDev > 0) {
      const d1 = (log(spot / strike) + (rate - dividend) * maturity) / stdDev + 0.5 * stdDev;
      const d2 = d1 - stdDev;
      const y1 = abs(d1);
      const y2 = abs(d2);
      // N(±d) needs exp(−d²/2) and the tail ratio only for 0.67448975 < |d| < 38.5 (normCdf);
      // φ(d1) needs exp(−d1²/2) always.
      const tail1 = y1 > 0.67448975 && y1 < 38.5;
      const tail2 = y2 > 0.67448975 && y2 < 38.5;
      e[0] = -dividend * maturity;
      e[1] = -rate * maturity;
      e[2] = halfSquareRest(y1);
      e[3] = halfSquareRest(y2);
      const nExps = tail2 ? 4 : 3;
      for (let k = 0; k < nExps; k++) e[k] = exp(e[k]);
      let nTails = 0;
      if (tail1) t[nTails++] = y1;
      if (tail2) t[nTails++] = y2;
      for (let k = 0; k < nTails; k++) t[k] = tailRatio(t[k]);
      const ratio1 = tail1 ? t[0] : 0;
      const ratio2 = tail2 ? t[nTails - 1] : 0;
      const dq = e[0];
      const df = e[1];
      const sDq = spot * dq;
      const kDf = strike * df;
      const g1 = halfSquareHead(y1) * e[2]; // exp(−d1²/2)
      const g2 = tail2 ? halfSquareHead(y2) * e[3] : 0;
      const pdf = INV_SQRT_2PI * g1;
      const decay = (-sDq * pdf * volatility) / (2 * sqrtT);
      // N(±d1), N(±d2), through one inlined copy of normCdfFromParts.
      c[0] = sign * d1;
      c[1] = g1;
      c[2] = ratio1;
      c[3] = sign * d2;
      c[4] = g2;
      c[5] = ratio2;
      for (let k = 0; k < 2; k++) c[k] = normCdfFromParts(c[3 * k], c[3 * k + 1], c[3 * k + 2]);
      const n1 = c[0];
      const n2 = c[1];
      if (sign > 0) {
        price = sDq * n1 - kDf * n2;
        delta = dq * n1;
        theta = decay - rate * kDf * n2 + dividend * sDq * n1;
        rho = kDf * maturity * n2;
      } else {
        price = kDf * n2 - sDq * n1;
        delta = -dq * n1;
        theta = decay + rate * kDf * n2 - dividend * sDq * n1;
        rho = -kDf * maturity * n2;
      }
      gamma = (dq * pdf) / (spot * stdDev);
      vega = sDq * pdf * sqrtT;
    } else {
      const d = degenerate;
      deterministicInto(spot, strike, rate, dividend, volatility, maturity, isCall, d);
      price = d[0];
      delta = d[1];
      gamma = d[2];
      vega = d[3];
      theta = d[4];
      rho = d[5];
    }
    if (o0 !== null) o0[i] = price;
    if (o1 !== null) o1[i] = delta;
    if (o2 !== null) o2[i] = gamma;
    if (o3 !== null) o3[i] = vega;
    if (o4 !== null) o4[i] = theta;
    if (o5 !== null) o5[i] = rho;
  }
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
  evaluateColumns(batch: ColumnBatch): void {
    const { rows, params, inputs } = batch;
    if (batchLanes[0].length < rows) batchLanes = batchLanes.map(() => new Float64Array(rows));
    const lanes = batchLanes;
    const masks = batchMasks;
    LANE_PARAMETERS.forEach((name, p) => {
      const column = inputs.get(name);
      // A column is read as doubles (float32 values convert exactly); a fixed value is a constant.
      if (column === undefined) lanes[p][0] = params[name] as number;
      else lanes[p].set(column);
      masks[p] = column === undefined ? 0 : -1;
    });
    blackScholesRows(lanes, masks, params.type !== 'put', rows, batch.outputs);
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
