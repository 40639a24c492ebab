/** A real-valued pricer parameter with its valid range. */
export interface NumberParameter {
  kind: 'number';
  name: string;
  /** Unit of the value, e.g. `"years"` or `"1/year"`; empty when dimensionless. */
  unit: string;
  description: string;
  /** Lower bound of the valid range (may be `-Infinity`). */
  min: number;
  /** Upper bound of the valid range (may be `Infinity`). */
  max: number;
  /** Whether `min` itself is a valid value. */
  minInclusive: boolean;
  /** Whether `max` itself is a valid value. */
  maxInclusive: boolean;
  /**
   * Only whole numbers are valid (e.g. a step or path count). Checked by `validateParams` and
   * `priceColumns`, reported by a gRPC pricer's `Describe`; such a parameter can be fixed in a spec
   * but not sampled as a continuous input.
   */
  integer?: boolean;
  default?: number;
  /**
   * The scale on which prices vary most evenly in this parameter (e.g. `sqrt` for a maturity:
   * prices move like σ√T). A surrogate whose input this is feeds its network that transform by
   * default; absent means linear.
   */
  scaling?: ParameterScaling;
}

/** Monotone rescalings a parameter may declare as its natural scale (see NumberParameter.scaling). */
export type ParameterScaling = 'sqrt' | 'log';

/** A parameter that takes one of a fixed set of string values. */
export interface ChoiceParameter {
  kind: 'choice';
  name: string;
  description: string;
  values: readonly string[];
  default?: string;
}

export type ParameterSpec = NumberParameter | ChoiceParameter;

/** Parameter values by name, as a pricer receives them. */
export type ParamValues = Readonly<Record<string, number | string>>;
