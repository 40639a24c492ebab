import {
  PricingError,
  blackScholes,
  getPricer,
  heston,
  hestonIntegratedVariance,
  hestonPricer,
  priceOne,
  type HestonInputs,
} from './index';

type Case = Omit<HestonInputs, 'type'>;

const call = (c: Case) => heston({ ...c, type: 'call' });
const put = (c: Case) => heston({ ...c, type: 'put' });

/** Black–Scholes with the Heston model's expected integrated variance. */
function bsLimit(c: Case, type: 'call' | 'put') {
  const w = hestonIntegratedVariance(c.v0, c.kappa, c.theta, c.maturity);
  return blackScholes({
    spot: c.spot,
    strike: c.strike,
    rate: c.rate,
    dividend: c.dividend ?? 0,
    volatility: Math.sqrt(w / c.maturity),
    maturity: c.maturity,
    type,
  });
}

describe('heston — published reference values', () => {
  // A. Lewis, high-precision Heston prices (Mathematica, 50-digit working precision, "good for
  // about 20 digits"), posted to the Wilmott forum thread "Heston - Reference Prices", 30 May 2012;
  // the same model as in Lewis, Option Valuation under Stochastic Volatility (2000):
  // S = 100, T = 1, r = 0.01, q = 0.02, v0 = 0.04, κ = 4, θ = 0.25, σ = 1, ρ = −0.5.
  const lewis: Case = {
    spot: 100,
    strike: 100,
    rate: 0.01,
    dividend: 0.02,
    maturity: 1,
    v0: 0.04,
    kappa: 4,
    theta: 0.25,
    sigma: 1,
    rho: -0.5,
  };
  /* eslint-disable no-loss-of-precision -- the published digits; each literal rounds to the nearest double. */
  const lewisValues: [number, number, number][] = [
    // strike, put, call
    [
      80, 7.958878113256768285213263077598987193482161301733,
      26.774758743998854221382195325726949201687074848341,
    ],
    [
      90, 12.017966707346304987709573290236471654992071308187,
      20.933349000596710388139445766564068085476194042256,
    ],
    [
      100, 17.055270961270109413522653999411000974895436309183,
      16.070154917028834278213466703938231827658768230714,
    ],
    [
      110, 23.017825898442800538908781834822560777763225722188,
      12.132211516709844867860534767549426052805766831181,
    ],
    [
      120, 29.811026202682471843340682293165857439167301370697,
      9.02491348345783563655337545409235713648905166715,
    ],
  ];
  /* eslint-enable no-loss-of-precision */

  it.each(lewisValues)("Lewis's reference prices, K = %d", (strike, expectedPut, expectedCall) => {
    expect(Math.abs(call({ ...lewis, strike }).price - expectedCall)).toBeLessThan(1e-9);
    expect(Math.abs(put({ ...lewis, strike }).price - expectedPut)).toBeLessThan(1e-9);
  });

  // F. Fang, C. W. Oosterlee, "A novel pricing method for European options based on Fourier-cosine
  // series expansions", SIAM J. Sci. Comput. 31(2) (2008) 826–848, §5.2.2, eq. (53) and Tables 4–5:
  // S = K = 100, r = q = 0, κ = 1.5768, σ = 0.5751, θ = 0.0398, v0 = 0.0175, ρ = −0.5711 (the Feller
  // condition 2κθ ≥ σ² fails: 0.1255 < 0.3307). Reference values (Carr–Madan with N = 2^17):
  // T = 1: 5.785155450; T = 10: 22.318945791.
  const fangOosterlee: Case = {
    spot: 100,
    strike: 100,
    rate: 0,
    dividend: 0,
    maturity: 1,
    v0: 0.0175,
    kappa: 1.5768,
    theta: 0.0398,
    sigma: 0.5751,
    rho: -0.5711,
  };

  it('Fang–Oosterlee T = 10 (Feller condition violated)', () => {
    expect(Math.abs(call({ ...fangOosterlee, maturity: 10 }).price - 22.318945791)).toBeLessThan(1e-8);
  });

  it('Fang–Oosterlee T = 1, within the accuracy of the paper’s own reference value', () => {
    // The paper's Carr–Madan value carries an error of about 1.6e-8 (our price, accurate to 1e-14
    // on Lewis's cases above, is 5.7851554344); the tolerance reflects the reference, not us.
    expect(Math.abs(call(fangOosterlee).price - 5.78515545)).toBeLessThan(2e-8);
  });

  // C. Kahl, P. Jäckel, "Not-so-complex logarithms in the Heston model", Wilmott Magazine, Sept.
  // 2005: S = 100, K = 200, T = 10, r = q = 0, v0 = θ = 0.16, κ = 1, σ = 2, ρ = −0.8 (a strongly
  // violated Feller condition and a long maturity, where the original formulation jumps branches):
  // 4.95212 (as used, to 2e-5, in QuantLib's test-suite/hestonmodel.cpp, testKahlJaeckelCase).
  it('Kahl–Jäckel long-dated case', () => {
    const price = call({
      spot: 100,
      strike: 200,
      rate: 0,
      dividend: 0,
      maturity: 10,
      v0: 0.16,
      kappa: 1,
      theta: 0.16,
      sigma: 2,
      rho: -0.8,
    }).price;
    expect(Math.abs(price - 4.95212)).toBeLessThan(1e-5);
  });

  // Wilmott forum thread "Heston or VG price check" (values used in QuantLib's
  // test-suite/hestonmodel.cpp, testAnalyticVsCached, to 1e-6): forward 1 at T = 0.7, r = 5%,
  // q = 2%, v0 = 0.09, κ = 1.2, θ = 0.08, σ = 1.8, ρ = −0.45 → calls 0.1330371, 0.0641016, 0.0270645.
  it.each([
    [0.9, 0.1330371],
    [1.0, 0.0641016],
    [1.1, 0.0270645],
  ])('Wilmott "Heston or VG price check", K = %d', (strike, expected) => {
    const price = call({
      spot: Math.exp(-0.021), // forward S·e^{(r−q)T} = 1
      strike,
      rate: 0.05,
      dividend: 0.02,
      maturity: 0.7,
      v0: 0.09,
      kappa: 1.2,
      theta: 0.08,
      sigma: 1.8,
      rho: -0.45,
    }).price;
    expect(Math.abs(price - expected)).toBeLessThan(1e-6);
  });
});

