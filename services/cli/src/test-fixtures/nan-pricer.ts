/**
 * A pricer plugin for tests: Black–Scholes-shaped inputs, but it returns NaN when spot is above
 * 110 — the kind of bug a client's pricing library can have. Loaded with --pricer-module.
 */
import { registerPricer, type ParamValues, type Pricer } from '@surrogate/pricing';

const pricer: Pricer = {
  name: 'broken-linear',
  version: '0.0.1',
  description: 'spot × 2, or NaN above 110 (test plugin)',
  parameters: [
    {
      kind: 'number',
      name: 'spot',
      unit: 'currency',
      description: 'spot',
      min: 0,
      max: 1000,
      minInclusive: false,
      maxInclusive: true,
    },
  ],
  outputs: ['value'],
  evaluate(params: ParamValues, out: Float64Array): void {
    const spot = params.spot as number;
    out[0] = spot > 110 ? Number.NaN : spot * 2;
  },
};

registerPricer(pricer);
