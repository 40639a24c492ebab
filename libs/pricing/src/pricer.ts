import type { ParamValues, ParameterSpec } from './parameter-spec';

/** A (slow) pricing function that datagen samples and a surrogate learns. */
export interface Pricer {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly parameters: readonly ParameterSpec[];
  readonly outputs: readonly string[];
  /**
   * Optional rules that involve several parameters, or integrality, beyond each parameter's range
   * (e.g. a barrier on the correct side of spot). Called with range-checked values by
   * `validateParams` and for every row by `priceColumns`; throws an INVALID_PARAMETER
   * `PricingError` with details `{ pricer, parameter, value, rule }`.
   */
  validate?(params: ParamValues): void;
  /** Price one point with validated params; write every output, in `outputs` order, into out. */
  evaluate(params: ParamValues, out: Float64Array): void;
}
