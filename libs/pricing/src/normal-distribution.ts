/**
 * Standard normal density and distribution function.
 *
 * `normCdf` is W. J. Cody's algorithm ANORM: rational Chebyshev approximations on three ranges
 * (W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969)
 * 631–637; coefficients as published in SPECFUN, W. J. Cody, "Algorithm 715", ACM TOMS 19 (1993)
 * 22–32 — the same ones R's `pnorm` uses). The tails are returned directly (never as 1 − x) with
 * relative accuracy near machine precision down to the underflow threshold, and exp(−x²/2) is
 * evaluated by splitting x so that the rounding of x² is not amplified in the far tail.
 */

import { exp } from './exponential';

/* eslint-disable no-loss-of-precision -- the constants keep the digits Cody published; each
   literal rounds to the nearest double, which is what is intended. */
const INV_SQRT_2PI = 0.398942280401432677939946059934;
const SQRT_32 = 5.656854249492380195206754896838;
/** Beyond this |x| the lower tail is below the smallest subnormal double. */
const TAIL_UNDERFLOW = 38.5;

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const trunc = Math.trunc;
const abs = Math.abs;

// |x| <= 0.67448975: Φ(x) = 1/2 + x·A(x²)/B(x²)
const A0 = 2.2352520354606839287;
const A1 = 161.02823106855587881;
const A2 = 1067.6894854603709582;
const A3 = 18154.981253343561249;
const A4 = 0.065682337918207449113;
const B0 = 47.20258190468824187;
const B1 = 976.09855173777669322;
const B2 = 10260.932208618978205;
const B3 = 45507.789335026729956;

// 0.67448975 < |x| <= sqrt(32): Φ(−|x|) = exp(−x²/2)·C(|x|)/D(|x|)
const C0 = 0.39894151208813466764;
const C1 = 8.8831497943883759412;
const C2 = 93.506656132177855979;
const C3 = 597.27027639480026226;
const C4 = 2494.5375852903726711;
const C5 = 6848.1904505362823326;
const C6 = 11602.651437647350124;
const C7 = 9842.7148383839780218;
const C8 = 1.0765576773720192317e-8;
const D0 = 22.266688044328115691;
const D1 = 235.38790178262499861;
const D2 = 1519.377599407554805;
const D3 = 6485.558298266760755;
const D4 = 18615.571640885098091;
const D5 = 34900.952721145977266;
const D6 = 38912.003286093271411;
const D7 = 19685.429676859990727;

// |x| > sqrt(32): Φ(−|x|) = exp(−x²/2)/|x| · (1/sqrt(2π) − z·P(z)/Q(z)), z = 1/x²
const P0 = 0.21589853405795699;
const P1 = 0.1274011611602473639;
const P2 = 0.022235277870649807;
const P3 = 0.001421619193227893466;
const P4 = 2.9112874951168792e-5;
const P5 = 0.02307344176494017303;
const Q0 = 1.28426009614491121;
const Q1 = 0.468238212480865118;
const Q2 = 0.0659881378689285515;
const Q3 = 0.00378239633202758244;
const Q4 = 7.29751555083966205e-5;
/* eslint-enable no-loss-of-precision */

// The rational functions' coefficients as arrays, evaluated in loops: the same operations in the
// same order as written out, but compact enough in bytecode that V8 inlines these functions into
// the pricers (an out-of-line call boxes every double argument and result). The `…Unrolled`
// functions below are the same written out, for loops with inlining budget to spare.
const CENTRAL_NUM = Float64Array.of(A0, A1, A2);
const CENTRAL_DEN = Float64Array.of(B0, B1, B2);
const NEAR_NUM = Float64Array.of(C0, C1, C2, C3, C4, C5, C6);
const NEAR_DEN = Float64Array.of(D0, D1, D2, D3, D4, D5, D6);
const FAR_NUM = Float64Array.of(P0, P1, P2, P3);
const FAR_DEN = Float64Array.of(Q0, Q1, Q2, Q3);

