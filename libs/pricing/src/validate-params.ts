import type { ChoiceParameter, NumberParameter, ParameterSpec } from './parameter-spec';
import type { Pricer } from './pricer';
import { PricingError } from './pricing-error';

/** A value as it appears in an error message: strings quoted, numbers as JavaScript prints them. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The valid range of a number parameter in interval notation, e.g. `(0, 1000000000]`. */
export function describeRange(spec: NumberParameter): string {
  return `${spec.minInclusive ? '[' : '('}${spec.min}, ${spec.max}${spec.maxInclusive ? ']' : ')'}`;
}

/** Whether `value` (a number) lies in the valid range of `spec`. NaN never does. */
export function inRange(spec: NumberParameter, value: number): boolean {
  const aboveMin = spec.minInclusive ? value >= spec.min : value > spec.min;
  const belowMax = spec.maxInclusive ? value <= spec.max : value < spec.max;
  return aboveMin && belowMax;
}

function invalid(
  pricer: Pick<Pricer, 'name'>,
  parameter: string,
  value: unknown,
  rule: string,
  message: string,
): PricingError {
  return invalidParameter(pricer, parameter, value, rule, message);
}

function checkNumber(pricer: Pick<Pricer, 'name'>, spec: NumberParameter, value: unknown): number {
  if (typeof value !== 'number') {
    throw invalid(pricer, spec.name, value, 'number', `${spec.name} = ${formatValue(value)} is not a number`);
  }
  if (!Number.isFinite(value)) {
    throw invalid(
      pricer,
      spec.name,
      value,
      'finite number',
      `${spec.name} = ${value} is not a finite number`,
    );
  }
  if (!inRange(spec, value)) {
    const range = describeRange(spec);
    throw invalid(
      pricer,
      spec.name,
      value,
      `range ${range}`,
      `${spec.name} = ${value} is outside its valid range ${range}`,
    );
  }
  if (spec.integer === true && !Number.isInteger(value)) {
    throw invalid(pricer, spec.name, value, 'integer', `${spec.name} = ${value} is not an integer`);
  }
  return value;
}

function checkChoice(pricer: Pick<Pricer, 'name'>, spec: ChoiceParameter, value: unknown): string {
  const rule = `one of ${spec.values.join(', ')}`;
  if (typeof value !== 'string') {
    throw invalid(
      pricer,
      spec.name,
      value,
      rule,
      `${spec.name} = ${formatValue(value)} is not a string (${rule})`,
    );
  }
  if (!spec.values.includes(value)) {
    throw invalid(pricer, spec.name, value, rule, `${spec.name} = ${formatValue(value)} is not ${rule}`);
  }
  return value;
}

/** Checks one value against its parameter spec; returns it typed, or throws INVALID_PARAMETER. */
export function checkValue(
  pricer: Pick<Pricer, 'name'>,
  spec: ParameterSpec,
  value: unknown,
): number | string {
  return spec.kind === 'number' ? checkNumber(pricer, spec, value) : checkChoice(pricer, spec, value);
}

function findSpec(pricer: Pricer, name: string, value: unknown): ParameterSpec {
  const spec = pricer.parameters.find((p) => p.name === name);
  if (spec === undefined) {
    const valid = pricer.parameters.map((p) => p.name).join(', ');
    throw new PricingError(
      'UNKNOWN_PARAMETER',
      `${pricer.name}: unknown parameter ${JSON.stringify(name)}; valid parameters: ${valid}`,
      { details: { pricer: pricer.name, parameter: name, value, rule: `one of the parameters ${valid}` } },
    );
  }
  return spec;
}

/**
 * Validates a full parameter set for `pricer`: rejects unknown names, applies defaults, checks
 * every value's type and range, then the pricer's own cross-parameter rules (`validate`). Returns
 * a new object holding every parameter, in the pricer's parameter order.
 */
export function validateParams(
  pricer: Pricer,
  params: Record<string, unknown>,
): Record<string, number | string> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `${pricer.name}: parameters must be an object, got ${formatValue(params)}`,
    );
  }
  for (const name of Object.keys(params)) findSpec(pricer, name, params[name]);
  const out: Record<string, number | string> = {};
  for (const spec of pricer.parameters) {
    let value = Object.prototype.hasOwnProperty.call(params, spec.name) ? params[spec.name] : undefined;
    if (value === undefined) {
      if (spec.default === undefined) {
        throw new PricingError(
          'MISSING_PARAMETER',
          `${pricer.name}: parameter ${spec.name} is required and has no default`,
          {
            details: { pricer: pricer.name, parameter: spec.name, value: undefined, rule: 'required' },
          },
        );
      }
      value = spec.default;
    }
    out[spec.name] = checkValue(pricer, spec, value);
  }
  pricer.validate?.(out);
  return out;
}

/**
 * An INVALID_PARAMETER error for a rule a pricer checks itself (see `Pricer.validate`):
 * the message is prefixed with the pricer's name, details are `{ pricer, parameter, value, rule }`.
 */
export function invalidParameter(
  pricer: { name: string },
  parameter: string,
  value: unknown,
  rule: string,
  message: string,
): PricingError {
  return new PricingError('INVALID_PARAMETER', `${pricer.name}: ${message}`, {
    details: { pricer: pricer.name, parameter, value, rule },
  });
}

/** Checks that a number parameter holds an integer (INVALID_PARAMETER otherwise). */
export function checkInteger(pricer: { name: string }, parameter: string, value: number): void {
  if (!Number.isInteger(value)) {
    throw invalidParameter(pricer, parameter, value, 'integer', `${parameter} = ${value} is not an integer`);
  }
}

/**
 * Checks that a sampling box [min, max] for parameter `name` lies inside the parameter's valid
 * range — both as given and after rounding to float32, the precision sampled inputs travel in.
 * Throws UNKNOWN_PARAMETER or INVALID_PARAMETER (details `{ parameter, value: [min, max], rule }`).
 */
export function checkRange(pricer: Pricer, name: string, min: number, max: number): void {
  const spec = findSpec(pricer, name, [min, max]);
  const box = `[${min}, ${max}]`;
  if (spec.kind !== 'number') {
    throw invalid(
      pricer,
      name,
      [min, max],
      'number parameter',
      `${name} is a choice parameter and cannot be sampled over ${box}`,
    );
  }
  if (
    typeof min !== 'number' ||
    typeof max !== 'number' ||
    !Number.isFinite(min) ||
    !Number.isFinite(max) ||
    min > max
  ) {
    throw invalid(
      pricer,
      name,
      [min, max],
      'finite min <= max',
      `${name} sampling range ${box} must have finite bounds with min <= max`,
    );
  }
  const range = describeRange(spec);
  for (const bound of [min, max]) {
    if (!inRange(spec, bound)) {
      throw invalid(
        pricer,
        name,
        [min, max],
        `range ${range}`,
        `${name} sampling range ${box}: ${bound} is outside its valid range ${range}`,
      );
    }
    const rounded = Math.fround(bound);
    if (!inRange(spec, rounded)) {
      throw invalid(
        pricer,
        name,
        [min, max],
        `range ${range} after float32 rounding`,
        `${name} sampling range ${box}: ${bound} rounds to ${rounded} in float32, which is outside its valid range ${range}`,
      );
    }
  }
}
