import type { ParamValues, ParameterSpec } from './parameter-spec';

/** A (slow) pricing function that datagen samples and a surrogate learns. */
export interface Pricer {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly parameters: readonly ParameterSpec[];
  readonly outputs: readonly string[];
  /** Price one point with validated params; write every output, in `outputs` order, into out. */
  evaluate(params: ParamValues, out: Float64Array): void;
}
