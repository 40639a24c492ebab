/**
 * The pricer this example's client owns: a European option under the Bachelier (normal) model,
 * as used for rates and spreads that can go negative. It never leaves the client's server: the
 * datagen workers only see its description and its prices, over gRPC.
 *
 * With forward F = S·e^{(r−q)T}, normal volatility σ (currency per √year), s = σ√T and
 * d = (F − K)/s:
 *   call = e^{−rT}·[(F − K)·N(d) + s·φ(d)],   put = e^{−rT}·[(K − F)·N(−d) + s·φ(d)],
 *   delta = ±e^{−qT}·N(±d),   vega = e^{−rT}·√T·φ(d).
 * At s = 0 (no volatility or no time) the option is worth its discounted intrinsic value.
 */
import { normCdf, normPdf, numberParameter, type ParamValues, type Pricer } from '@surrogate/pricing';

export const bachelierPricer: Pricer = Object.freeze({
  name: 'bachelier',
  version: '1.0.0',
  description: 'European call/put under the Bachelier (normal) model, closed form',
  parameters: Object.freeze([
    numberParameter('spot', 'currency', 'Spot price or rate of the underlying (may be negative)', -1e9, 1e9),
    numberParameter('strike', 'currency', 'Strike (may be negative)', -1e9, 1e9),
    numberParameter('rate', '1/year', 'Risk-free rate, continuously compounded', -1, 1),
    numberParameter('dividend', '1/year', 'Continuous yield of the underlying', -1, 1, { default: 0 }),
    numberParameter('normalVolatility', 'currency/sqrt(year)', 'Normal (absolute) volatility', 0, 1e6),
    numberParameter('maturity', 'years', 'Time to expiry', 0, 100),
    Object.freeze({
      kind: 'choice' as const,
      name: 'type',
      description: 'Option type',
      values: Object.freeze(['call', 'put']),
      default: 'call',
    }),
  ]),
  outputs: Object.freeze(['price', 'delta', 'vega']),
  evaluate(params: ParamValues, out: Float64Array): void {
    const spot = params.spot as number;
    const strike = params.strike as number;
    const rate = params.rate as number;
    const dividend = params.dividend as number;
    const sigma = params.normalVolatility as number;
    const t = params.maturity as number;
    const call = params.type !== 'put';
    const discount = Math.exp(-rate * t);
    const carry = Math.exp((rate - dividend) * t);
    const forward = spot * carry;
    const s = sigma * Math.sqrt(t);
    if (s === 0) {
      const intrinsic = call ? forward - strike : strike - forward;
      const itm = intrinsic > 0;
      out[0] = itm ? discount * intrinsic : 0;
      out[1] = itm ? (call ? 1 : -1) * discount * carry : 0;
      out[2] = 0;
      return;
    }
    const d = (forward - strike) / s;
    const density = normPdf(d);
    out[0] = call
      ? discount * ((forward - strike) * normCdf(d) + s * density)
      : discount * ((strike - forward) * normCdf(-d) + s * density);
    out[1] = (call ? normCdf(d) : -normCdf(-d)) * discount * carry;
    out[2] = discount * Math.sqrt(t) * density;
  },
});