/** Largest argument of `expHalfSquare` (exp(−y²/2) underflows to 0 beyond 38.6). */
const HALF_SQUARE_MAX = 40;
/** exp(−s²/2) at s = k/16, k = 0…640: the first factor of `expHalfSquare`, computed once. */
const EXP_HALF_SQUARE_SIXTEENTHS = new Float64Array(16 * HALF_SQUARE_MAX + 1);
for (let k = 0; k < EXP_HALF_SQUARE_SIXTEENTHS.length; k++) {
  const s = k / 16;
  EXP_HALF_SQUARE_SIXTEENTHS[k] = exp(-0.5 * s * s);
}

/**
 * exp(−y²/2) for y >= 0 is computed without amplifying the rounding error of y² as
 * head(y)·exp(rest(y)): y = s + r with s = y truncated to a multiple of 1/16 (so s² is exact),
 * head = exp(−s²/2), looked up, and rest = −(y − s)(y + s)/2. This is `rest`; y beyond 40 (where
 * the head is 0) is treated as 40.
 */
export function halfSquareRest(y: number): number {
  const s = trunc((y <= HALF_SQUARE_MAX ? y : HALF_SQUARE_MAX) * 16) / 16;
  return -0.5 * ((y - s) * (y + s));
}

/** The head exp(−s²/2) of exp(−y²/2) (see `halfSquareRest`): 0 beyond y > 40, NaN for NaN. */
export function halfSquareHead(y: number): number {
  // (The last case returns y itself, NaN: a NaN literal would be a tagged constant and make V8
  // box every result of the inlined function.)
  return y <= HALF_SQUARE_MAX ? EXP_HALF_SQUARE_SIXTEENTHS[trunc(y * 16)] : y > HALF_SQUARE_MAX ? 0 : y;
}

/** exp(−y²/2) for y >= 0 without amplifying the rounding error of y² (0 beyond 40). */
export function expHalfSquare(y: number): number {
  return halfSquareHead(y) * exp(halfSquareRest(y));
}

/** exp(−x²/2) for any x: 0 beyond |x| > 40 (where it underflows), NaN for NaN. */
export function gaussian(x: number): number {
  return expHalfSquare(abs(x));
}

/** Standard normal density φ(x) = exp(−x²/2)/sqrt(2π). */
export function normPdf(x: number): number {
  return INV_SQRT_2PI * gaussian(x);
}

/** Φ(x) for |x| <= 0.67448975: 1/2 + x·A(x²)/B(x²). */
function normCdfCentral(x: number): number {
  const z = x * x;
  let num = A4 * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + CENTRAL_NUM[i]) * z;
    den = (den + CENTRAL_DEN[i]) * z;
  }
  return 0.5 + (x * (num + A3)) / (den + B3);
}

/**
 * Φ(−y)·exp(y²/2) for y > 0.67448975 (Cody's rational approximations of the tail without the
 * Gaussian factor); finite for every such y, including where Φ(−y) itself underflows. (Both
 * ranges in one function: an out-of-line call for the far range would make V8 box every result.)
 */
export function tailRatio(y: number): number {
  if (y <= SQRT_32) {
    let num = C8 * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + NEAR_NUM[i]) * y;
      den = (den + NEAR_DEN[i]) * y;
    }
    return (num + C7) / (den + D7);
  }
  const z = 1 / (y * y);
  let num = P5 * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + FAR_NUM[i]) * z;
    den = (den + FAR_DEN[i]) * z;
  }
  const r = (z * (num + P4)) / (den + Q4);
  return (INV_SQRT_2PI - r) / y;
}

/** Standard normal distribution function Φ(x) = P[Z <= x]; Φ(−∞) = 0, Φ(∞) = 1, NaN → NaN. */
export function normCdf(x: number): number {
  const y = abs(x);
  if (y <= 0.67448975) return normCdfCentral(x);
  return normCdfFromParts(x, y < TAIL_UNDERFLOW ? expHalfSquare(y) : 0, tailRatio(y));
}

