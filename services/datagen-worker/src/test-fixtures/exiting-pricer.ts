/** A pricer plugin for tests: it ends its thread (process.exit) when x > 0.5, like a library that aborts. */
import { registerPricer, type ParamValues, type Pricer } from '@surrogate/pricing';
import { UNIT_X } from './unit-parameter';

const pricer: Pricer = {
  name: 'exits-above-half',
  version: '0.0.1',
  description: 'y = x, but exits the thread for x > 0.5 (test plugin)',
  parameters: [UNIT_X],
  outputs: ['y'],
  evaluate(params: ParamValues, out: Float64Array): void {
    const x = params.x as number;
    if (x > 0.5) process.exit(3);
    out[0] = x;
  },
};

registerPricer(pricer);
