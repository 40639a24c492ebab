import { errorMessage } from '@surrogate/core';
import type { Pricer } from './pricer';
import { PricingError } from './pricing-error';
import { validateParams } from './validate-params';

/** Validates `params`, prices one point and returns every output by name. */
export function priceOne(pricer: Pricer, params: Record<string, unknown>): Record<string, number> {
  const valid = validateParams(pricer, params);
  const out = new Float64Array(pricer.outputs.length).fill(NaN); // unwritten outputs show as NaN
  try {
    pricer.evaluate(valid, out);
  } catch (err) {
    throw new PricingError('PRICER_FAILED', `pricer ${pricer.name} failed: ${errorMessage(err)}`, {
      cause: err,
      details: { pricer: pricer.name, params: valid },
    });
  }
  const result: Record<string, number> = {};
  pricer.outputs.forEach((name, i) => {
    result[name] = out[i];
  });
  return result;
}
