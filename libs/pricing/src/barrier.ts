import { blackScholesInto } from './black-scholes';
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
import { AdaptiveGaussKronrod } from './gauss-kronrod';
import { expTimesNormCdf, normCdf } from './normal-distribution';
import type { ParamValues } from './parameter-spec';
import type { Pricer } from './pricer';
import { invalidParameter, validateParams } from './validate-params';

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const exp = Math.exp;
const log = Math.log;
const sqrt = Math.sqrt;

export type BarrierType = 'down-and-out' | 'down-and-in' | 'up-and-out' | 'up-and-in';
export const BARRIER_TYPES: readonly BarrierType[] = Object.freeze([
  'down-and-out',
  'down-and-in',
  'up-and-out',
  'up-and-in',
]);

export interface BarrierInputs {
  spot: number;
  strike: number;
  rate: number;
  dividend?: number;
  volatility: number;
  maturity: number;
  type: 'call' | 'put';
  barrierType: BarrierType;
  barrier: number;
  rebate?: number;
}

const bs = new Float64Array(6);
const quadrature = new AdaptiveGaussKronrod(100);

// Parameters of the hit-time integrand (set before each integration; no closure per call).
let hC = 0; // −c = −λ̃²h²/(2σ⁴) > 0 when λ̃² < 0
let hX0 = 0;

/**
 * Integrand of 2∫_{x0}^∞ φ(x)·exp(−c/x²) dx on t ∈ (0, 1), with x = x0 + t/(1 − t); c < 0 here.
 * The exponent −x²/2 − c/x² is formed before exponentiating (both parts may be large).
 */
function hitIntegrand(t: number, out: Float64Array): void {
  const omt = 1 - t;
  const x = hX0 + t / omt;
  out[0] = (0.7978845608028654 * exp(-0.5 * x * x + hC / (x * x))) / (omt * omt); // 2/√(2π)
}

/**
 * E[e^{−rτ}; τ ≤ T] for the first time τ that ln(S_t/S) = (b − σ²/2)t + σW_t reaches h = ln(H/S),
 * multiplied by the rebate: Haug's term F (Reiner–Rubinstein's rebate paid at the hit).
 * With μ = (b − σ²/2)/σ² and λ = √(μ² + 2r/σ²) it is
 *   R[(H/S)^{μ+λ} N(ηz) + (H/S)^{μ−λ} N(ηz − 2ηλσ√T)],  z = ln(H/S)/(σ√T) + λσ√T.
 * When μ² + 2r/σ² < 0 (possible for r < 0) λ is imaginary; the same expectation is then
 *   R·e^{hν/σ²}·2∫_{x0}^∞ φ(x) e^{−c/x²} dx,  ν = b − σ²/2, c = (ν² + 2rσ²)h²/(2σ⁴), x0 = |h|/(σ√T),
 * (the first-passage density integrated after the substitution t = h²/(σ²x²)), done numerically.
 */
function rebateAtHit(
  rebate: number,
  logHS: number,
  rate: number,
  carry: number,
  volatility: number,
  stdDev: number,
  eta: number,
): number {
  const v2 = volatility * volatility;
  const mu = (carry - 0.5 * v2) / v2;
  const lambda2 = mu * mu + (2 * rate) / v2;
  if (lambda2 >= 0) {
    const lambda = sqrt(lambda2);
    const z = logHS / stdDev + lambda * stdDev;
    return (
      rebate *
      (expTimesNormCdf((mu + lambda) * logHS, eta * z) +
        expTimesNormCdf((mu - lambda) * logHS, eta * (z - 2 * lambda * stdDev)))
    );
  }
  const nu = carry - 0.5 * v2;
  hC = -0.5 * lambda2 * logHS * logHS; // −c, with c = λ̃²h²/(2σ⁴) = λ²h²/2 (λ̃² = λ²σ⁴)
  hX0 = (logHS < 0 ? -logHS : logHS) / stdDev;
  const r = quadrature.integrate(hitIntegrand, false, 0, 1, 1e-13, 4);
  return rebate * exp((logHS * nu) / v2) * r.value[0];
}

