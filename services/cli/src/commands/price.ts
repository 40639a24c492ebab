import { SurrogateError } from '@surrogate/core';
import { getPricer, priceOne } from '@surrogate/pricing';
import { badInput } from '../cli-error';
import { parseJsonParams } from '../json-params';

/** `surrogate price <pricer> --params '<json>'`: one JSON line with every output of the pricer. */
export function priceCommand(pricerName: string | undefined, params: string | undefined): string {
  if (!pricerName) throw badInput('MISSING_ARGUMENT', "usage: surrogate price <pricer> --params '<json>'");
  const [values] = parseJsonParams(params, '--params');
  try {
    const result = priceOne(getPricer(pricerName), values as Record<string, unknown>);
    return JSON.stringify(result);
  } catch (err) {
    // Every typed error out of the pricing library is about the input: unknown pricer or parameter,
    // missing parameter, value out of range.
    if (err instanceof SurrogateError) throw badInput(err.code, err.message, { ...err.details });
    throw err;
  }
}