/**
 * An independent, deliberately plain evaluation of Lewis's formula for the tests: the Heston
 * characteristic function in Albrecher et al.'s form with textbook complex arithmetic, and the
 * integral by the trapezoidal rule on a fine uniform grid truncated where the integrand is below
 * 1e-16 (no control variate, no change of variable, no adaptivity).
 */
function lewisTrapezoid(c: Case): number {
  type C = [number, number];
  const add = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
  const sub = (a: C, b: C): C => [a[0] - b[0], a[1] - b[1]];
  const mul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
  const div = (a: C, b: C): C => {
    const d = b[0] * b[0] + b[1] * b[1];
    return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
  };
  const cexp = (a: C): C => [Math.exp(a[0]) * Math.cos(a[1]), Math.exp(a[0]) * Math.sin(a[1])];
  const clog = (a: C): C => [Math.log(Math.hypot(a[0], a[1])), Math.atan2(a[1], a[0])];
  const csqrt = (a: C): C => {
    const r = Math.hypot(a[0], a[1]);
    const re = Math.sqrt((r + a[0]) / 2);
    const im = Math.sqrt(Math.max(r - a[0], 0) / 2);
    return [re, a[1] < 0 ? -im : im];
  };
  const { kappa, theta, sigma, rho, v0, maturity: T } = c;
  // ln φ(z) at z = u − i/2: iz = 1/2 + iu, iz + z² = u² + 1/4
  const logPhi = (u: number): C => {
    const beta: C = [kappa - rho * sigma * 0.5, -rho * sigma * u];
    const d = csqrt(add(mul(beta, beta), [sigma * sigma * (u * u + 0.25), 0]));
    const g = div(sub(beta, d), add(beta, d));
    const e = cexp([-d[0] * T, -d[1] * T]);
    const one: C = [1, 0];
    const D = mul(div(sub(beta, d), [sigma * sigma, 0]), div(sub(one, e), sub(one, mul(g, e))));
    const logTerm = clog(div(sub(one, mul(g, e)), sub(one, g)));
    const Cc = mul(
      [(kappa * theta) / (sigma * sigma), 0],
      sub(mul(sub(beta, d), [T, 0]), mul([2, 0], logTerm)),
    );
    return add(Cc, mul([v0, 0], D));
  };
  const q = c.dividend ?? 0;
  const forward = c.spot * Math.exp((c.rate - q) * T);
  const x = Math.log(forward / c.strike);
  const f = (u: number): number => {
    const a = logPhi(u);
    return (Math.exp(a[0]) * Math.cos(a[1] + u * x)) / (u * u + 0.25);
  };
  const h = 0.01;
  let sum = 0.5 * f(0);
  for (let k = 1; ; k++) {
    const v = f(k * h);
    sum += v;
    if (Math.abs(v) < 1e-16 && k * h > 10) break;
  }
  return Math.exp(-c.rate * T) * (forward - (Math.sqrt(forward * c.strike) / Math.PI) * h * sum);
}

