import { americanPutBoundaryInto } from './american-boundary';
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
import { exp } from './exponential';
import type { ParamValues } from './parameter-spec';
import type { Pricer } from './pricer';
import { checkInteger, validateParams } from './validate-params';

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const log = Math.log;
const sqrt = Math.sqrt;
const abs = Math.abs;

/** Default number of tree steps (odd; the tree is only used with two negative rates, see americanInto). */
export const AMERICAN_DEFAULT_STEPS = 401;
/** Largest number of tree steps. */
export const AMERICAN_MAX_STEPS = 20001;

export interface AmericanInputs {
  spot: number;
  strike: number;
  rate: number;
  dividend?: number;
  volatility: number;
  maturity: number;
  type: 'call' | 'put';
  steps?: number;
}

export interface AmericanResult {
  price: number;
  delta: number;
}

// Tree workspace, grown on demand (no allocation per call once large enough).
let amer = new Float64Array(0);
let euro = new Float64Array(0);
let powers = new Float64Array(0);
const tree = new Float64Array(4);
const bs = new Float64Array(6);
const boundary = new Float64Array(3);

function ensureCapacity(n: number): void {
  if (amer.length >= n) return;
  amer = new Float64Array(n);
  euro = new Float64Array(n);
  powers = new Float64Array(n);
}

/** Peizer–Pratt inversion (method 2) of the normal distribution for an n-step binomial. */
function peizerPratt(z: number, n: number): number {
  const t = z / (n + 1 / 3 + 0.1 / (n + 1));
  const root = sqrt(1 - exp(-t * t * (n + 1 / 6)));
  return z >= 0 ? 0.5 + 0.5 * root : 0.5 - 0.5 * root;
}

/**
 * Backward induction on a recombining binomial tree with N steps. Writes the American price and
 * delta and the European price and delta of the same tree into tree[0..3]. Uses the Leisen–Reimer
 * tree (N odd, the strike at the centre of the final layer), or, where its probabilities degenerate
 * (the strike many standard deviations away), the equal-probability Jarrow–Rudd tree.
 */
