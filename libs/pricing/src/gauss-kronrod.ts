/**
 * Globally adaptive Gauss–Kronrod quadrature (the 10-point Gauss / 21-point Kronrod pair of
 * QUADPACK's QK21: R. Piessens, E. de Doncker-Kapenga, C. Überhuber, D. Kahaner, QUADPACK,
 * Springer 1983) of one or two integrands at once, without allocation: the interval store is a
 * preallocated workspace. The interval with the largest error estimate |K21 − G10| is bisected
 * until the summed estimate is below the tolerance or the interval budget is spent.
 */

/* eslint-disable no-loss-of-precision -- the constants keep QUADPACK's digits; each literal rounds
   to the nearest double, which is what is intended. */
// Kronrod abscissae on [−1, 1] (x = 0 last); the odd indices are the 10 Gauss points.
const XGK = new Float64Array([
  0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
  0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
  0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
  0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
  0.294392862701460198131126603103866, 0.14887433898163121088482600112972, 0,
]);
const WGK = new Float64Array([
  0.011694638867371874278064396062192, 0.03255816230796472747881897245939, 0.05475589657435199603138130024458,
  0.07503967481091995276704314091619, 0.093125454583697605535065465083366,
  0.109387158802297641899210590325805, 0.123491976262065851077600525452125,
  0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
  0.147739104901338491374841515972068, 0.149445554002916905664936468389821,
]);
// 10-point Gauss weights for XGK[1], XGK[3], …, XGK[9].
const WG = new Float64Array([
  0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
  0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
  0.295524224714752870173892994651338,
]);
/* eslint-enable no-loss-of-precision */

/** Integrand evaluations per rule application. */
const NODES = 21;

const abs = Math.abs;

/** An integrand writing f(x) into out[0] (and out[1] for two at once). */
export type Integrand = (x: number, out: Float64Array) => void;

/** Result of one adaptive integration. */
export interface QuadratureResult {
  /** Integral of each component. */
  readonly value: Float64Array;
  /** Summed error estimate (max over the components per interval). */
  error: number;
  /** Number of integrand evaluations. */
  evaluations: number;
}

/** An adaptive integrator with its own workspace for up to `maxIntervals` intervals. */
export class AdaptiveGaussKronrod {
  readonly maxIntervals: number;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly err: Float64Array;
  private readonly val0: Float64Array;
  private readonly val1: Float64Array;
  private readonly fx = new Float64Array(2);
  private readonly part = new Float64Array(3); // one rule's value0, value1, error
  readonly result: QuadratureResult = { value: new Float64Array(2), error: 0, evaluations: 0 };

  constructor(maxIntervals: number) {
    this.maxIntervals = maxIntervals;
    this.lo = new Float64Array(maxIntervals);
    this.hi = new Float64Array(maxIntervals);
    this.err = new Float64Array(maxIntervals);
    this.val0 = new Float64Array(maxIntervals);
    this.val1 = new Float64Array(maxIntervals);
  }

  /** Applies the 21-point rule on [a, b]: writes value0, value1 and the error into `part`. */
  private rule(f: Integrand, two: boolean, a: number, b: number): void {
    const c = 0.5 * (a + b);
    const h = 0.5 * (b - a);
    const fx = this.fx;
    f(c, fx);
    let k0 = WGK[10] * fx[0];
    let g0 = 0;
    let k1 = two ? WGK[10] * fx[1] : 0;
    let g1 = 0;
    for (let j = 0; j < 10; j++) {
      const dx = h * XGK[j];
      f(c - dx, fx);
      const l0 = fx[0];
      const l1 = fx[1];
      f(c + dx, fx);
      const s0 = l0 + fx[0];
      k0 += WGK[j] * s0;
      if (j & 1) g0 += WG[j >> 1] * s0;
      if (two) {
        const s1 = l1 + fx[1];
        k1 += WGK[j] * s1;
        if (j & 1) g1 += WG[j >> 1] * s1;
      }
    }
    const part = this.part;
    part[0] = k0 * h;
    part[1] = k1 * h;
    const e0 = abs((k0 - g0) * h);
    const e1 = abs((k1 - g1) * h);
    part[2] = e0 > e1 ? e0 : e1;
  }

  /**
   * Integrates f over [a, b] (finite), first split into `pieces` equal intervals, refining until the
   * summed error estimate is at most `tolerance` or `maxIntervals` intervals are in use. With
   * `two`, f writes two components, integrated on the same intervals. Returns `this.result`
   * (overwritten by the next call).
   */
  integrate(
    f: Integrand,
    two: boolean,
    a: number,
    b: number,
    tolerance: number,
    pieces = 1,
  ): QuadratureResult {
    const { lo, hi, err, val0, val1, part } = this;
    let n = 0;
    let evaluations = 0;
    const width = (b - a) / pieces;
    for (let i = 0; i < pieces; i++) {
      const l = a + i * width;
      const r = i === pieces - 1 ? b : a + (i + 1) * width;
      this.rule(f, two, l, r);
      evaluations += NODES;
      lo[n] = l;
      hi[n] = r;
      val0[n] = part[0];
      val1[n] = part[1];
      err[n] = part[2];
      n++;
    }
    for (;;) {
      let total = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        total += err[i];
        if (err[i] > err[worst]) worst = i;
      }
      if (total <= tolerance || n >= this.maxIntervals) break;
      const l = lo[worst];
      const r = hi[worst];
      const m = 0.5 * (l + r);
      if (!(m > l && m < r)) break; // the interval cannot be split further in floating point
      this.rule(f, two, l, m);
      val0[worst] = part[0];
      val1[worst] = part[1];
      err[worst] = part[2];
      hi[worst] = m;
      this.rule(f, two, m, r);
      lo[n] = m;
      hi[n] = r;
      val0[n] = part[0];
      val1[n] = part[1];
      err[n] = part[2];
      n++;
      evaluations += 2 * NODES;
    }
    let v0 = 0;
    let v1 = 0;
    let e = 0;
    for (let i = 0; i < n; i++) {
      v0 += val0[i];
      v1 += val1[i];
      e += err[i];
    }
    const result = this.result;
    result.value[0] = v0;
    result.value[1] = v1;
    result.error = e;
    result.evaluations = evaluations;
    return result;
  }
}
