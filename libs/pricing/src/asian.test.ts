import {
  PricingError,
  asianArithmetic,
  asianArithmeticPricer,
  asianGeometric,
  asianGeometricPricer,
  blackScholes,
  getPricer,
  validateParams,
  type AsianArithmeticInputs,
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

describe('asian-geometric', () => {
  // E. G. Haug, The Complete Guide to Option Pricing Formulas (1st ed. 1998, pp. 96–97; 2nd ed.
  // §4.20.1, "Geometric Average-Rate Options", Kemna–Vorst): S = 80, K = 85, T = 0.25, r = 5%,
  // b = 8% (q = −3%), σ = 20%: put 4.6922.
  it("Haug's continuous geometric average-rate put", () => {
    const { price } = asianGeometric({
      spot: 80,
      strike: 85,
      rate: 0.05,
      dividend: -0.03,
      volatility: 0.2,
      maturity: 0.25,
      type: 'put',
      fixings: 0,
    });
    expect(Math.abs(price - 4.6922)).toBeLessThan(5e-5);
  });

  // L. Clewlow, C. Strickland, Implementing Derivatives Models (Wiley 1998), pp. 118–123, discrete
  // geometric average-price call: S = K = 100, q = 3%, r = 6%, σ = 20%, T = 1, 10 fixings at
  // i/10 — 5.3425606635 (to 1e-10 in QuantLib's test-suite/asianoptions.cpp).
  it('Clewlow–Strickland discrete geometric call, 10 fixings', () => {
    const { price } = asianGeometric({
      spot: 100,
      strike: 100,
      rate: 0.06,
      dividend: 0.03,
      volatility: 0.2,
      maturity: 1,
      type: 'call',
      fixings: 10,
    });
    expect(Math.abs(price - 5.3425606635)).toBeLessThan(1e-9);
  });

  const base = { spot: 100, strike: 95, rate: 0.04, dividend: 0.01, volatility: 0.3, maturity: 2 };

  it('one fixing is the European option on S_T', () => {
    for (const type of ['call', 'put'] as const) {
      const a = asianGeometric({ ...base, type, fixings: 1 });
      const e = blackScholes({ ...base, type });
      expect(a.price).toBeCloseTo(e.price, 12);
      expect(a.delta).toBeCloseTo(e.delta, 12);
    }
  });

  it('many fixings converge to continuous averaging at rate 1/n', () => {
    const continuous = asianGeometric({ ...base, type: 'call', fixings: 0 }).price;
    const e100 = Math.abs(asianGeometric({ ...base, type: 'call', fixings: 100 }).price - continuous);
    const e1000 = Math.abs(asianGeometric({ ...base, type: 'call', fixings: 1000 }).price - continuous);
    expect(e1000).toBeLessThan(e100 / 8);
    expect(
      Math.abs(asianGeometric({ ...base, type: 'call', fixings: 1_000_000 }).price - continuous),
    ).toBeLessThan(1e-5);
  });

  it('parity C − P = e^{−rT}(E[G] − K), delta against a central difference, σ = 0 limit', () => {
    for (const fixings of [0, 1, 12]) {
      const c = asianGeometric({ ...base, type: 'call', fixings });
      const p = asianGeometric({ ...base, type: 'put', fixings });
      const forward = asianGeometric({ ...base, strike: 1e-9, type: 'call', fixings }).price; // ≈ e^{−rT}E[G]
      expect(Math.abs(c.price - p.price - (forward - 95 * Math.exp(-0.08)))).toBeLessThan(1e-9);
      const h = 1e-3;
      const fd =
        (asianGeometric({ ...base, spot: 100 + h, type: 'call', fixings }).price -
          asianGeometric({ ...base, spot: 100 - h, type: 'call', fixings }).price) /
        (2 * h);
      expect(Math.abs(c.delta - fd)).toBeLessThan(1e-7);
    }
    // σ = 0: G = S·exp(bT(n + 1)/(2n)) deterministically.
    const det = asianGeometric({ ...base, volatility: 0, type: 'call', fixings: 4 }).price;
    expect(det).toBeCloseTo(Math.exp(-0.08) * (100 * Math.exp((0.03 * 2 * 5) / 8) - 95), 12);
  });

  it('is registered; fixings must be an integer', () => {
    expect(getPricer('asian-geometric')).toBe(asianGeometricPricer);
    const e = caught(() => validateParams(asianGeometricPricer, { ...base, type: 'call', fixings: 2.5 }));
    expect(e.details).toMatchObject({ parameter: 'fixings', value: 2.5, rule: 'integer' });
  });
});

describe('asian-arithmetic', () => {
  // Exact continuous-average call prices of V. Linetsky, "Spectral expansions for Asian (average
  // price) options", Operations Research 52(6) (2004) 856–867, Table 3 (the Fu–Madan–Wang test
  // cases), K = 2, q = 0. Our options average n discrete fixings at iT/n, whose price is
  // P(n) = P∞ + c/n + O(1/n²); Richardson's 2P(2n) − P(n) estimates P∞ (checked to well below the
  // standard error at these n), so it must lie within 3 standard errors of Linetsky's value.
  it.each([
    [0.02, 0.1, 1, 2.0, 0.0559860415],
    [0.18, 0.3, 1, 2.0, 0.2183875466],
    [0.05, 0.5, 1, 2.0, 0.2464156905],
  ])('Linetsky (2004): r = %d, σ = %d, T = %d, S = %d', (rate, volatility, maturity, spot, exact) => {
    const p = {
      spot,
      strike: 2,
      rate,
      dividend: 0,
      volatility,
      maturity,
      type: 'call' as const,
      paths: 8192,
    };
    const coarse = asianArithmetic({ ...p, fixings: 32 });
    const fine = asianArithmetic({ ...p, fixings: 64 });
    const extrapolated = 2 * fine.price - coarse.price;
    const se = Math.sqrt(4 * fine.stdError ** 2 + coarse.stdError ** 2);
    expect(se).toBeGreaterThan(0);
    expect(Math.abs(extrapolated - exact)).toBeLessThan(3 * se);
  });

  // E. Levy, "Asian options", in L. Clewlow, C. Strickland (eds.), Exotic Options: The State of the
  // Art (1997) — the case of QuantLib's test-suite/asianoptions.cpp with 12 monthly fixings
  // 1/12 … 12/12 (here: T = 1, n = 12): put, S = 90, K = 87, q = 6%, r = 2.5%, σ = 13%:
  // 2.1105094397. That value is itself a Monte Carlo estimate (QuantLib checks it to 2e-2); our
  // estimate, 2.11183 ± 0.00002 with 2^20 paths, and an independent pseudo-random check agree with
  // each other, 1.3e-3 above it — the tolerance below is the reference's, not ours.
  const levy: AsianArithmeticInputs = {
    spot: 90,
    strike: 87,
    rate: 0.025,
    dividend: 0.06,
    volatility: 0.13,
    maturity: 1,
    type: 'put',
    fixings: 12,
  };

  it('Levy (1997) monthly put, and a long high-path run within 3 standard errors', () => {
    const short = asianArithmetic(levy);
    expect(Math.abs(short.price - 2.1105094397)).toBeLessThan(2e-3);
    const long = asianArithmetic({ ...levy, paths: 1 << 17, seed: 99 });
    expect(long.stdError).toBeLessThan(short.stdError);
    expect(Math.abs(short.price - long.price)).toBeLessThan(
      3 * Math.sqrt(short.stdError ** 2 + long.stdError ** 2),
    );
  });

  it('is deterministic given the seed, and the seed matters', () => {
    const a = asianArithmetic({ ...levy, seed: 5 });
    expect(asianArithmetic({ ...levy, seed: 5 })).toEqual(a);
    const b = asianArithmetic({ ...levy, seed: 6 });
    expect(b.price).not.toBe(a.price);
    expect(Math.abs(a.price - b.price)).toBeLessThan(4 * Math.sqrt(a.stdError ** 2 + b.stdError ** 2));
  });

  it('one fixing is the European option, exactly (the control variate is then perfect)', () => {
    const r = asianArithmetic({ ...levy, fixings: 1, paths: 512 });
    expect(r.price).toBeCloseTo(blackScholes({ ...levy, dividend: 0.06 }).price, 12);
    expect(r.stdError).toBeLessThan(1e-12);
  });

  it('put–call parity within the standard errors; σ = 0 is exact', () => {
    const c = asianArithmetic({ ...levy, type: 'call' });
    const p = asianArithmetic({ ...levy, type: 'put' });
    let mean = 0; // E[A] = (S/n) Σ e^{b·i/n}
    for (let i = 1; i <= 12; i++) mean += (90 * Math.exp((-0.035 * i) / 12)) / 12;
    const parity = Math.exp(-0.025) * (mean - 87);
    expect(Math.abs(c.price - p.price - parity)).toBeLessThan(
      4 * Math.sqrt(c.stdError ** 2 + p.stdError ** 2),
    );
    const det = asianArithmetic({ ...levy, type: 'call', volatility: 0 });
    expect(det.price).toBeCloseTo(Math.exp(-0.025) * (mean - 87), 12);
    expect(det.stdError).toBe(0);
  });

  it('the arithmetic call is worth more than the geometric one (A ≥ G)', () => {
    const p = { ...levy, type: 'call' as const, strike: 90 };
    const a = asianArithmetic(p);
    expect(a.price).toBeGreaterThan(asianGeometric(p).price);
  });

  it('is registered; integer parameters, fixings capped at the Sobol dimensions', () => {
    expect(getPricer('asian-arithmetic')).toBe(asianArithmeticPricer);
    expect(asianArithmeticPricer.outputs).toEqual(['price', 'stdError']);
    expect(validateParams(asianArithmeticPricer, { ...levy })).toMatchObject({ paths: 16384, seed: 0 });
    for (const [name, value] of [
      ['paths', 1000.5],
      ['seed', 1.5],
      ['fixings', 3.5],
    ] as const) {
      const e = caught(() => validateParams(asianArithmeticPricer, { ...levy, [name]: value }));
      expect(e.details).toMatchObject({ parameter: name, rule: 'integer' });
    }
    const fixings = asianArithmeticPricer.parameters.find((s) => s.name === 'fixings');
    expect(fixings).toMatchObject({ min: 1, max: 128 });
    expect(caught(() => validateParams(asianArithmeticPricer, { ...levy, fixings: 129 })).code).toBe(
      'INVALID_PARAMETER',
    );
  });
});
