import { exp } from './exponential';
import { log } from './logarithm';
import {
  halfSquareHead,
  halfSquareRest,
  normCdfFromPartsUnrolled,
  tailRatioUnrolled,
} from './normal-distribution';

/**
 * The values of one parameter for `blackScholesRows`: a column, one value per row (float32, as a
 * chunk's inputs are, or doubles), or a constant in element 0.
 */
export type Lane = Float32Array | Float64Array;

const INV_SQRT_2PI = 0.3989422804014327; // 1/sqrt(2π)

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const sqrt = Math.sqrt;
const abs = Math.abs;

/** Rows per block: a block's scratch columns (~20 KiB) stay in the L1 cache. */
const BLOCK = 256;
/** Rows per chunk, a multiple of BLOCK: the parameters are converted to doubles a chunk at a time. */
const CHUNK = 4096;
/** A chunk's spot, strike, rate, dividend, volatility, maturity as doubles (p at p·CHUNK + row). */
const parameters = new Float64Array(6 * CHUNK);
/** Below this many rows, `loadParameters` copies in a loop rather than through subarrays. */
const SMALL = 64;
// The scratch columns of a block, by row j of the block (a row's values at j, BLOCK + j, …).
const sqrtTs = new Float64Array(BLOCK);
const stdDevs = new Float64Array(BLOCK);
/** Arguments, then values, of e^{−qT}, e^{−rT} and the `halfSquareRest` factors of exp(−d²/2). */
const exponentials = new Float64Array(4 * BLOCK);
/** ±d1, ±d2 (+ for a call), then N(±d1), N(±d2) in their place. */
const normals = new Float64Array(2 * BLOCK);
/** exp(−d1²/2), exp(−d2²/2). */
const gaussians = new Float64Array(2 * BLOCK);
/** The number of the block's rows with σ√T = 0 (or NaN), which `passLimits` prices. */
const degenerateRows = new Int32Array(1);
const limits = new Float64Array(6);
/** Where the outputs not asked for are written (a store costs less than a test per row). */
let sink = new Float64Array(0);

/** One pass over rows start…end−1, a block of the chunk in `parameters`. */
type Pass = (isCall: boolean, start: number, end: number, outputs: readonly Float64Array[]) => void;

/**
 * Black–Scholes for `rows` rows at once (see `blackScholesInto` for the formulas and conventions):
 * the parameters spot, strike, rate, dividend, volatility, maturity are lanes[0..5], row i reading
 * lanes[p][i & masks[p]] — mask −1 for a column, 0 for a constant in lanes[p][0]; price, delta,
 * gamma, vega, theta, rho go to outputs[0..5][i] (an output that is null is not kept).
 *
 * The parameters are converted to doubles 4096 rows at a time (`loadParameters`), and the rows
 * taken in blocks of 256, each block in passes, each a loop over the block with one copy of the
 * functions it needs inlined: `passArguments` (with `log`), `passExponentials`
 * (`exp`), `passNormals` (the unrolled `normCdfFromParts` and `tailRatio`), `passResults` and
 * `passLimits`. V8 inlines only so much bytecode into one function, and an out-of-line call boxes
 * every double argument and result; split this way every pass has all its functions inlined. The
 * passes are called through one call site (`PASSES`), which V8 sees calling five different
 * functions and so never inlines: inlined into this loop they would share its budget again. The
 * values are bit for bit those of the straightforward formulas with `normCdf` and `normPdf`.
 */
export function blackScholesRows(
  lanes: readonly Lane[],
  masks: Int32Array,
  isCall: boolean,
  rows: number,
  outputs: readonly (Float64Array | null)[],
): void {
  let columns = outputs as readonly Float64Array[];
  if (outputs.includes(null)) {
    if (sink.length < rows) sink = new Float64Array(rows);
    columns = outputs.map((o) => o ?? sink);
  }
  const passes = PASSES;
  for (let chunk = 0; chunk < rows; chunk += CHUNK) {
    const chunkEnd = chunk + CHUNK < rows ? chunk + CHUNK : rows;
    loadParameters(lanes, masks, chunk, chunkEnd);
    for (let start = chunk; start < chunkEnd; start += BLOCK) {
      const end = start + BLOCK < chunkEnd ? start + BLOCK : chunkEnd;
      for (let p = 0; p < passes.length; p++) passes[p](isCall, start, end, columns);
    }
  }
}

