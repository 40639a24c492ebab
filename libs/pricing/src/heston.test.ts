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
 * integral by the trapezoidal rule on a fine uniform grid (step h) truncated where the integrand is
 * below `cutoff` (no control variate, no change of variable, no adaptivity).
 */
function lewisTrapezoid(c: Case, h = 0.01, cutoff = 1e-16): number {
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
  let sum = 0.5 * f(0);
  for (let k = 1; ; k++) {
    const v = f(k * h);
    sum += v;
    if (Math.abs(v) < cutoff && k * h > 10) break;
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

describe('heston — extreme corners against published values', () => {
  // QuantLib test-suite/hestonmodel.cpp, testExponentialFitting4StrikesAndMaturities (K. Spanderen;
  // "reference prices are calculated using a boost multi-precision implementation of the
  // AnalyticHestonEngine", checked there to 1e-12): S = 1, r = 5.07%, q = 4.69%, v0 = 0.04,
  // κ = 2.5, θ = 0.06, σ = 0.75, ρ = −0.6 — the Feller condition fails (2κθ = 0.3 < σ² = 0.5625) —
  // maturities of 1 day, 1 month (31 days), 1 year and 10 years (3652 days) on Actual/365, strikes
  // K = F·exp(−m·√(θT)) for the moneyness m below (QuantLib's list, 2.5 and 1 included twice), the
  // value listed being that of the out-of-the-money option (the other follows by parity).
  const spanderen = [
    1.1631865252540813e-58, 1.06426822273258466e-49, 6.92896489110422086e-16, 8.19515526286263236e-6,
    0.000625608178476390504, 0.00417261379371945684, 0.000625608178476390504, 8.19515526286263236e-6,
    1.92308901296741414e-10, 1.57327901822368115e-23, 5.7830515043285098e-58, 3.56081886910098813e-48,
    2.9489071194212509e-23, 1.54181757781090727e-11, 0.000367960011879847279, 0.00493886106106039818,
    0.0227152343265593776, 0.00493886106106039818, 0.000367960011879847279, 3.06653474407784574e-6,
    8.86665241279348934e-11, 1.51206812371708868e-20, 4.18506719865401643e-29, 2.46637786897559908e-15,
    1.75338784910563671e-8, 0.00284789176080218294, 0.0199133097064688458, 0.0776848755698912041,
    0.0199133097064688458, 0.00284789176080218294, 0.00012462190796343504, 2.59755319566692257e-7,
    1.13853114743124721e-12, 4.27612073892114211e-39, 1.08387452075906664e-25, 4.15179522944463802e-11,
    0.00134157732880653131, 0.029018582813884912, 0.176405213088554197, 0.029018582813884912,
    0.00134157732880653131, 5.43674074281991917e-6, 6.51443921040230507e-11, 9.25756999394709285e-21,
  ];
  const moneyness = [-20, -10, -5, 2.5, 1, 0, 1, 2.5, 5, 10, 20];

  it.each([
    ['1 day', 1 / 365],
    ['1 month', 31 / 365],
    ['1 year', 1],
    ['10 years', 3652 / 365],
  ])('QuantLib multiprecision values (Feller violated), %s, ±20 standard deviations', (_, maturity) => {
    const t = maturity as number;
    const row = [1 / 365, 31 / 365, 1, 3652 / 365].indexOf(t);
    const rate = 0.0507;
    const dividend = 0.0469;
    const df = Math.exp(-rate * t);
    const forward = Math.exp(-dividend * t) / df;
    moneyness.forEach((m, j) => {
      const strike = Math.exp(-m * Math.sqrt(0.06 * t)) * forward;
      const otm = spanderen[row * moneyness.length + j];
      const model = {
        spot: 1,
        strike,
        rate,
        dividend,
        maturity: t,
        v0: 0.04,
        kappa: 2.5,
        theta: 0.06,
        sigma: 0.75,
        rho: -0.6,
      };
      const c = call(model).price;
      const p = put(model).price;
      const expectedCall = forward < strike ? otm : (forward - strike) * df + otm;
      const expectedPut = forward > strike ? otm : otm - (forward - strike) * df;
      // 1e-12 with S = 1 (1e-10 at S = 100), plus an ulp or two of the deep in-the-money value
      // itself (a put struck 5e6 times the forward is worth 3.4e6).
      expect(Math.abs(c - expectedCall)).toBeLessThan(1e-12 + 4e-16 * expectedCall);
      expect(Math.abs(p - expectedPut)).toBeLessThan(1e-12 + 4e-16 * expectedPut);
    });
  });

  // QuantLib test-suite/hestonmodel.cpp, testCosHestonEngine (cached values, checked there to 1e-10):
  // S = 100, r = 15%, q = 7%, T = 1, v0 = 0.1, κ = 4, θ = 0.22, σ = 1.8, ρ = −0.75 — a strongly
  // violated Feller condition (2κθ = 1.76, σ² = 3.24) with strikes far out of the money.
  it.each([
    [120, 'call', 9.364410588426075],
    [250, 'call', 0.01036797658132471],
    [80, 'put', 5.319092971836708],
    [10, 'put', 0.01032681906278383],
  ] as const)('QuantLib COS values, σ = 1.8, K = %d %s', (strike, type, expected) => {
    const price = heston({
      spot: 100,
      strike,
      rate: 0.15,
      dividend: 0.07,
      maturity: 1,
      v0: 0.1,
      kappa: 4,
      theta: 0.22,
      sigma: 1.8,
      rho: -0.75,
      type,
    }).price;
    expect(Math.abs(price - expected)).toBeLessThan(1e-10);
  });

  // QuantLib test-suite/hestonmodel.cpp, testAllIntegrationMethods (to 1e-8 there): an at-the-money
  // put, S = K = 100, r = 5%, q = 7.5%, T = 1, v0 = 0.1, κ = 4, θ = 0.05, σ = 0.4, ρ = −0.75.
  it('QuantLib integration-methods value', () => {
    const price = put({
      spot: 100,
      strike: 100,
      rate: 0.05,
      dividend: 0.075,
      maturity: 1,
      v0: 0.1,
      kappa: 4,
      theta: 0.05,
      sigma: 0.4,
      rho: -0.75,
    }).price;
    expect(Math.abs(price - 10.147041515497)).toBeLessThan(1e-9);
  });
});

describe('heston — extreme corners against the independent plain evaluation', () => {
  const base: Case = {
    spot: 100,
    strike: 100,
    rate: 0.02,
    dividend: 0.01,
    maturity: 1,
    v0: 0.04,
    kappa: 1.5,
    theta: 0.04,
    sigma: 1,
    rho: -0.7,
  };
  // Each reference is a plain trapezoidal sum with step 0.005, run until the integrand is below
  // 1e-18: slow (up to a few seconds), but with nothing in common with the pricer's quadrature.
  const check = (c: Case) => {
    expect(Math.abs(call(c).price - lewisTrapezoid(c, 0.005, 1e-18))).toBeLessThan(1e-8);
  };

  it.each([
    [0.5, 0.04, 1, 10],
    [0.1, 0.01, 2, 30],
    [0.05, 0.005, 3, 10],
  ])(
    'Feller condition strongly violated: κ = %d, θ = %d, σ = %d, T = %d',
    (kappa, theta, sigma, maturity) => {
      expect((2 * kappa * theta) / (sigma * sigma)).toBeLessThan(0.05);
      for (const strike of sigma < 3 ? [60, 160] : [160])
        check({ ...base, kappa, theta, sigma, maturity, strike, rho: -0.9 });
    },
    120_000,
  );

  it('ρ = ±1 exactly (the characteristic function then decays only like exp(−c√u))', () => {
    check({ ...base, rho: -1, maturity: 10, strike: 70 });
    check({ ...base, rho: 1, maturity: 10, strike: 140 });
    check({ ...base, rho: -1, maturity: 1, strike: 70 });
  }, 120_000);

  it('ρ = ±0.999 at short and one-year maturities', () => {
    check({ ...base, rho: -0.999, maturity: 1, strike: 70 });
    check({ ...base, rho: 0.999, maturity: 0.1, strike: 70 });
  }, 120_000);

  it('tiny and zero initial variance (with κθ > 0), short and long maturities', () => {
    for (const v0 of [1e-6, 0]) {
      check({ ...base, sigma: 0.5, v0, maturity: 0.1, strike: 110 });
      check({ ...base, sigma: 0.5, v0, maturity: 2, strike: 90 });
    }
  }, 120_000);

  it('maturities of one day and one week', () => {
    check({ ...base, maturity: 1 / 365, strike: 100 });
    check({ ...base, maturity: 1 / 365, strike: 103 });
    check({ ...base, maturity: 1 / 52, strike: 97 });
  }, 120_000);
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

  it('T → 0: Black–Scholes with volatility √v0 to first order in T, and the intrinsic value away from the strike', () => {
    const m: Case = {
      spot: 100,
      strike: 100,
      rate: 0.03,
      dividend: 0.01,
      maturity: 1,
      v0: 0.09,
      kappa: 2,
      theta: 0.04,
      sigma: 1.5,
      rho: -0.8,
    };
    let previous = Infinity;
    for (const maturity of [1e-3, 1e-4, 1e-5, 1e-6]) {
      const h = call({ ...m, maturity }).price;
      const b = blackScholes({ ...m, dividend: 0.01, volatility: 0.3, maturity, type: 'call' }).price;
      const relative = Math.abs(h / b - 1);
      expect(relative).toBeLessThan(2 * maturity);
      expect(relative).toBeLessThan(previous);
      previous = relative;
    }
    for (const maturity of [1e-4, 1e-6]) {
      const forward = (strike: number) =>
        100 * Math.exp(-0.01 * maturity) - strike * Math.exp(-0.03 * maturity);
      expect(Math.abs(call({ ...m, strike: 95, maturity }).price - forward(95))).toBeLessThan(1e-9);
      expect(call({ ...m, strike: 105, maturity }).price).toBeLessThan(1e-9);
      expect(Math.abs(put({ ...m, strike: 105, maturity }).price + forward(105))).toBeLessThan(1e-9);
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