/**
 * Price of a single-barrier option with continuous monitoring under Black–Scholes with a continuous
 * dividend yield q (cost of carry b = r − q): the closed forms of Reiner and Rubinstein (1991) as
 * tabulated in E. G. Haug, The Complete Guide to Option Pricing Formulas (2nd ed., 2007), §4.17.1
 * ("Standard Barrier Options"), terms A–F.
 *
 * Rebate convention (Haug's): a knock-out pays the rebate at the moment the barrier is hit; a
 * knock-in pays it at expiry if the barrier was never hit. Spot on the barrier counts as hit at
 * inception: a knock-out is then worth the rebate (paid now), a knock-in the vanilla option. The
 * barrier must not be on the wrong side of spot (see the `barrier` pricer's `validate`); here a
 * down barrier above spot or an up barrier below it is treated like spot on the barrier.
 * With σ√T = 0 the path S·e^{bt} is deterministic and the option is valued along it (a touch
 * counts as a hit). Never NaN for inputs in the pricer's valid ranges.
 */
export function barrierPrice(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  barrierType: BarrierType,
  barrier: number,
  rebate: number,
): number {
  const down = barrierType === 'down-and-out' || barrierType === 'down-and-in';
  const knockIn = barrierType === 'down-and-in' || barrierType === 'up-and-in';
  const hitNow = down ? spot <= barrier : spot >= barrier;
  if (hitNow) {
    if (!knockIn) return rebate;
    blackScholesInto(spot, strike, rate, dividend, volatility, maturity, isCall, bs);
    return bs[0];
  }
  const carry = rate - dividend;
  const stdDev = volatility * sqrt(maturity);
  const df = exp(-rate * maturity);
  if (!(stdDev > 0)) {
    // Deterministic path S·e^{bt}: the barrier is reached (touch included) at τ = ln(H/S)/b ≤ T.
    const logHS = log(barrier / spot);
    const tau = carry !== 0 ? logHS / carry : Infinity;
    const hit = tau >= 0 && tau <= maturity;
    const forward = spot * exp(carry * maturity);
    const payoff = isCall ? forward - strike : strike - forward;
    const vanilla = payoff > 0 ? df * payoff : 0;
    if (knockIn) return hit ? vanilla : df * rebate;
    return hit ? rebate * exp(-rate * tau) : vanilla;
  }
  const v2 = volatility * volatility;
  const mu = (carry - 0.5 * v2) / v2;
  const logHS = log(barrier / spot);
  const logSX = log(spot / strike);
  const drift = (1 + mu) * stdDev;
  const x1 = logSX / stdDev + drift;
  const x2 = -logHS / stdDev + drift;
  const y1 = (2 * logHS + logSX) / stdDev + drift; // ln(H²/(S X)) = 2 ln(H/S) + ln(S/X)
  const y2 = logHS / stdDev + drift;
  const phi = isCall ? 1 : -1;
  const eta = down ? 1 : -1;
  const sDq = spot * exp((carry - rate) * maturity);
  const xDf = strike * df;
  // Haug's terms; (H/S)^k·N(·) products are formed by expTimesNormCdf.
  const A = phi * sDq * normCdf(phi * x1) - phi * xDf * normCdf(phi * (x1 - stdDev));
  const B = phi * sDq * normCdf(phi * x2) - phi * xDf * normCdf(phi * (x2 - stdDev));
  const C =
    phi * sDq * expTimesNormCdf(2 * (mu + 1) * logHS, eta * y1) -
    phi * xDf * expTimesNormCdf(2 * mu * logHS, eta * (y1 - stdDev));
  const D =
    phi * sDq * expTimesNormCdf(2 * (mu + 1) * logHS, eta * y2) -
    phi * xDf * expTimesNormCdf(2 * mu * logHS, eta * (y2 - stdDev));
  const E =
    rebate > 0
      ? rebate * df * (normCdf(eta * (x2 - stdDev)) - expTimesNormCdf(2 * mu * logHS, eta * (y2 - stdDev)))
      : 0;
  const F = rebate > 0 ? rebateAtHit(rebate, logHS, rate, carry, volatility, stdDev, eta) : 0;
  const above = strike > barrier; // X > H
  let value: number;
  if (isCall) {
    switch (barrierType) {
      case 'down-and-in':
        value = above ? C + E : A - B + D + E;
        break;
      case 'up-and-in':
        value = above ? A + E : B - C + D + E;
        break;
      case 'down-and-out':
        value = above ? A - C + F : B - D + F;
        break;
      default: // up-and-out
        value = above ? F : A - B + C - D + F;
    }
  } else {
    switch (barrierType) {
      case 'down-and-in':
        value = above ? B - C + D + E : A + E;
        break;
      case 'up-and-in':
        value = above ? A - B + D + E : C + E;
        break;
      case 'down-and-out':
        value = above ? A - B + C - D + F : F;
        break;
      default: // up-and-out
        value = above ? B - D + F : A - C + F;
    }
  }
  return value > 0 ? value : 0;
}

