import { asianGeometricInto } from './asian-geometric';
import { BrownianBridge } from './brownian-bridge';
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
import { normQuantile } from './normal-quantile';
import type { ParamValues } from './parameter-spec';
import type { Pricer } from './pricer';
import { SOBOL_MAX_DIMENSIONS, SobolSequence } from './sobol-sequence';
import { checkInteger, validateParams } from './validate-params';

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const exp = Math.exp;
const log = Math.log;
const sqrt = Math.sqrt;

/** Number of independently scrambled Sobol replications the paths are split into. */
export const ASIAN_REPLICATIONS = 16;
/** Default number of paths. */
export const ASIAN_DEFAULT_PATHS = 16384;
/** Largest number of paths. */
export const ASIAN_MAX_PATHS = 1 << 22;
/** Largest seed. */
export const ASIAN_MAX_SEED = 0xffffffff;
/** Points generated per block (per replication, before a block's paths are built). */
const BLOCK_VALUES = 1 << 16;

export interface AsianArithmeticInputs {
  spot: number;
  strike: number;
  rate: number;
  dividend?: number;
  volatility: number;
  maturity: number;
  type: 'call' | 'put';
  fixings: number;
  paths?: number;
  seed?: number;
}

export interface AsianArithmeticResult {
  price: number;
  stdError: number;
}

/** Workspace for one number of fixings, reused across calls. */
interface Workspace {
  fixings: number;
  block: number;
  columns: Float64Array[];
  normals: Float64Array;
  path: Float64Array;
  bridge: BrownianBridge;
}

let workspace: Workspace | undefined;
let sequences: SobolSequence[] = [];
let sequenceSeed = -1;
let sequenceFixings = -1;
const sumX = new Float64Array(ASIAN_REPLICATIONS);
const sumY = new Float64Array(ASIAN_REPLICATIONS);
const counts = new Float64Array(ASIAN_REPLICATIONS);
const estimates = new Float64Array(ASIAN_REPLICATIONS);
const geometric = new Float64Array(2);

function workspaceFor(fixings: number): Workspace {
  if (workspace === undefined || workspace.fixings !== fixings) {
    const block = Math.max(1, Math.min(4096, Math.floor(BLOCK_VALUES / fixings)));
    workspace = {
      fixings,
      block,
      columns: Array.from({ length: fixings }, () => new Float64Array(block)),
      normals: new Float64Array(fixings),
      path: new Float64Array(fixings),
      bridge: new BrownianBridge(fixings),
    };
  }
  return workspace;
}

/** The replications' Sobol sequences: replication r uses the Owen scramble seeded 16·seed + r. */
function sequencesFor(fixings: number, seed: number): SobolSequence[] {
  if (sequenceSeed !== seed || sequenceFixings !== fixings) {
    sequences = [];
    for (let r = 0; r < ASIAN_REPLICATIONS; r++) {
      sequences.push(new SobolSequence(fixings, { seed: seed * ASIAN_REPLICATIONS + r, scramble: true }));
    }
    sequenceSeed = seed;
    sequenceFixings = fixings;
  }
  return sequences;
}

/**
 * Monte Carlo price of a European option on the arithmetic average of S at the fixings
 * t_i = iT/n, i = 1…n (average-price Asian), under Black–Scholes with dividend yield q. Writes
 * out[0] = price, out[1] = stdError.
 *
 * Method: randomized quasi-Monte Carlo. The paths are split into 16 replications, each the first
 * points of an independently Owen-scrambled Sobol sequence (Joe–Kuo directions, dimension n); a
 * point's coordinates are mapped to normals by Φ⁻¹ and to the path by a Brownian bridge. Control
 * variate (Kemna–Vorst): the geometric-average option on the same path, whose expectation is known in
 * closed form, with the regression coefficient β estimated from all paths. The price is the mean of
 * the replication estimates and stdError their standard deviation over √16 — an honest error
 * estimate for scrambled QMC, where a per-path sample variance would not be. Deterministic in
 * (inputs, paths, seed). When σ√T = 0 the average is deterministic: exact price, stdError 0.
 */