describe('heston — against an independent plain evaluation of Lewis’s formula', () => {
  // Long maturities with the Feller condition violated, where formulations that switch branches of
  // the complex logarithm fail; the trapezoidal rule converges exponentially for this smooth,
  // rapidly decaying integrand.
  it.each([
    [30, 0.3, 0.06, 1.5, -0.9],
    [30, 2, 0.04, 1, -0.5],
    [100, 0.5, 0.04, 2, -0.8],
    [10, 1, 0.16, 2, -0.8],
  ])('T = %d, κ = %d, θ = %d, σ = %d, ρ = %d', (maturity, kappa, theta, sigma, rho) => {
    const c: Case = {
      spot: 100,
      strike: 120,
      rate: 0.01,
      dividend: 0.02,
      maturity,
      v0: 0.09,
      kappa,
      theta,
      sigma,
      rho,
    };
    expect(2 * kappa * theta).toBeLessThan(sigma * sigma);
    expect(Math.abs(call(c).price - lewisTrapezoid(c))).toBeLessThan(1e-8);
  });
});

describe('heston — identities and limits', () => {
  // A spread of models: Feller satisfied and violated, |ρ| near 1, short and very long maturities.
  const models: Case[] = [
    {
      spot: 100,
      strike: 100,
      rate: 0.03,
      dividend: 0.01,
      maturity: 1,
      v0: 0.04,
      kappa: 2,
      theta: 0.04,
      sigma: 0.3,
      rho: -0.7,
    },
    {
      spot: 100,
      strike: 130,
      rate: 0.0,
      dividend: 0.02,
      maturity: 30,
      v0: 0.09,
      kappa: 0.3,
      theta: 0.06,
      sigma: 1.5,
      rho: -0.9,
    },
    {
      spot: 50,
      strike: 40,
      rate: -0.01,
      dividend: 0.0,
      maturity: 0.02,
      v0: 0.2,
      kappa: 10,
      theta: 0.1,
      sigma: 2,
      rho: 0.5,
    },
    {
      spot: 100,
      strike: 70,
      rate: 0.05,
      dividend: 0.05,
      maturity: 100,
      v0: 0.01,
      kappa: 0.1,
      theta: 0.3,
      sigma: 4,
      rho: -0.3,
    },
    {
      spot: 1,
      strike: 1.2,
      rate: 0.02,
      dividend: 0.0,
      maturity: 5,
      v0: 0.5,
      kappa: 0,
      theta: 0,
      sigma: 0.8,
      rho: 0.99,
    },
    {
      spot: 100,
      strike: 100,
      rate: 0.01,
      dividend: 0.0,
      maturity: 1,
      v0: 0.04,
      kappa: 1,
      theta: 0.04,
      sigma: 1,
      rho: -1,
    },
  ];

  it('put–call parity: C − P = S e^{−qT} − K e^{−rT}', () => {
    for (const m of models) {
      const parity =
        m.spot * Math.exp(-(m.dividend ?? 0) * m.maturity) - m.strike * Math.exp(-m.rate * m.maturity);
      const c = call(m);
      const p = put(m);
      expect(Math.abs(c.price - p.price - parity)).toBeLessThan(1e-10 * m.spot);
      // The deltas differ by e^{−qT}.
      expect(Math.abs(c.delta - p.delta - Math.exp(-(m.dividend ?? 0) * m.maturity))).toBeLessThan(1e-9);
    }
  });

  it('stays within the no-arbitrage bounds and is finite', () => {
    for (const m of models) {
      const c = call(m);
      const lower = Math.max(
        m.spot * Math.exp(-(m.dividend ?? 0) * m.maturity) - m.strike * Math.exp(-m.rate * m.maturity),
        0,
      );
      expect(c.price).toBeGreaterThanOrEqual(lower);
      expect(c.price).toBeLessThanOrEqual(m.spot * Math.exp(-(m.dividend ?? 0) * m.maturity));
      expect(Number.isFinite(c.delta)).toBe(true);
    }
  });

  it('delta matches a central difference of the price', () => {
    for (const m of models.slice(0, 5)) {
      const h = 1e-4 * m.spot;
      const fd = (call({ ...m, spot: m.spot + h }).price - call({ ...m, spot: m.spot - h }).price) / (2 * h);
      expect(Math.abs(call(m).delta - fd)).toBeLessThan(2e-6);
    }
  });

  it('σ → 0 is Black–Scholes with the expected integrated variance θT + (v0 − θ)(1 − e^{−κT})/κ', () => {
    const m: Case = {
      spot: 100,
      strike: 110,
      rate: 0.02,
      dividend: 0.01,
      maturity: 2,
      v0: 0.09,
      kappa: 1.5,
      theta: 0.04,
      sigma: 0,
      rho: -0.7,
    };
    for (const type of ['call', 'put'] as const) {
      const limit = bsLimit(m, type);
      // σ = 0 exactly: the variance path is deterministic.
      const exact = heston({ ...m, type });
      expect(exact.price).toBeCloseTo(limit.price, 12);
      expect(exact.delta).toBeCloseTo(limit.delta, 12);
      // The correction is first order in σ with correlation and second order without.
      for (const sigma of [1e-4, 1e-6]) {
        const correlated = heston({ ...m, sigma, type }).price - limit.price;
        expect(Math.abs(correlated)).toBeLessThan(300 * sigma);
        const uncorrelated = heston({ ...m, sigma, rho: 0, type }).price - limit.price;
        expect(Math.abs(uncorrelated)).toBeLessThan(1e-9 + 300 * sigma * sigma);
      }
    }
    const small = Math.abs(heston({ ...m, sigma: 1e-6, type: 'call' }).price - bsLimit(m, 'call').price);
    const smaller = Math.abs(heston({ ...m, sigma: 1e-7, type: 'call' }).price - bsLimit(m, 'call').price);
    expect(smaller).toBeLessThan(small);
  });

  it('prices rise with maturity when r = q = 0 (long maturities included)', () => {
    const m: Case = {
      spot: 100,
      strike: 100,
      rate: 0,
      dividend: 0,
      maturity: 1,
      v0: 0.04,
      kappa: 0.5,
      theta: 0.06,
      sigma: 1.2,
      rho: -0.8,
    };
    let previous = 0;
    for (const maturity of [0.1, 1, 5, 10, 30, 60, 100]) {
      const price = call({ ...m, maturity }).price;
      expect(price).toBeGreaterThan(previous);
      expect(price).toBeLessThan(100);
      previous = price;
    }
  });

  it('degenerate inputs: T = 0 is intrinsic, zero variance is the discounted forward payoff', () => {
    const m: Case = {
      spot: 100,
      strike: 90,
      rate: 0.05,
      dividend: 0.01,
      maturity: 0,
      v0: 0.04,
      kappa: 1,
      theta: 0.04,
      sigma: 0.5,
      rho: -0.5,
    };
    expect(call(m)).toEqual({ price: 10, delta: 1 });
    expect(put(m).price).toBe(0);
    const frozen = call({ ...m, maturity: 1, v0: 0, theta: 0 });
    expect(frozen.price).toBeCloseTo(100 * Math.exp(-0.01) - 90 * Math.exp(-0.05), 12);
  });

  it('is registered, declares its parameters and validates them', () => {
    expect(getPricer('heston')).toBe(hestonPricer);
    expect(hestonPricer.outputs).toEqual(['price', 'delta']);
    expect(hestonPricer.parameters.map((p) => p.name)).toEqual([
      'spot',
      'strike',
      'rate',
      'dividend',
      'maturity',
      'v0',
      'kappa',
      'theta',
      'sigma',
      'rho',
      'type',
    ]);
    const out = priceOne(hestonPricer, { ...models[0], type: 'call' });
    expect(out.price).toBeCloseTo(call(models[0]).price, 14);
    let error: unknown;
    try {
      heston({ ...models[0], rho: -1.5, type: 'call' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PricingError);
    expect((error as PricingError).code).toBe('INVALID_PARAMETER');
    expect((error as PricingError).details).toMatchObject({ parameter: 'rho', value: -1.5 });
  });
});