/** The outputs of `blackScholesRow`. */
const rowOutputs = [0, 0, 0, 0, 0, 0].map(() => new Float64Array(1));

/**
 * `blackScholesRows` on one row given as numbers, price and greeks into out[0..5]: the same passes
 * (so the same values), without the lanes.
 */
export function blackScholesRow(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  out: Float64Array | number[],
): void {
  const v = parameters;
  v[0] = spot;
  v[CHUNK] = strike;
  v[2 * CHUNK] = rate;
  v[3 * CHUNK] = dividend;
  v[4 * CHUNK] = volatility;
  v[5 * CHUNK] = maturity;
  const o = rowOutputs;
  const passes = PASSES;
  for (let p = 0; p < passes.length; p++) passes[p](isCall, 0, 1, o);
  for (let k = 0; k < 6; k++) out[k] = o[k][0];
}

// Inside the passes, parameters that the loops use are first turned into untagged locals
// (`start | 0`, a sign from `isCall`): V8 would otherwise check and unbox them on every row.

/**
 * The parameters of rows start…end−1 (one chunk) as doubles, in `parameters`: a column converted
 * by TypedArray.prototype.set (in native code, several times faster than a loop), a constant by
 * fill. The passes then read an array V8 knows, each access a bounds check and a load; reading the
 * lanes there, in their long loops, would also check each lane's type and reload its pointers on
 * every row.
 */
function loadParameters(lanes: readonly Lane[], masks: Int32Array, start: number, end: number): void {
  const to = parameters;
  const count = end - start;
  for (let p = 0; p < 6; p++) {
    const lane = lanes[p];
    const mask = masks[p];
    if (mask === 0) to.fill(lane[0], p * CHUNK, p * CHUNK + count);
    else if (count >= SMALL) to.set(lane.subarray(start, end), p * CHUNK);
    else for (let j = 0; j < count; j++) to[p * CHUNK + j] = lane[(start + j) & mask];
  }
}

/**
 * Pass 1: √T, σ√T, ±d1 and ±d2 with d1 = (ln(S/K) + (r − q)T)/(σ√T) + σ√T/2, d2 = d1 − σ√T, and
 * the arguments of the four exponentials (−qT, −rT, and the rests of exp(−d1²/2), exp(−d2²/2));
 * counts the rows with σ√T = 0 (or NaN), whose values here are meaningless.
 */
function passArguments(isCall: boolean, start: number, end: number): void {
  const v = parameters;
  const row0 = start & (CHUNK - 1); // the block's first row in the chunk
  const roots = sqrtTs;
  const deviations = stdDevs;
  const e = exponentials;
  const n = normals;
  const sign = isCall ? 1 : -1;
  const count = (end | 0) - (start | 0);
  let degenerate = 0;
  for (let j = 0; j < count; j++) {
    const rate = v[2 * CHUNK + row0 + j];
    const dividend = v[3 * CHUNK + row0 + j];
    const maturity = v[5 * CHUNK + row0 + j];
    const sqrtT = sqrt(maturity);
    const stdDev = v[4 * CHUNK + row0 + j] * sqrtT;
    const d1 =
      (log(v[row0 + j] / v[CHUNK + row0 + j]) + (rate - dividend) * maturity) / stdDev + 0.5 * stdDev;
    const d2 = d1 - stdDev;
    roots[j] = sqrtT;
    deviations[j] = stdDev;
    n[j] = sign * d1;
    n[BLOCK + j] = sign * d2;
    e[j] = -dividend * maturity;
    e[BLOCK + j] = -rate * maturity;
    e[2 * BLOCK + j] = halfSquareRest(abs(d1));
    e[3 * BLOCK + j] = halfSquareRest(abs(d2));
    if (!(stdDev > 0)) degenerate++;
  }
  degenerateRows[0] = degenerate;
}

/** Pass 2: the four exponentials of every row, in place. */
function passExponentials(_isCall: boolean, start: number, end: number): void {
  const e = exponentials;
  const count = (end | 0) - (start | 0);
  for (let k = 0; k < 4 * BLOCK; k += BLOCK) {
    for (let j = k; j < k + count; j++) e[j] = exp(e[j]);
  }
}

/**
 * Pass 3: exp(−d²/2) = halfSquareHead(|d|)·exp(rest) and N(±d) for d1 and d2, the latter in place
 * of ±d: normCdf from its parts, the tail ratio computed only where it is used
 * (0.67448975 < |d| < 38.5).
 */
