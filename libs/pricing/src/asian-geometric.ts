import {
  DIVIDEND,
  MATURITY,
  OPTION_TYPE,
  RATE,
  SPOT,
  STRIKE,
  VOLATILITY,
  numberParameter,
} from './common-parameters';
import { normCdf } from './normal-distribution';
import type { ParamValues } from './parameter-spec';
import type { Pricer } from './pricer';
import { checkInteger, validateParams } from './validate-params';

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const exp = Math.exp;
const log = Math.log;
const sqrt = Math.sqrt;

/** Largest number of fixings of the discrete geometric average (0 means continuous). */
export const GEOMETRIC_MAX_FIXINGS = 1_000_000;

export interface AsianGeometricInputs {
  spot: number;
  strike: number;
  rate: number;
  dividend?: number;
  volatility: number;
  maturity: number;
  type: 'call' | 'put';
  fixings: number;
}

export interface AsianGeometricResult {
  price: number;
  delta: number;
}

/**
 * Mean m and variance v of ln G, G the geometric average of S over the fixings, written to
 * out[0] = m − ln S (the drift part) and out[1] = v. Fixings at t_i = iT/n, i = 1…n:
 * m = ln S + (b − σ²/2)·T(n + 1)/(2n), v = σ²T(n + 1)(2n + 1)/(6n²); n = 0 is continuous averaging
 * over [0, T] (the limits T/2 and σ²T/3).
 */
export function geometricMoments(
  carry: number,
  volatility: number,
  maturity: number,
  fixings: number,
  out: Float64Array | number[],
): void {
  const halfVar = 0.5 * volatility * volatility;
  if (fixings === 0) {
    out[0] = (carry - halfVar) * 0.5 * maturity;
    out[1] = (volatility * volatility * maturity) / 3;
  } else {
    const n = fixings;
    out[0] = ((carry - halfVar) * maturity * (n + 1)) / (2 * n);
    out[1] = (volatility * volatility * maturity * (n + 1) * (2 * n + 1)) / (6 * n * n);
  }
}

const moments = new Float64Array(2);

/**
 * Price and delta of a European option on the geometric average of S (average-price option),
 * writes out[0] = price, out[1] = delta (∂V/∂S). ln G is normal with the moments of
 * `geometricMoments`, so with F_G = E[G] = S·exp(m' + v/2) (m' the drift part),
 *   call = e^{−rT}[F_G N(d1) − K N(d2)], put = e^{−rT}[K N(−d2) − F_G N(−d1)],
 *   d1 = (ln(F_G/K) + v/2)/√v, d2 = d1 − √v.
 * Continuous averaging (fixings = 0) is Kemna and Vorst (1990), Haug's form: generalized BSM with
 * b_A = (b − σ²/6)/2 and σ_A = σ/√3. One fixing is the European option. When v = 0 the limit
 * (discounted intrinsic value of the deterministic average) is returned.
 */
export function asianGeometricInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  fixings: number,
  out: Float64Array | number[],
): void {
  geometricMoments(rate - dividend, volatility, maturity, fixings, moments);
  const v = moments[1];
  const growth = exp(moments[0] + 0.5 * v); // F_G/S
  const forward = spot * growth;
  const df = exp(-rate * maturity);
  if (v > 0) {
    const sd = sqrt(v);
    const d1 = log(forward / strike) / sd + 0.5 * sd;
    const d2 = d1 - sd;
    if (isCall) {
      const n1 = normCdf(d1);
      out[0] = df * (forward * n1 - strike * normCdf(d2));
      out[1] = df * growth * n1;
    } else {
      const n1 = normCdf(-d1);
      out[0] = df * (strike * normCdf(-d2) - forward * n1);
      out[1] = -df * growth * n1;
    }
    return;
  }
  const m = isCall ? forward - strike : strike - forward;
  const w = m > 0 ? 1 : m === 0 ? 0.5 : 0;
  out[0] = m > 0 ? df * m : 0;
  out[1] = (isCall ? 1 : -1) * df * growth * w;
}

/**
 * The `asian-geometric` pricer: European average-price call/put on the geometric average, closed
 * form. Parameters as `black-scholes` plus `fixings`: an integer n in [0, 1e6]; n ≥ 1 averages the
 * fixings at iT/n, i = 1…n; 0 averages continuously over [0, T] (Kemna–Vorst). Outputs `price`
 * and `delta`.
 */
export const asianGeometricPricer: Pricer = Object.freeze({
  name: 'asian-geometric',
  version: '1.0.0',
  description:
    'Geometric-average-price Asian call/put, closed form: discrete fixings at iT/n, or continuous (Kemna–Vorst); price and delta.',
  parameters: Object.freeze([
    SPOT,
    STRIKE,
    RATE,
    DIVIDEND,
    VOLATILITY,
    MATURITY,
    OPTION_TYPE,
    numberParameter(
      'fixings',
      '',
      'Number of equally spaced fixings at iT/n, i = 1…n (an integer); 0 for continuous averaging',
      0,
      GEOMETRIC_MAX_FIXINGS,
    ),
  ]),
  outputs: Object.freeze(['price', 'delta']),
  validate(params: ParamValues): void {
    checkInteger(asianGeometricPricer, 'fixings', params.fixings as number);
  },
  evaluate(params: ParamValues, out: Float64Array): void {
    asianGeometricInto(
      params.spot as number,
      params.strike as number,
      params.rate as number,
      params.dividend as number,
      params.volatility as number,
      params.maturity as number,
      params.type !== 'put',
      params.fixings as number,
      out,
    );
  },
});

/** Validates the inputs against the `asian-geometric` pricer and returns price and delta. */
export function asianGeometric(p: AsianGeometricInputs): AsianGeometricResult {
  const v = validateParams(asianGeometricPricer, { ...p });
  const out = [0, 0];
  asianGeometricInto(
    v.spot as number,
    v.strike as number,
    v.rate as number,
    v.dividend as number,
    v.volatility as number,
    v.maturity as number,
    v.type !== 'put',
    v.fixings as number,
    out,
  );
  return { price: out[0], delta: out[1] };
}
