/**
 * A pricer plugin for tests: y = x · 4e38, finite as a double everywhere, but beyond float32's
 * largest value (≈ 3.4e38), in which chunks carry outputs, for x above about 0.85.
 */
import { registerPricer, type ParamValues, type Pricer } from '@surrogate/pricing';
import { UNIT_X } from './unit-parameter';

const pricer: Pricer = {
  name: 'overflows-float32',
  version: '0.0.1',
  description: 'y = x · 4e38 (test plugin)',
  parameters: [UNIT_X],
  outputs: ['y'],
  evaluate(params: ParamValues, out: Float64Array): void {
    out[0] = (params.x as number) * 4e38;
  },
};

registerPricer(pricer);
