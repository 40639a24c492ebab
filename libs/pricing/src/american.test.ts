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

  it('delta matches a central difference of the price and converges in steps', () => {
    const p: AmericanInputs = { ...base, strike: 110, dividend: 0, type: 'put' };
    const h = 0.01;
    const fd = (american({ ...p, spot: 100 + h }).price - american({ ...p, spot: 100 - h }).price) / (2 * h);
    expect(Math.abs(american(p).delta - fd)).toBeLessThan(2e-3);
    const fine = american({ ...p, steps: 2001 }).price;
    expect(Math.abs(american({ ...p, steps: 51 }).price - fine)).toBeGreaterThan(
      Math.abs(american(p).price - fine),
    );
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
