import { errorMessage } from '@surrogate/core';
import type { NumberParameter, ParamValues } from './parameter-spec';
import type { Pricer } from './pricer';
import { PricingError } from './pricing-error';
import { checkValue, validateParams } from './validate-params';

const min = Math.min;
const max = Math.max;

function outputIndices(pricer: Pricer, outputNames: readonly string[]): number[] {
  return outputNames.map((name) => {
    const k = pricer.outputs.indexOf(name);
    if (k < 0) {
      throw new PricingError(
        'UNKNOWN_OUTPUT',
        `${pricer.name}: unknown output ${JSON.stringify(name)}; valid outputs: ${pricer.outputs.join(', ')}`,
        { details: { pricer: pricer.name, output: name, valid: [...pricer.outputs] } },
      );
    }
    return k;
  });
}

function inputSpecs(
  pricer: Pricer,
  inputNames: readonly string[],
  inputs: readonly Float32Array[],
): NumberParameter[] {
  if (inputNames.length === 0)
    throw new PricingError('INVALID_ARGUMENT', 'priceColumns needs at least one input column');
  if (inputs.length !== inputNames.length) {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `${inputNames.length} input names but ${inputs.length} input columns`,
    );
  }
  const rows = inputs[0].length;
  return inputNames.map((name, k) => {
    if (inputNames.indexOf(name) !== k)
      throw new PricingError('INVALID_ARGUMENT', `input ${name} is listed twice`);
    if (inputs[k].length !== rows) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `input column ${name} has ${inputs[k].length} rows, expected ${rows}`,
      );
    }
    const spec = pricer.parameters.find((p) => p.name === name);
    if (spec === undefined) {
      const valid = pricer.parameters.map((p) => p.name).join(', ');
      throw new PricingError(
        'UNKNOWN_PARAMETER',
        `${pricer.name}: unknown parameter ${JSON.stringify(name)}; valid parameters: ${valid}`,
        {
          details: {
            pricer: pricer.name,
            parameter: name,
            value: undefined,
            rule: `one of the parameters ${valid}`,
          },
        },
      );
    }
    if (spec.kind !== 'number') {
      throw new PricingError(
        'INVALID_PARAMETER',
        `${pricer.name}: ${name} is a choice parameter and cannot be an input column`,
        {
          details: { pricer: pricer.name, parameter: name, value: undefined, rule: 'number parameter' },
        },
      );
    }
    return spec;
  });
}

/** Bit access to doubles, for `nextUp`. */
const bitsScratch = new Float64Array(1);
const bitsView = new BigInt64Array(bitsScratch.buffer);

/** The smallest double above x (x not NaN or +Infinity). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  bitsScratch[0] = x;
  bitsView[0] += x > 0 ? 1n : -1n;
  return bitsScratch[0];
}

/**
 * Writes into bounds[0], bounds[1] the doubles v with `Number.isFinite(v) && inRange(spec, v)` as
 * one closed interval: an exclusive bound moves to the next double inside (v > m ⇔ v ≥ nextUp(m)
 * for doubles), infinite bounds to the largest finite doubles. Empty (lo > hi) if none is valid.
 */
function validInterval(spec: NumberParameter, bounds: Float64Array): void {
  const lo = spec.minInclusive ? spec.min : nextUp(spec.min);
  const hi = spec.maxInclusive ? spec.max : -nextUp(-spec.max);
  bounds[0] = max(lo, -Number.MAX_VALUE);
  bounds[1] = min(hi, Number.MAX_VALUE);
}

const intervalScratch = new Float64Array(2);

/**
 * The first row at which an input is not finite or outside its valid range; `rows` if none. One
 * tight loop per column comparing with the range as a closed interval (a NaN fails both
 * comparisons), each stopping at the first bad row found so far.
 */
function firstInvalidRow(
  specs: readonly NumberParameter[],
  inputs: readonly Float32Array[],
  rows: number,
): number {
  let first = rows;
  const bounds = intervalScratch;
  for (let k = 0; k < specs.length; k++) {
    validInterval(specs[k], bounds);
    first = firstOutside(inputs[k], bounds, first);
  }
  return first;
}

