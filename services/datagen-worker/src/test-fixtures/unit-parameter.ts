import type { NumberParameter } from '@surrogate/pricing';

/** The one input of the test pricers: x in [0, 1]. */
export const UNIT_X: NumberParameter = {
  kind: 'number',
  name: 'x',
  unit: '1',
  description: 'x',
  min: 0,
  max: 1,
  minInclusive: true,
  maxInclusive: true,
};
