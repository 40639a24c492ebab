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
  /**
   * Optional: price a whole batch of validated rows at once (what `priceColumns`, the datagen
   * workers' path, uses when present). Must give the same values as `evaluate` row by row. Writes
   * `batch.outputs[k][row]` for every requested output k (the others are null) and every row.
   */
  evaluateColumns?(batch: ColumnBatch): void;
}

/** A batch of rows for `Pricer.evaluateColumns`. */
export interface ColumnBatch {
  readonly rows: number;
  /**
   * Every parameter's value (validated, defaults applied): the fixed ones as they are; for the
   * parameters in `inputs`, the first row's value.
   */
  readonly params: ParamValues;
  /** The parameters that vary by row: one column of `rows` validated values each, by name. */
  readonly inputs: ReadonlyMap<string, Float32Array>;
  /** One column of `rows` values per pricer output, in `outputs` order; null when not requested. */
  readonly outputs: readonly (Float64Array | null)[];
}