/**
 * The first of column[0…end−1] outside [bounds[0], bounds[1]] (or NaN); `end` if none. (The bounds
 * come in a Float64Array: read before the loop they are plain doubles, where number arguments
 * would be checked and unboxed on every row.)
 */
function firstOutside(column: Float32Array, bounds: Float64Array, end: number): number {
  const lo = bounds[0];
  const hi = bounds[1];
  const n = end | 0;
  for (let row = 0; row < n; row++) {
    const v = column[row];
    if (!(v >= lo && v <= hi)) return row;
  }
  return n;
}

/** Prefixes a parameter error with the row it came from (details gain `row`). */
function rowError(err: unknown, row: number): unknown {
  if (!(err instanceof PricingError)) return err;
  return new PricingError(err.code, `row ${row}: ${err.message}`, {
    cause: err,
    details: { ...err.details, row },
  });
}

/** Runs `f`; an error about one of the input columns is attributed to `row`. */
function withRow<T>(row: number, f: () => T, inputNames: readonly string[]): T {
  try {
    return f();
  } catch (err) {
    const parameter = err instanceof PricingError ? err.details.parameter : undefined;
    throw typeof parameter === 'string' && inputNames.includes(parameter) ? rowError(err, row) : err;
  }
}

/** Writes one row's input values into a params object. */
type RowWriter = (
  params: Record<string, number | string>,
  inputs: readonly Float32Array[],
  row: number,
) => void;

/** Row writers by pricer and input-name list (see `rowWriter`). */
const rowWriters = new WeakMap<Pricer, Map<string, RowWriter>>();

/**
 * A function storing inputs[k][row] into params[inputNames[k]] for every k. Stores through a
 * variable key (params[name] in a loop over names) hit V8's megamorphic keyed-store path, which
 * cost more than pricing a Black–Scholes row; this function is generated once per pricer and
 * input-name list with the names as literal keys, so every store is a plain monomorphic field
 * store. The names are embedded as JSON string literals (always valid, never code).
 */
function rowWriter(pricer: Pricer, inputNames: readonly string[]): RowWriter {
  let byNames = rowWriters.get(pricer);
  if (byNames === undefined) {
    byNames = new Map();
    rowWriters.set(pricer, byNames);
  }
  const key = JSON.stringify(inputNames);
  let writer = byNames.get(key);
  if (writer === undefined) {
    const body = inputNames.map((name, k) => `p[${JSON.stringify(name)}] = c[${k}][row];`).join('\n');
    writer = new Function('p', 'c', 'row', `'use strict';\n${body}`) as RowWriter;
    byNames.set(key, writer);
  }
  return writer;
}

/** A column of `rows` NaNs in a standalone (transferable) ArrayBuffer. */
function nanColumn(rows: number): Float64Array {
  const column = new Float64Array(Buffer.allocUnsafeSlow(rows * 8).buffer, 0, rows);
  return column.fill(NaN);
}

/** Throws the error of the first input of `row` outside its valid range (there is one). */
function throwRowError(
  pricer: Pricer,
  specs: readonly NumberParameter[],
  inputs: readonly Float32Array[],
  row: number,
): void {
  for (let k = 0; k < specs.length; k++) {
    try {
      checkValue(pricer, specs[k], inputs[k][row]);
    } catch (err) {
      throw rowError(err, row);
    }
  }
  throw new PricingError('INVALID_ARGUMENT', `row ${row}: an input is outside its valid range`);
}

/**
 * Prices validated rows with `pricer.evaluateColumns`: each requested output is written once
 * (NaN where the pricer writes nothing) and copied to any further column that asks for it.
 */