/**
 * Φ(x) from its parts: g = exp(−x²/2) (`gaussian(x)`) and ratio = `tailRatio(|x|)`, both only used
 * where 0.67448975 < |x| < 38.5. The same value as `normCdf(x)`, for callers that also need the
 * density at x or evaluate several at once.
 */
export function normCdfFromParts(x: number, g: number, ratio: number): number {
  const y = abs(x);
  if (y <= 0.67448975) return normCdfCentral(x);
  if (!(y > 0)) return x; // NaN (returned as x: see halfSquareHead)
  const tail = y < TAIL_UNDERFLOW ? g * ratio : 0; // Φ(−y)
  return x > 0 ? 1 - tail : tail;
}

/**
 * `normCdfFromParts` with Cody's rational functions written out rather than looped (see
 * `tailRatioUnrolled`): the same value bit for bit.
 */
export function normCdfFromPartsUnrolled(x: number, g: number, ratio: number): number {
  const y = abs(x);
  if (y <= 0.67448975) return normCdfCentralUnrolled(x);
  if (!(y > 0)) return x; // NaN (returned as x: see halfSquareHead)
  const tail = y < TAIL_UNDERFLOW ? g * ratio : 0; // Φ(−y)
  return x > 0 ? 1 - tail : tail;
}

/** `normCdfCentral` written out. */
function normCdfCentralUnrolled(x: number): number {
  const z = x * x;
  let num = A4 * z;
  let den = z;
  num = (num + A0) * z;
  den = (den + B0) * z;
  num = (num + A1) * z;
  den = (den + B1) * z;
  num = (num + A2) * z;
  den = (den + B2) * z;
  return 0.5 + (x * (num + A3)) / (den + B3);
}

/**
 * `tailRatio` written out: the same operations in the same order, so the same value bit for bit,
 * without the loops' counters and bounds-checked coefficient loads (the Black–Scholes kernel's
 * normals pass is ~5% faster with it). Its bytecode is about twice the looped form's (~415 bytes,
 * near V8's limit of 460 for inlining one function), so a pricer inlining several functions loses
 * more than it gains from it (asian-geometric ran ~6% slower); use it where little else is
 * inlined.
 */
export function tailRatioUnrolled(y: number): number {
  if (y <= SQRT_32) {
    let num = C8 * y;
    let den = y;
    num = (num + C0) * y;
    den = (den + D0) * y;
    num = (num + C1) * y;
    den = (den + D1) * y;
    num = (num + C2) * y;
    den = (den + D2) * y;
    num = (num + C3) * y;
    den = (den + D3) * y;
    num = (num + C4) * y;
    den = (den + D4) * y;
    num = (num + C5) * y;
    den = (den + D5) * y;
    num = (num + C6) * y;
    den = (den + D6) * y;
    return (num + C7) / (den + D7);
  }
  const z = 1 / (y * y);
  let num = P5 * z;
  let den = z;
  num = (num + P0) * z;
  den = (den + Q0) * z;
  num = (num + P1) * z;
  den = (den + Q1) * z;
  num = (num + P2) * z;
  den = (den + Q2) * z;
  num = (num + P3) * z;
  den = (den + Q3) * z;
  const r = (z * (num + P4)) / (den + Q4);
  return (INV_SQRT_2PI - r) / y;
}

/**
 * e^p·Φ(x) without spurious overflow or underflow: where e^p alone would overflow but Φ(x) is
 * tiny, the product is formed as exp(p − x²/2)·(Φ(x)·e^{x²/2}). Used by closed forms with factors
 * such as (H/S)^{2μ}·N(y), whose parts can be huge and tiny while their product is moderate.
 */
export function expTimesNormCdf(p: number, x: number): number {
  if (p <= 600 || x >= -0.67448975 || Number.isNaN(x)) return exp(p) * normCdf(x);
  return exp(p - 0.5 * x * x) * tailRatio(-x);
}
