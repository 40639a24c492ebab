import { priceOne } from '@surrogate/pricing';
import { bachelierPricer } from './bachelier';

const price = (p: Record<string, unknown>): Record<string, number> => priceOne(bachelierPricer, p);

const BASE = { spot: 100, strike: 103, rate: 0.03, dividend: 0.01, normalVolatility: 12, maturity: 0.75 };

/**
 * Independent truth: E[e^{−rT}(F + σ√T·Z − K)^+] by composite Simpson integration of the (smooth)
 * integrand (F + σ√T·z − K)·φ(z) from the kink z* = (K − F)/(σ√T) to z* + 24 (the rest is below 1e-30).
 */
function integratedCall(p: typeof BASE): number {
  const forward = p.spot * Math.exp((p.rate - p.dividend) * p.maturity);
  const s = p.normalVolatility * Math.sqrt(p.maturity);
  const n = 20000;
  const a = (p.strike - forward) / s;
  const h = 24 / n;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const z = a + i * h;
    const f = ((forward + s * z - p.strike) * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
    sum += f * (i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2);
  }
  return Math.exp(-p.rate * p.maturity) * ((sum * h) / 3);
}

describe('the example Bachelier pricer', () => {
  it('agrees with direct integration of the payoff against the normal density', () => {
    for (const strike of [80, 103, 125]) {
      const p = { ...BASE, strike };
      expect(Math.abs(price({ ...p, type: 'call' }).price - integratedCall(p))).toBeLessThan(1e-10);
    }
  });

  it('prices an at-the-money-forward option at e^{−rT}·σ√T/√(2π), call and put alike', () => {
    const forward = BASE.spot * Math.exp((BASE.rate - BASE.dividend) * BASE.maturity);
    const expected =
      (Math.exp(-BASE.rate * BASE.maturity) * BASE.normalVolatility * Math.sqrt(BASE.maturity)) /
      Math.sqrt(2 * Math.PI);
    for (const type of ['call', 'put'])
      expect(price({ ...BASE, strike: forward, type }).price).toBeCloseTo(expected, 12);
  });

  it('satisfies put–call parity, C − P = e^{−rT}(F − K), also for negative spot and strike', () => {
    for (const [spot, strike] of [
      [100, 90],
      [-0.5, 0.25],
      [0.1, -0.3],
    ] as const) {
      const p = { ...BASE, spot, strike };
      const forward = spot * Math.exp((p.rate - p.dividend) * p.maturity);
      const parity = Math.exp(-p.rate * p.maturity) * (forward - strike);
      expect(price({ ...p, type: 'call' }).price - price({ ...p, type: 'put' }).price).toBeCloseTo(
        parity,
        11,
      );
    }
  });

  it('has delta and vega equal to central finite differences', () => {
    for (const type of ['call', 'put']) {
      const out = price({ ...BASE, type });
      const h = 1e-4;
      const dS =
        (price({ ...BASE, type, spot: BASE.spot + h }).price -
          price({ ...BASE, type, spot: BASE.spot - h }).price) /
        (2 * h);
      const dV =
        (price({ ...BASE, type, normalVolatility: BASE.normalVolatility + h }).price -
          price({ ...BASE, type, normalVolatility: BASE.normalVolatility - h }).price) /
        (2 * h);
      expect(Math.abs(out.delta - dS)).toBeLessThan(1e-7);
      expect(Math.abs(out.vega - dV)).toBeLessThan(1e-7);
    }
  });

  it('is worth its discounted intrinsic value with no volatility or no time left', () => {
    const discounted =
      Math.exp(-BASE.rate * BASE.maturity) *
      (BASE.spot * Math.exp((BASE.rate - BASE.dividend) * BASE.maturity) - 90);
    expect(price({ ...BASE, strike: 90, normalVolatility: 0 }).price).toBeCloseTo(discounted, 12);
    expect(price({ ...BASE, strike: 110, normalVolatility: 0 }).price).toBe(0);
    expect(price({ ...BASE, strike: 90, maturity: 0, type: 'put' }).price).toBe(0);
    expect(price({ ...BASE, strike: 110, maturity: 0, type: 'put' }).price).toBeCloseTo(10, 12);
  });
});