function evaluateBatch(
  pricer: Pricer,
  params: ParamValues,
  inputNames: readonly string[],
  inputs: readonly Float32Array[],
  indices: readonly number[],
  columns: Float64Array[],
): void {
  const outputs: (Float64Array | null)[] = pricer.outputs.map(() => null);
  indices.forEach((k, j) => {
    if (outputs[k] === null) outputs[k] = columns[j];
  });
  const byName = new Map(inputNames.map((name, k) => [name, inputs[k]]));
  try {
    pricer.evaluateColumns?.({ rows: inputs[0].length, params, inputs: byName, outputs });
  } catch (err) {
    throw new PricingError('PRICER_FAILED', `pricer ${pricer.name} failed: ${errorMessage(err)}`, {
      cause: err,
      details: { pricer: pricer.name, params: { ...params } },
    });
  }
  indices.forEach((k, j) => {
    if (outputs[k] !== columns[j]) columns[j].set(outputs[k] as Float64Array);
  });
}

/**
 * Evaluates `pricer` at every row: the parameters are `fixed` overridden by the row's input values
 * (inputs[k][row] for inputNames[k], used exactly as stored, i.e. as float32 values). Every row is
 * validated, including the pricer's cross-parameter rules (`Pricer.validate`). A pricer with
 * `evaluateColumns` gets all rows at once, after every row has been validated. Returns one
 * Float64Array per requested output (UNKNOWN_OUTPUT if the pricer has no
 * such output). Non-finite results are returned as they are; see `findNonFinite`.
 */
export function priceColumns(
  pricer: Pricer,
  fixed: ParamValues,
  inputNames: readonly string[],
  inputs: readonly Float32Array[],
  outputNames: readonly string[],
): Float64Array[] {
  const indices = outputIndices(pricer, outputNames);
  const specs = inputSpecs(pricer, inputNames, inputs);
  const rows = inputs[0].length;
  // A batch pricer's columns start as NaN (what it leaves unwritten shows as NaN), allocated without
  // zeroing first: one pass over the memory instead of two.
  const batch = pricer.evaluateColumns !== undefined;
  const columns = outputNames.map(() => (batch ? nanColumn(rows) : new Float64Array(rows)));
  if (rows === 0) return columns;

  // Validate the fixed part once, with the inputs set to the first row's values; then only the
  // inputs change from row to row.
  const first: Record<string, unknown> = { ...fixed };
  inputNames.forEach((name, k) => {
    first[name] = inputs[k][0];
  });
  const params = withRow(0, () => validateParams(pricer, first), inputNames);
  const out = new Float64Array(pricer.outputs.length);
  const nOutputs = indices.length;
  const nAll = out.length;
  const validate = pricer.validate;
  // The inputs' ranges are checked column by column up front (a tight loop per column); the row
  // loop then raises the error, with checkValue's message, when it reaches the first bad row, so
  // errors come in the same order as if every row were checked in turn.
  const firstBad = firstInvalidRow(specs, inputs, rows);
  const write = rowWriter(pricer, inputNames);
  if (batch) {
    // Validate every row first, then evaluate the whole batch at once.
    if (firstBad < rows || validate !== undefined) {
      for (let row = 0; row < rows; row++) {
        if (row === firstBad) throwRowError(pricer, specs, inputs, row);
        if (validate !== undefined) {
          write(params, inputs, row);
          try {
            validate.call(pricer, params);
          } catch (err) {
            throw rowError(err, row);
          }
        }
      }
    }
    evaluateBatch(pricer, params, inputNames, inputs, indices, columns);
    return columns;
  }
  for (let row = 0; row < rows; row++) {
    if (row === firstBad) throwRowError(pricer, specs, inputs, row);
    write(params, inputs, row);
    if (validate !== undefined) {
      try {
        validate.call(pricer, params);
      } catch (err) {
        throw rowError(err, row);
      }
    }
    // An output the pricer fails to write shows up as NaN instead of the previous row's value.
    // (A loop: TypedArray.prototype.fill is a runtime call, costlier than a few stores.)
    for (let j = 0; j < nAll; j++) out[j] = NaN;
    try {
      pricer.evaluate(params, out);
    } catch (err) {
      throw new PricingError(
        'PRICER_FAILED',
        `pricer ${pricer.name} failed at row ${row}: ${errorMessage(err)}`,
        {
          cause: err,
          details: { pricer: pricer.name, row, params: { ...params } },
        },
      );
    }
    for (let j = 0; j < nOutputs; j++) columns[j][row] = out[indices[j]];
  }
  return columns;
}