export function asianArithmeticInto(
  spot: number,
  strike: number,
  rate: number,
  dividend: number,
  volatility: number,
  maturity: number,
  isCall: boolean,
  fixings: number,
  paths: number,
  seed: number,
  out: Float64Array | number[],
): void {
  const n = fixings;
  const carry = rate - dividend;
  const df = exp(-rate * maturity);
  const sign = isCall ? 1 : -1;
  if (!(volatility * sqrt(maturity) > 0)) {
    let sum = 0;
    for (let i = 1; i <= n; i++) sum += exp((carry * maturity * i) / n);
    const payoff = sign * ((spot * sum) / n - strike);
    out[0] = payoff > 0 ? df * payoff : 0;
    out[1] = 0;
    return;
  }
  asianGeometricInto(spot, strike, rate, dividend, volatility, maturity, isCall, n, geometric);
  const controlMean = geometric[0] / df; // E[geometric payoff]
  const ws = workspaceFor(n);
  const seqs = sequencesFor(n, seed);
  const { columns, normals, path, bridge, block } = ws;
  const dt = maturity / n;
  const drift = (carry - 0.5 * volatility * volatility) * dt;
  const scale = volatility * sqrt(maturity); // the bridge works on [0, 1]
  const logSpot = log(spot);
  const invN = 1 / n;
  let syy = 0;
  let sxy = 0;
  let sx = 0;
  let sy = 0;
  const base = Math.floor(paths / ASIAN_REPLICATIONS);
  const extra = paths - base * ASIAN_REPLICATIONS;
  for (let r = 0; r < ASIAN_REPLICATIONS; r++) {
    const count = base + (r < extra ? 1 : 0);
    const seq = seqs[r];
    let rx = 0;
    let ry = 0;
    for (let start = 0; start < count; start += block) {
      const m = count - start < block ? count - start : block;
      for (let d = 0; d < n; d++) seq.fillColumn(d, start, m, columns[d]);
      for (let k = 0; k < m; k++) {
        for (let d = 0; d < n; d++) normals[d] = normQuantile(columns[d][k]);
        bridge.transform(normals, path);
        let sumS = 0;
        let sumLog = 0;
        for (let i = 0; i < n; i++) {
          const logS = logSpot + drift * (i + 1) + scale * path[i];
          sumLog += logS;
          sumS += exp(logS);
        }
        const ax = sign * (sumS * invN - strike);
        const gy = sign * (exp(sumLog * invN) - strike);
        // Both payoffs centred on the control's known mean: the moment sums then do not cancel.
        const x = (ax > 0 ? ax : 0) - controlMean;
        const y = (gy > 0 ? gy : 0) - controlMean;
        rx += x;
        ry += y;
        syy += y * y;
        sxy += x * y;
      }
    }
    sumX[r] = rx;
    sumY[r] = ry;
    counts[r] = count;
    sx += rx;
    sy += ry;
  }
  const total = paths;
  const varY = syy / total - (sy / total) * (sy / total);
  const covXY = sxy / total - (sx / total) * (sy / total);
  const beta = varY > 0 ? covXY / varY : 0;
  // The replication estimates are centred on the control's mean; two passes for the variance.
  let mean = 0;
  for (let r = 0; r < ASIAN_REPLICATIONS; r++) {
    estimates[r] = sumX[r] / counts[r] - beta * (sumY[r] / counts[r]);
    mean += estimates[r];
  }
  mean /= ASIAN_REPLICATIONS;
  let sumSq = 0;
  for (let r = 0; r < ASIAN_REPLICATIONS; r++) sumSq += (estimates[r] - mean) * (estimates[r] - mean);
  const variance = sumSq / (ASIAN_REPLICATIONS - 1);
  mean += controlMean;
  const price = df * mean;
  out[0] = price > 0 ? price : 0;
  out[1] = df * sqrt(variance / ASIAN_REPLICATIONS);
}

/**
 * The `asian-arithmetic` pricer: European arithmetic-average-price call/put, randomized QMC with the
 * geometric control variate (see `asianArithmeticInto`). Parameters as `black-scholes` plus
 * `fixings` (integer n in [1, SOBOL_MAX_DIMENSIONS], fixings at iT/n), `paths` (integer in
 * [32, 2^22], default 16384; split over 16 scrambled replications, best a multiple of 16·2^k) and
 * `seed` (integer in [0, 2^32 − 1], default 0). Outputs `price` and `stdError`.
 */
export const asianArithmeticPricer: Pricer = Object.freeze({
  name: 'asian-arithmetic',
  version: '1.0.0',
  description:
    'Arithmetic-average-price Asian call/put: scrambled-Sobol QMC with a Brownian bridge and the geometric control variate; price and standard error.',
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
      'Number of equally spaced fixings at iT/n, i = 1…n (an integer; one Sobol dimension each)',
      1,
      SOBOL_MAX_DIMENSIONS,
    ),
    numberParameter(
      'paths',
      '',
      'Number of Monte Carlo paths (an integer)',
      2 * ASIAN_REPLICATIONS,
      ASIAN_MAX_PATHS,
      {
        default: ASIAN_DEFAULT_PATHS,
      },
    ),
    numberParameter('seed', '', 'Seed of the Sobol scrambles (an integer)', 0, ASIAN_MAX_SEED, {
      default: 0,
    }),
  ]),
  outputs: Object.freeze(['price', 'stdError']),
  validate(params: ParamValues): void {
    checkInteger(asianArithmeticPricer, 'fixings', params.fixings as number);
    checkInteger(asianArithmeticPricer, 'paths', params.paths as number);
    checkInteger(asianArithmeticPricer, 'seed', params.seed as number);
  },
  evaluate(params: ParamValues, out: Float64Array): void {
    asianArithmeticInto(
      params.spot as number,
      params.strike as number,
      params.rate as number,
      params.dividend as number,
      params.volatility as number,
      params.maturity as number,
      params.type !== 'put',
      params.fixings as number,
      params.paths as number,
      params.seed as number,
      out,
    );
  },
});

/** Validates the inputs against the `asian-arithmetic` pricer and returns price and stdError. */
export function asianArithmetic(p: AsianArithmeticInputs): AsianArithmeticResult {
  const v = validateParams(asianArithmeticPricer, { ...p });
  const out = [0, 0];
  asianArithmeticInto(
    v.spot as number,
    v.strike as number,
    v.rate as number,
    v.dividend as number,
    v.volatility as number,
    v.maturity as number,
    v.type !== 'put',
    v.fixings as number,
    v.paths as number,
    v.seed as number,
    out,
  );
  return { price: out[0], stdError: out[1] };
}