function binomial(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  steps: number,
): void {
  const n = steps;
  const dt = maturity / n;
  const stdDev = volatility * sqrt(maturity);
  const growth = exp((rate - dividend) * dt);
  const d1 = (log(spot / strike) + (rate - dividend) * maturity) / stdDev + 0.5 * stdDev;
  const d2 = d1 - stdDev;
  let p = peizerPratt(d2, n);
  const pBar = peizerPratt(d1, n);
  let up = (growth * pBar) / p;
  let down = (growth - p * up) / (1 - p);
  if (!(p > 1e-9 && p < 1 - 1e-9 && down > 0 && up > down)) {
    // Jarrow–Rudd: ln u, ln d = (r − q − σ²/2)Δt ± σ√Δt with p chosen to keep E[S] exact.
    const drift = (rate - dividend - 0.5 * volatility * volatility) * dt;
    const step = volatility * sqrt(dt);
    up = exp(drift + step);
    down = exp(drift - step);
    p = (growth - down) / (up - down);
  }
  const disc = exp(-rate * dt);
  const pu = disc * p;
  const pd = disc * (1 - p);
  const logUp = log(up);
  const logDown = log(down);
  const logRatio = logUp - logDown;
  const logSpot = log(spot);
  // Node prices S·d^i·(u/d)^j; in log space (clamped) where the powers could overflow.
  const safe = abs(logSpot) + n * (abs(logUp) + abs(logDown)) < 600;
  ensureCapacity(n + 1);
  const a = amer;
  const e = euro;
  const pw = powers;
  if (safe) for (let j = 0; j <= n; j++) pw[j] = exp(j * logRatio);
  const sign = isCall ? 1 : -1;
  {
    const base = logSpot + n * logDown;
    for (let j = 0; j <= n; j++) {
      const s = safe ? exp(base) * pw[j] : exp(clampExp(base + j * logRatio));
      const payoff = sign * (s - strike);
      const v = payoff > 0 ? payoff : 0;
      a[j] = v;
      e[j] = v;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const logBase = logSpot + i * logDown;
    const base = safe ? exp(logBase) : 0;
    for (let j = 0; j <= i; j++) {
      e[j] = pu * e[j + 1] + pd * e[j];
      const hold = pu * a[j + 1] + pd * a[j];
      const s = safe ? base * pw[j] : exp(clampExp(logBase + j * logRatio));
      const exercise = sign * (s - strike);
      a[j] = exercise > hold ? exercise : hold;
    }
    if (i === 1) {
      const s0 = safe ? base * pw[0] : exp(clampExp(logBase));
      const s1 = safe ? base * pw[1] : exp(clampExp(logBase + logRatio));
      tree[1] = (a[1] - a[0]) / (s1 - s0);
      tree[3] = (e[1] - e[0]) / (s1 - s0);
    }
  }
  tree[0] = a[0];
  tree[2] = e[0];
}

function clampExp(x: number): number {
  return x > 700 ? 700 : x < -700 ? -700 : x;
}

/**
 * The best of exercising at any t ∈ [0, T] when the path is deterministic (σ = 0 or T = 0):
 * max over t of e^{−rt}·max(±(S e^{(r−q)t} − K), 0). The discounted exercise value
 * ±(S e^{−qt} − K e^{−rt}) has at most one interior stationary point, so the candidates are t = 0,
 * t = T and that point. Writes price and delta.
 */
function deterministicInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  maturity: number,
  isCall: boolean,
  out: Float64Array | number[],
): void {
  const sign = isCall ? 1 : -1;
  // Candidates: now, at expiry and, when it lies in (0, T), the stationary point of
  // S e^{−qt} − K e^{−rt}: e^{(r−q)t} = rK/(qS).
  let stationary = -1;
  if (rate !== dividend && rate * dividend > 0) {
    const t = log((rate * strike) / (dividend * spot)) / (rate - dividend);
    if (t > 0 && t < maturity) stationary = t;
  }
  let best = 0;
  let bestT = -1;
  for (let k = 0; k < 3; k++) {
    const t = k === 0 ? 0 : k === 1 ? maturity : stationary;
    if (t < 0) continue;
    const v = sign * (spot * exp(-dividend * t) - strike * exp(-rate * t));
    if (v > best) {
      best = v;
      bestT = t;
    }
  }
  out[0] = best;
  out[1] = bestT < 0 ? 0 : sign * exp(-dividend * bestT);
}

/**
 * Price and delta of an American call or put on an asset with a continuous dividend yield, writes
 * out[0] = price, out[1] = delta (∂V/∂S). No allocation once the workspaces have grown.
 *
 * A call is priced as the put of the McDonald–Schroder symmetry, C(S, K, r, q) = P(K, S, q, r), with
 * ∂C/∂S = (P − K·∂P/∂S')/S by homogeneity. For that put (rate r', dividend q'):
 * - r' > 0: the exercise boundary by the Andersen–Lake–Offengenden integral-equation method
 *   (`americanPutBoundaryInto`; accurate to ~2e-4·K over T ≤ 30 years, r ≤ 40%, σ ≤ 75%), and
 *   exactly the exercise value (delta ∓1) where exercising now is optimal;
 * - r' ≤ 0 ≤ … with q' ≥ r': early exercise is never optimal, so the European price exactly;
 * - q' < r' ≤ 0 (both rates negative: a double exercise boundary): the Leisen–Reimer binomial tree
 *   (D. Leisen, M. Reimer, Applied Mathematical Finance 3 (1996) 319–346; Peizer–Pratt method 2, odd
 *   N = `steps`) with the Hull–White European control variate and Richardson extrapolation over N
 *   and N/2 — the only case where `steps` matters.
 * σ = 0 or T = 0: the deterministic optimum (see `deterministicInto`). The price is never below the
 * exercise value or the European price; the delta stays within [−1, 0] for a put, [0, 1] for a call.
 */