function passNormals(_isCall: boolean, start: number, end: number): void {
  const e = exponentials;
  const n = normals;
  const g = gaussians;
  const count = (end | 0) - (start | 0);
  for (let k = 0; k < 2 * BLOCK; k += BLOCK) {
    for (let j = k; j < k + count; j++) {
      const x = n[j];
      const y = abs(x);
      const gaussian = halfSquareHead(y) * e[2 * BLOCK + j];
      g[j] = gaussian;
      n[j] = normCdfFromPartsUnrolled(x, gaussian, y > 0.67448975 && y < 38.5 ? tailRatioUnrolled(y) : 0);
    }
  }
}

/**
 * Pass 4: price and greeks by the closed form: with F = S·e^{(r−q)T}, call = S e^{−qT} N(d1) −
 * K e^{−rT} N(d2), put = K e^{−rT} N(−d2) − S e^{−qT} N(−d1), and their derivatives.
 */
function passResults(isCall: boolean, start: number, end: number, outputs: readonly Float64Array[]): void {
  const prices = outputs[0];
  const deltas = outputs[1];
  const gammas = outputs[2];
  const vegas = outputs[3];
  const thetas = outputs[4];
  const rhos = outputs[5];
  const v = parameters;
  const row0 = start & (CHUNK - 1);
  const roots = sqrtTs;
  const deviations = stdDevs;
  const e = exponentials;
  const n = normals;
  const g = gaussians;
  const sign = isCall ? 1 : -1;
  const first = start | 0;
  const count = (end | 0) - first;
  for (let j = 0; j < count; j++) {
    const i = first + j;
    const spot = v[row0 + j];
    const rate = v[2 * CHUNK + row0 + j];
    const dividend = v[3 * CHUNK + row0 + j];
    const maturity = v[5 * CHUNK + row0 + j];
    const sqrtT = roots[j];
    const dq = e[j];
    const sDq = spot * dq;
    const kDf = v[CHUNK + row0 + j] * e[BLOCK + j];
    const pdf = INV_SQRT_2PI * g[j];
    const decay = (-sDq * pdf * v[4 * CHUNK + row0 + j]) / (2 * sqrtT);
    const n1 = n[j];
    const n2 = n[BLOCK + j];
    // The put's values through `sign` are exactly those of its own formulas: (−u)·v = −(u·v),
    // x − (−a) = x + a and x + (−b) = x − b. (Not the price: −(a − b) is −0 where b − a is +0.)
    prices[i] = sign > 0 ? sDq * n1 - kDf * n2 : kDf * n2 - sDq * n1;
    deltas[i] = sign * dq * n1;
    gammas[i] = (dq * pdf) / (spot * deviations[j]);
    vegas[i] = sDq * pdf * sqrtT;
    thetas[i] = decay - sign * (rate * kDf * n2) + sign * (dividend * sDq * n1);
    rhos[i] = sign * kDf * maturity * n2;
  }
}

/** Pass 5: in a block that has any, the rows with σ√T = 0 (or NaN), by their limits. */
function passLimits(isCall: boolean, start: number, end: number, outputs: readonly Float64Array[]): void {
  if (degenerateRows[0] === 0) return;
  const v = parameters;
  const row0 = start & (CHUNK - 1);
  const deviations = stdDevs;
  const out = limits;
  for (let j = 0; j < end - start; j++) {
    if (deviations[j] > 0) continue;
    deterministicInto(
      v[row0 + j],
      v[CHUNK + row0 + j],
      v[2 * CHUNK + row0 + j],
      v[3 * CHUNK + row0 + j],
      v[4 * CHUNK + row0 + j],
      v[5 * CHUNK + row0 + j],
      isCall,
      out,
    );
    for (let k = 0; k < 6; k++) outputs[k][start + j] = out[k];
  }
}

const PASSES: Pass[] = [passArguments, passExponentials, passNormals, passResults, passLimits];

/**
 * The values when σ√T = 0 (or NaN), the limits as σ√T → 0: the discounted intrinsic value of the
 * forward, e^{−rT}·max(±(F − K), 0), with N(d1) = N(d2) = 1, 0 or 1/2 as the forward is above,
 * below or exactly at the strike. Away from the strike gamma and vega are 0; exactly at it (F = K)
 * gamma is +Infinity (the payoff's kink), vega is its σ → 0 limit S e^{−qT} √T/√(2π), and when
 * T = 0 with σ > 0 theta is −Infinity.
 */
function deterministicInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  out: Float64Array,
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