/** The rule `barrier` must satisfy for `barrierType` given `spot`, or undefined if it does. */
function barrierRule(barrierType: string, barrier: number, spot: number): string | undefined {
  const down = barrierType === 'down-and-out' || barrierType === 'down-and-in';
  if (down && barrier > spot) return `barrier <= spot (${spot}) for a ${barrierType} option`;
  if (!down && barrier < spot) return `barrier >= spot (${spot}) for an ${barrierType} option`;
  return undefined;
}

/**
 * The `barrier` pricer: European single-barrier call/put with continuous monitoring and a rebate,
 * closed form (Reiner–Rubinstein, Haug §4.17.1). Parameters as `black-scholes` plus `barrierType`,
 * `barrier` (currency, (0, 1e9]) and `rebate` (currency, [0, 1e9], default 0; a knock-out pays it at
 * the hit, a knock-in at expiry if never knocked in). A down barrier must be at or below spot, an
 * up barrier at or above it (INVALID_PARAMETER otherwise); spot on the barrier counts as hit.
 * Output `price`.
 */
export const barrierPricer: Pricer = Object.freeze({
  name: 'barrier',
  version: '1.0.0',
  description:
    'Single-barrier call/put (down/up, in/out) with rebate, continuous monitoring, closed form (Reiner–Rubinstein / Haug).',
  parameters: Object.freeze([
    SPOT,
    STRIKE,
    RATE,
    DIVIDEND,
    VOLATILITY,
    MATURITY,
    OPTION_TYPE,
    Object.freeze({
      kind: 'choice' as const,
      name: 'barrierType',
      description: 'Barrier direction and knock type',
      values: BARRIER_TYPES,
    }),
    numberParameter('barrier', 'currency', 'Barrier level', 0, 1e9, { minInclusive: false }),
    numberParameter(
      'rebate',
      'currency',
      'Rebate: paid at the hit for a knock-out, at expiry if never knocked in for a knock-in',
      0,
      1e9,
      { default: 0 },
    ),
  ]),
  outputs: Object.freeze(['price']),
  validate(params: ParamValues): void {
    const barrier = params.barrier as number;
    const barrierType = params.barrierType as string;
    const rule = barrierRule(barrierType, barrier, params.spot as number);
    if (rule !== undefined) {
      throw invalidParameter(
        barrierPricer,
        'barrier',
        barrier,
        rule,
        `barrier = ${barrier} is on the wrong side of spot (already knocked ${barrierType.endsWith('out') ? 'out' : 'in'}): ${rule}`,
      );
    }
  },
  evaluate(params: ParamValues, out: Float64Array): void {
    out[0] = barrierPrice(
      params.spot as number,
      params.strike as number,
      params.rate as number,
      params.dividend as number,
      params.volatility as number,
      params.maturity as number,
      params.type !== 'put',
      params.barrierType as BarrierType,
      params.barrier as number,
      params.rebate as number,
    );
  },
});

/** Validates the inputs against the `barrier` pricer's ranges and rules and returns the price. */
export function barrier(p: BarrierInputs): number {
  const v = validateParams(barrierPricer, { ...p });
  return barrierPrice(
    v.spot as number,
    v.strike as number,
    v.rate as number,
    v.dividend as number,
    v.volatility as number,
    v.maturity as number,
    v.type !== 'put',
    v.barrierType as BarrierType,
    v.barrier as number,
    v.rebate as number,
  );
}
