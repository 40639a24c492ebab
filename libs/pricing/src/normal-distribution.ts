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

/* eslint-disable no-loss-of-precision -- the constants keep the digits Cody published; each
   literal rounds to the nearest double, which is what is intended. */
const INV_SQRT_2PI = 0.398942280401432677939946059934;
const SQRT_32 = 5.656854249492380195206754896838;
/** Beyond this |x| the lower tail is below the smallest subnormal double. */
const TAIL_UNDERFLOW = 38.5;

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const exp = Math.exp;
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

/**
 * exp(−y²/2) for y >= 0 without amplifying the rounding error of y²: y = s + r with s = y
 * truncated to a multiple of 1/16 (so s² is exact), and y² = s² + (y − s)(y + s).
 */
function expHalfSquare(y: number): number {
  const s = trunc(y * 16) / 16;
  const del = (y - s) * (y + s);
  return exp(-0.5 * s * s) * exp(-0.5 * del);
}

/** Standard normal density φ(x) = exp(−x²/2)/sqrt(2π). */
export function normPdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = abs(x);
  // exp(−y²/2) underflows to 0 for y > 38.6; stopping at 40 also keeps y·16 finite below.
  return y > 40 ? 0 : INV_SQRT_2PI * expHalfSquare(y);
}

/**
 * Φ(−y)·exp(y²/2) for y > 0.67448975 (Cody's rational approximations of the tail without the
 * Gaussian factor); finite for every such y, including where Φ(−y) itself underflows.
 */
function tailRatio(y: number): number {
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

/** Standard normal distribution function Φ(x) = P[Z <= x]; Φ(−∞) = 0, Φ(∞) = 1, NaN → NaN. */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = abs(x);
  if (y <= 0.67448975) {
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
  let tail: number; // Φ(−y)
  if (y < TAIL_UNDERFLOW) tail = expHalfSquare(y) * tailRatio(y);
  else tail = 0;
  return x > 0 ? 1 - tail : tail;
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