export function americanInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  steps: number,
  out: Float64Array | number[],
): void {
  if (volatility === 0 || maturity === 0) {
    deterministicInto(spot, strike, rate, dividend, maturity, isCall, out);
    return;
  }
  // The put of the symmetry (the option itself for a put).
  const s = isCall ? strike : spot;
  const k = isCall ? spot : strike;
  const r = isCall ? dividend : rate;
  const q = isCall ? rate : dividend;
  blackScholesInto(spot, strike, rate, dividend, volatility, maturity, isCall, bs);
  const intrinsic = isCall ? spot - strike : strike - spot;
  const floor = intrinsic > bs[0] ? intrinsic : bs[0];
  let price: number;
  let delta: number;
  if (r > 0) {
    americanPutBoundaryInto(s, k, r, q, volatility, maturity, boundary);
    const putDelta = boundary[1] < -1 ? -1 : boundary[1] > 0 ? 0 : boundary[1];
    price = boundary[0];
    delta = isCall ? (boundary[0] - s * putDelta) / k : putDelta;
  } else if (q >= r) {
    out[0] = bs[0];
    out[1] = bs[1];
    return;
  } else {
    const fine = steps % 2 === 0 ? steps + 1 : steps;
    binomial(spot, strike, rate, dividend, volatility, maturity, isCall, fine);
    price = tree[0] + (bs[0] - tree[2]);
    delta = tree[1] + (bs[1] - tree[3]);
    if (fine >= 5) {
      // Richardson extrapolation for an error c/N: (N₂P₂ − N₁P₁)/(N₂ − N₁).
      const half = (fine - 1) >> 1;
      const coarse = half % 2 === 0 ? half + 1 : half;
      binomial(spot, strike, rate, dividend, volatility, maturity, isCall, coarse);
      const coarsePrice = tree[0] + (bs[0] - tree[2]);
      const coarseDelta = tree[1] + (bs[1] - tree[3]);
      price = (fine * price - coarse * coarsePrice) / (fine - coarse);
      delta = (fine * delta - coarse * coarseDelta) / (fine - coarse);
    }
  }
  // An American option is worth at least its exercise value and its European counterpart.
  out[0] = price > floor ? price : floor;
  out[1] = isCall ? (delta < 0 ? 0 : delta > 1 ? 1 : delta) : delta < -1 ? -1 : delta > 0 ? 0 : delta;
}

/**
 * The `american` pricer: American call/put under Black–Scholes dynamics with a continuous dividend
 * yield (see `americanInto` for the methods). Parameters as `black-scholes`, plus `steps` (integer,
 * default {@link AMERICAN_DEFAULT_STEPS}; the binomial steps used only when both rates are negative
 * with a double exercise boundary, where the cost grows as steps²). Outputs `price` and `delta`.
 */
export const americanPricer: Pricer = Object.freeze({
  name: 'american',
  version: '1.1.0',
  description:
    'American call/put (continuous dividend yield): exercise boundary by the Andersen–Lake–Offengenden integral equation (Leisen–Reimer tree when both rates are negative); price and delta.',
  parameters: Object.freeze([
    SPOT,
    STRIKE,
    RATE,
    DIVIDEND,
    VOLATILITY,
    MATURITY,
    OPTION_TYPE,
    numberParameter(
      'steps',
      '',
      'Binomial steps of the tree used when both rates are negative and early exercise has a double boundary (an integer; an even value is rounded up to the next odd one)',
      1,
      AMERICAN_MAX_STEPS,
      { default: AMERICAN_DEFAULT_STEPS },
    ),
  ]),
  outputs: Object.freeze(['price', 'delta']),
  validate(params: ParamValues): void {
    checkInteger(americanPricer, 'steps', params.steps as number);
  },
  evaluate(params: ParamValues, out: Float64Array): void {
    americanInto(
      params.spot as number,
      params.strike as number,
      params.rate as number,
      params.dividend as number,
      params.volatility as number,
      params.maturity as number,
      params.type !== 'put',
      params.steps as number,
      out,
    );
  },
});

/** Validates the inputs against the `american` pricer's ranges and returns price and delta. */
export function american(p: AmericanInputs): AmericanResult {
  const v = validateParams(americanPricer, { ...p });
  const out = [0, 0];
  americanInto(
    v.spot as number,
    v.strike as number,
    v.rate as number,
    v.dividend as number,
    v.volatility as number,
    v.maturity as number,
    v.type !== 'put',
    v.steps as number,
    out,
  );
  return { price: out[0], delta: out[1] };
}
