import {
  AMERICAN_DEFAULT_STEPS,
  PricingError,
  american,
  americanPricer,
  blackScholes,
  getPricer,
  validateParams,
  type AmericanInputs,
} from './index';

function caught(f: () => unknown): PricingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PricingError);
    return e as PricingError;
  }
  throw new Error('expected an error');
}

describe('american — published reference values', () => {
  // American puts on a non-dividend stock, S = 40, r = 4.88%: the accurate ("finite-difference")
  // values of R. Geske, H. E. Johnson, "The American put option valued analytically", J. Finance
  // 39(5) (1984) 1511–1524, Table I, the benchmark reused as the "true" values by Broadie and
  // Detemple (1996) and Ju (1998). The strike-45, σ = 0.2, one-month put is exercised at once
  // (value K − S = 5.0000). Columns: T = 1/12, 4/12, 7/12 (0.0833, 0.3333, 0.5833 years).
  const table: [number, number, [number, number, number]][] = [
    [0.2, 35, [0.0062, 0.2004, 0.4328]],
    [0.2, 40, [0.8522, 1.5798, 1.9904]],
    [0.2, 45, [5.0, 5.0883, 5.267]],
    [0.3, 35, [0.0774, 0.6975, 1.2198]],
    [0.3, 40, [1.3099, 2.4825, 3.1696]],
    [0.3, 45, [5.0597, 5.7056, 6.2436]],
    [0.4, 35, [0.2466, 1.346, 2.1549]],
    [0.4, 40, [1.7681, 3.3874, 4.3526]],
    [0.4, 45, [5.2868, 6.5099, 7.383]],
  ];
  const maturities = [0.0833, 0.3333, 0.5833];

  it.each(table)('Geske–Johnson Table I, σ = %d, K = %d', (volatility, strike, values) => {
    maturities.forEach((maturity, i) => {
      const { price } = american({
        spot: 40,
        strike,
        rate: 0.0488,
        dividend: 0,
        volatility,
        maturity,
        type: 'put',
      });
      // The default tree is within 3e-4 of these four-decimal values (1e-3 is the target).
      expect(Math.abs(price - values[i])).toBeLessThan(3e-4);
    });
  });
});

