import { errorMessage } from '@surrogate/core';
import {
  checkValue,
  PricingError,
  type NumberParameter,
  type ParameterSpec,
  type ParamValues,
} from '@surrogate/pricing';
import { boxProbe, MAX_CORNER_INPUTS, type BoxProbe, type BoxProbeSpec } from './box-probe';
import type { InputRange } from './experiment-spec';
import type { SpecIssue } from './spec-error';

/** What the box check needs of a pricer: its parameters and, if it has them, its own rules. */
export interface PricerRules {
  readonly name: string;
  readonly parameters: readonly ParameterSpec[];
  validate?(params: ParamValues): void;
}

export interface BoxCheckSpec extends BoxProbeSpec {
  fixed: Readonly<Record<string, number | string>>;
}

/** The spec field a parameter lives under, and the value written there. */
export function fieldOf(
  parameter: string,
  spec: { inputs: readonly InputRange[]; fixed: Readonly<Record<string, number | string>> },
): { field: string; value?: unknown } {
  const input = spec.inputs.find((i) => i.name === parameter);
  if (input) return { field: `inputs.${parameter}`, value: { min: input.min, max: input.max } };
  if (Object.prototype.hasOwnProperty.call(spec.fixed, parameter))
    return { field: `fixed.${parameter}`, value: spec.fixed[parameter] };
  return { field: parameter === '' ? 'inputs' : `fixed.${parameter}` };
}

/** Every parameter: the fixed value, else the default (inputs are filled in per point). */
function baseParams(
  pricer: PricerRules,
  fixed: Readonly<Record<string, number | string>>,
): Record<string, number | string> {
  const base: Record<string, number | string> = {};
  for (const p of pricer.parameters) {
    const v = Object.prototype.hasOwnProperty.call(fixed, p.name) ? fixed[p.name] : p.default;
    if (v !== undefined) base[p.name] = v;
  }
  return base;
}

/** The inputs a pricer's `validate` reads, seen by running it once at the centre of the box. */
function inputsReadByRules(
  pricer: PricerRules,
  spec: BoxCheckSpec,
  base: Record<string, number | string>,
): string[] {
  const names = spec.inputs.map((i) => i.name);
  if (pricer.validate === undefined || names.length <= MAX_CORNER_INPUTS) return names;
  const centre: Record<string, number | string> = { ...base };
  for (const i of spec.inputs) centre[i.name] = Math.fround(i.min + (i.max - i.min) / 2);
  const read = new Set<string>();
  const watched = new Proxy(centre, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  try {
    pricer.validate.call(pricer, watched);
  } catch {
    // a failure here is found again (and reported) among the probe points
  }
  return names.filter((n) => read.has(n));
}

/**
 * Checks a pricer's parameter ranges and its own rules (`validate`: integers, a barrier on the
 * right side of spot…) at the probe points of the input box (see `boxProbe`): its corners and the
 * first points of both sample streams, as float32. Returns one issue per parameter at fault,
 * naming the field, the value written there, the point and the rule; an empty list when all pass.
 */
export function boxIssues(pricer: PricerRules, spec: BoxCheckSpec): SpecIssue[] {
  if (spec.inputs.length === 0) return [];
  const base = baseParams(pricer, spec.fixed);
  const probe = boxProbe(spec, inputsReadByRules(pricer, spec, base));
  const specs = spec.inputs.map((i) => pricer.parameters.find((p) => p.name === i.name) as NumberParameter);
  const issues: SpecIssue[] = [];
  const reported = new Set<string>();
  const params: Record<string, number | string> = { ...base };
  for (let i = 0; i < probe.count; i++) {
    try {
      specs.forEach((s, j) => {
        params[s.name] = checkValue(pricer, s, (probe.columns[j] as Float64Array)[i]);
      });
      pricer.validate?.call(pricer, params);
    } catch (err) {
      const parameter =
        err instanceof PricingError && typeof err.details.parameter === 'string' ? err.details.parameter : '';
      if (reported.has(parameter)) continue;
      reported.add(parameter);
      issues.push(probeIssue(parameter, spec, probe, i, errorMessage(err)));
    }
  }
  return issues;
}

/** An issue for a rule broken at probe point `i`. */
export function probeIssue(
  parameter: string,
  spec: BoxCheckSpec,
  probe: BoxProbe,
  i: number,
  reason: string,
): SpecIssue {
  const { field, value } = fieldOf(parameter, spec);
  const rule = `${probe.where(i)}: ${reason}`;
  return value === undefined ? { field, rule } : { field, value, rule };
}
