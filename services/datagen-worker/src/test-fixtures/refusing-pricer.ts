/**
 * A pricer plugin for tests: y = x, but its own rule refuses one value of x, REFUSED_X (training
 * sample 523 of x in [0, 1] with seed 1), like a client library that rejects a point deep inside a
 * box whose corners and first samples it accepts.
 */
import {
  chunkInputs,
  invalidParameter,
  registerPricer,
  type ParamValues,
  type Pricer,
} from '@surrogate/pricing';
import { UNIT_X } from './unit-parameter';

export const REFUSED_INDEX = 523;
export const REFUSED_X = chunkInputs({
  sampler: 'sobol',
  seed: 1,
  box: [{ name: 'x', min: 0, max: 1 }],
  start: REFUSED_INDEX,
  count: 1,
})[0]![0]!;

const pricer: Pricer = {
  name: 'refuses-one-x',
  version: '0.0.1',
  description: 'y = x, except at x = REFUSED_X (test plugin)',
  parameters: [UNIT_X],
  outputs: ['y'],
  validate(params: ParamValues): void {
    const x = params.x as number;
    if (x === REFUSED_X) throw invalidParameter(pricer, 'x', x, 'any other x', `x = ${x} is refused`);
  },
  evaluate(params: ParamValues, out: Float64Array): void {
    out[0] = params.x as number;
  },
};

registerPricer(pricer);