describe('american — identities', () => {
  const base = { spot: 100, strike: 100, rate: 0.05, dividend: 0.03, volatility: 0.3, maturity: 1 };

  it('a call without dividends (r ≥ 0) is the European call exactly', () => {
    for (const strike of [70, 100, 140]) {
      for (const maturity of [0.1, 1, 5]) {
        const p = { ...base, strike, maturity, dividend: 0, type: 'call' as const };
        const a = american(p);
        const e = blackScholes(p);
        expect(Math.abs(a.price - e.price)).toBeLessThan(1e-10);
        expect(Math.abs(a.delta - e.delta)).toBeLessThan(1e-10);
      }
    }
    // Likewise a put when r ≤ 0 ≤ q.
    const p = { ...base, rate: -0.01, dividend: 0.02, type: 'put' as const };
    expect(Math.abs(american(p).price - blackScholes(p).price)).toBeLessThan(1e-10);
  });

  it('is worth at least the European option and the exercise value (premium ≥ 0)', () => {
    for (const type of ['call', 'put'] as const) {
      for (const strike of [60, 95, 100, 105, 160]) {
        for (const [rate, dividend] of [
          [0.08, 0.0],
          [0.02, 0.08],
          [-0.01, 0.01],
        ]) {
          const p = { ...base, strike, rate, dividend, type };
          const a = american(p).price;
          const e = blackScholes(p).price;
          expect(a - e).toBeGreaterThanOrEqual(0);
          expect(a).toBeGreaterThanOrEqual(type === 'call' ? 100 - strike : strike - 100);
        }
      }
    }
    // Early exercise is worth something for a deep in-the-money put with positive rates.
    expect(american({ ...base, strike: 130, dividend: 0, type: 'put' }).price).toBeGreaterThan(
      blackScholes({ ...base, strike: 130, dividend: 0, type: 'put' }).price + 0.5,
    );
  });

  it('put–call symmetry (McDonald–Schroder): C(S, K, r, q) = P(K, S, q, r)', () => {
    for (const [spot, strike] of [
      [100, 90],
      [100, 110],
      [80, 100],
    ]) {
      const c = american({ ...base, spot, strike, rate: 0.02, dividend: 0.07, type: 'call' }).price;
      const p = american({
        ...base,
        spot: strike,
        strike: spot,
        rate: 0.07,
        dividend: 0.02,
        type: 'put',
      }).price;
      expect(Math.abs(c - p)).toBeLessThan(5e-4);
    }
  });

  it('delta matches a central difference of the price', () => {
    for (const [spot, strike, rate, dividend, type] of [
      [100, 110, 0.05, 0, 'put'],
      [100, 90, 0.08, 0.02, 'put'],
      [100, 95, 0.03, 0.07, 'call'],
      [120, 100, 0.02, 0.12, 'call'],
    ] as const) {
      const p: AmericanInputs = { ...base, spot, strike, rate, dividend, type };
      const h = 0.01;
      const fd =
        (american({ ...p, spot: spot + h }).price - american({ ...p, spot: spot - h }).price) / (2 * h);
      expect(Math.abs(american(p).delta - fd)).toBeLessThan(1e-4);
    }
  });

  it('steps only matter where both rates are negative (double exercise boundary), and converge there', () => {
    const p: AmericanInputs = { ...base, strike: 100, rate: -0.01, dividend: -0.03, type: 'put' };
    const fine = american({ ...p, steps: 4001 }).price;
    expect(Math.abs(american({ ...p, steps: 51 }).price - fine)).toBeGreaterThan(
      Math.abs(american(p).price - fine),
    );
    expect(Math.abs(american(p).price - fine)).toBeLessThan(1e-3);
    expect(american(p).price).toBeGreaterThanOrEqual(blackScholes(p as Required<AmericanInputs>).price);
    // With a positive rate the boundary method does not use steps.
    const q: AmericanInputs = { ...base, strike: 110, dividend: 0, type: 'put' };
    expect(american({ ...q, steps: 51 })).toEqual(american(q));
  });

  it('deterministic paths: σ = 0 or T = 0 exercise at the best time', () => {
    // Put, r > 0, q = 0: exercising now beats waiting (K − S e^{−qt} vs K e^{−rt} − S).
    expect(american({ ...base, spot: 90, rate: 0.05, dividend: 0, volatility: 0, type: 'put' })).toEqual({
      price: 10,
      delta: -1,
    });
    // Call with q > r: exercise now.
    expect(
      american({ ...base, spot: 110, rate: 0.01, dividend: 0.05, volatility: 0, type: 'call' }).price,
    ).toBe(10);
    // Out of the money now, in the money at expiry: the discounted forward payoff.
    const later = american({ ...base, spot: 99, rate: 0.05, dividend: 0, volatility: 0, type: 'call' }).price;
    expect(later).toBeCloseTo(99 - 100 * Math.exp(-0.05), 12);
    expect(american({ ...base, maturity: 0, type: 'put', strike: 103 }).price).toBe(3);
  });

  it('stays finite at extreme inputs', () => {
    for (const volatility of [1e-6, 0.01, 5]) {
      for (const maturity of [1e-6, 100]) {
        for (const type of ['call', 'put'] as const) {
          const r = american({ ...base, volatility, maturity, steps: 51, type });
          expect(Number.isFinite(r.price) && Number.isFinite(r.delta)).toBe(true);
          expect(r.price).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('is registered; steps defaults and must be an integer', () => {
    expect(getPricer('american')).toBe(americanPricer);
    expect(americanPricer.outputs).toEqual(['price', 'delta']);
    const v = validateParams(americanPricer, { ...base, type: 'put' });
    expect(v.steps).toBe(AMERICAN_DEFAULT_STEPS);
    const e = caught(() => validateParams(americanPricer, { ...base, type: 'put', steps: 100.5 }));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.details).toMatchObject({ parameter: 'steps', value: 100.5, rule: 'integer' });
  });
});

/**
 * An independent reference for the tests: the Black–Scholes PDE in x = ln S on a uniform grid (S0
 * and K on nodes when S0 = K, ±5 standard deviations wide), Crank–Nicolson in time after four
 * implicit half steps (Rannacher), and at each step the linear complementarity problem solved
 * exactly by the Brennan–Schwartz algorithm (elimination away from the exercise region, then
 * substitution towards it with V = max(V, payoff)). Nothing in common with the pricer's
 * integral-equation method.
 */
function americanPde(p: Required<AmericanInputs>, half = 2000, steps = 800): number {
  const { spot, strike, rate, dividend, volatility, maturity, type } = p;
  const isPut = type === 'put';
  const sd = volatility * Math.sqrt(maturity);
  const width = Math.max(5 * sd, Math.abs(Math.log(strike / spot)) + 5 * sd);
  const dx = width / half;
  const n = 2 * half;
  const s = Float64Array.from({ length: n + 1 }, (_, j) => spot * Math.exp((j - half) * dx));
  const payoff = s.map((x) => Math.max(isPut ? strike - x : x - strike, 0));
  let v = Float64Array.from(payoff);
  const a = (0.5 * volatility * volatility) / (dx * dx);
  const b = (rate - dividend - 0.5 * volatility * volatility) / (2 * dx);
  const lo = a - b;
  const di = -2 * a - rate;
  const up = a + b;
  const rhs = new Float64Array(n + 1);
  const dd = new Float64Array(n + 1);
  const rr = new Float64Array(n + 1);
  const dt = maturity / steps;
  const schedule: [number, number][] = [];
  for (let k = 0; k < 4; k++) schedule.push([dt / 2, 1]);
  for (let k = 2; k < steps; k++) schedule.push([dt, 0.5]);
  let tau = 0;
  for (const [h, theta] of schedule) {
    tau += h;
    const edge = (x: number) => {
      const forward = isPut
        ? strike * Math.exp(-rate * tau) - x * Math.exp(-dividend * tau)
        : x * Math.exp(-dividend * tau) - strike * Math.exp(-rate * tau);
      return Math.max(forward, isPut ? strike - x : x - strike, 0);
    };
    for (let j = 1; j < n; j++) rhs[j] = v[j] + (1 - theta) * h * (lo * v[j - 1] + di * v[j] + up * v[j + 1]);
    const l = -theta * h * lo;
    const d = 1 - theta * h * di;
    const u = -theta * h * up;
    const w = new Float64Array(n + 1);
    w[0] = edge(s[0]);
    w[n] = edge(s[n]);
    rhs[1] -= l * w[0];
    rhs[n - 1] -= u * w[n];
    if (isPut) {
      dd[n - 1] = d;
      rr[n - 1] = rhs[n - 1];
      for (let j = n - 2; j >= 1; j--) {
        const m = u / dd[j + 1];
        dd[j] = d - m * l;
        rr[j] = rhs[j] - m * rr[j + 1];
      }
      for (let j = 1; j < n; j++) w[j] = Math.max(payoff[j], (rr[j] - (j > 1 ? l * w[j - 1] : 0)) / dd[j]);
    } else {
      dd[1] = d;
      rr[1] = rhs[1];
      for (let j = 2; j < n; j++) {
        const m = l / dd[j - 1];
        dd[j] = d - m * u;
        rr[j] = rhs[j] - m * rr[j - 1];
      }
      for (let j = n - 1; j >= 1; j--)
        w[j] = Math.max(payoff[j], (rr[j] - (j < n - 1 ? u * w[j + 1] : 0)) / dd[j]);
    }
    v = w;
  }
  return v[half];
}

describe('american — deep in and out of the money, long maturities, high rates, dividends', () => {
  const put = (
    spot: number,
    strike: number,
    rate: number,
    dividend: number,
    volatility: number,
    maturity: number,
  ) =>
    ({
      spot,
      strike,
      rate,
      dividend,
      volatility,
      maturity,
      type: 'put',
      steps: AMERICAN_DEFAULT_STEPS,
    }) as const;
  const call = (
    spot: number,
    strike: number,
    rate: number,
    dividend: number,
    volatility: number,
    maturity: number,
  ) =>
    ({
      spot,
      strike,
      rate,
      dividend,
      volatility,
      maturity,
      type: 'call',
      steps: AMERICAN_DEFAULT_STEPS,
    }) as const;

  it('the PDE reference itself reproduces Geske–Johnson Table I', () => {
    for (const [volatility, strike, maturity, expected] of [
      [0.2, 45, 0.3333, 5.0883],
      [0.3, 40, 0.5833, 3.1696],
      [0.4, 35, 0.0833, 0.2466],
      [0.4, 45, 0.5833, 7.383],
    ]) {
      expect(Math.abs(americanPde(put(40, strike, 0.0488, 0, volatility, maturity)) - expected)).toBeLessThan(
        3e-4,
      );
    }
  });

  it.each([
    ['deep in-the-money put, not yet exercised', put(70, 100, 0.05, 0, 0.3, 1)],
    ['deep out-of-the-money put', put(200, 100, 0.05, 0, 0.25, 1)],
    ['deep out-of-the-money call with dividends', call(50, 100, 0.05, 0.1, 0.25, 1)],
    ['30-year at-the-money put', put(100, 100, 0.05, 0, 0.2, 30)],
    ['10-year in-the-money put', put(80, 100, 0.04, 0.01, 0.35, 10)],
    ['20-year call with dividends', call(100, 100, 0.03, 0.05, 0.3, 20)],
    ['put at a 30% rate', put(100, 100, 0.3, 0, 0.3, 5)],
    ['put at a 50% rate', put(80, 100, 0.5, 0.02, 0.4, 2)],
    ['call with a 40% dividend yield', call(100, 100, 0.05, 0.4, 0.3, 1)],
    ['call with dividends, out of the money', call(80, 100, 0.03, 0.07, 0.2, 0.5)],
    ['call with dividends, at the money', call(100, 100, 0.03, 0.07, 0.2, 0.5)],
    ['call with dividends, near the exercise boundary', call(120, 100, 0.03, 0.07, 0.2, 0.5)],
    ['10-year call with a 20% dividend yield', call(100, 100, 0.02, 0.2, 0.4, 10)],
  ])(
    '%s: within 1e-3 of the PDE reference with default steps',
    (_, p) => {
      const price = american(p).price;
      expect(Math.abs(price - americanPde(p))).toBeLessThan(1e-3);
    },
    60_000,
  );

  it('is exactly the exercise value, with delta ∓1, where exercising now is optimal', () => {
    for (const p of [
      put(40, 100, 0.05, 0, 0.2, 1),
      put(10, 100, 0.5, 0, 0.4, 5),
      put(50, 100, 0.05, 0, 0.2, 30),
    ]) {
      expect(american(p)).toEqual({ price: p.strike - p.spot, delta: -1 });
      expect(Math.abs(americanPde(p) - (p.strike - p.spot))).toBeLessThan(1e-9);
    }
    for (const p of [call(200, 100, 0.03, 0.07, 0.2, 0.5), call(150, 100, 0.02, 0.15, 0.3, 3)]) {
      expect(american(p)).toEqual({ price: p.spot - p.strike, delta: 1 });
      expect(Math.abs(americanPde(p) - (p.spot - p.strike))).toBeLessThan(1e-9);
    }
  }, 60_000);

  it('is never below the exercise value or the European price, and is monotone in spot, everywhere', () => {
    for (const [rate, dividend, volatility, maturity] of [
      [0.05, 0, 0.2, 1],
      [0.3, 0.02, 0.4, 5],
      [0.02, 0.15, 0.3, 20],
      [0.08, 0.08, 0.05, 0.1],
    ]) {
      for (const type of ['call', 'put'] as const) {
        let previous = type === 'call' ? -Infinity : Infinity;
        for (let spot = 2; spot <= 300; spot += 2) {
          const p = { spot, strike: 100, rate, dividend, volatility, maturity, type };
          const { price, delta } = american(p);
          const exercise = type === 'call' ? spot - 100 : 100 - spot;
          expect(price).toBeGreaterThanOrEqual(Math.max(exercise, 0));
          expect(price).toBeGreaterThanOrEqual(blackScholes(p).price);
          if (type === 'call') expect(price).toBeGreaterThanOrEqual(previous);
          else expect(price).toBeLessThanOrEqual(previous);
          expect(Math.abs(delta)).toBeLessThanOrEqual(1);
          previous = price;
        }
      }
    }
  });
});
