import { errorMessage } from '@surrogate/core';
import { v1 } from '@surrogate/proto';
import { GrpcPricerError } from './grpc-pricer-error';
import type { ParameterSpec } from './parameter-spec';
import type { Pricer } from './pricer';
import { checkPricerShape } from './pricer-registry';

/**
 * What a pricer takes and returns, without the pricing function: a local `Pricer` is one, and a
 * gRPC pricer's `Describe` answer becomes one. Specs are checked against it.
 */
export interface PricerDescription {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly parameters: readonly ParameterSpec[];
  readonly outputs: readonly string[];
  /** The most rows one PriceBatch call may carry; 0 = no limit. */
  readonly maxBatchRows: number;
}

/** The `Describe` answer for a pricer. */
export function describeToWire(
  pricer: Pick<Pricer, 'name' | 'version' | 'description' | 'parameters' | 'outputs'>,
  maxBatchRows = 0,
): v1.PricerDescription {
  return v1.PricerDescription.create({
    name: pricer.name,
    version: pricer.version,
    description: pricer.description,
    outputs: [...pricer.outputs],
    maxBatchRows,
    parameters: pricer.parameters.map((p) =>
      p.kind === 'number'
        ? v1.ParameterDescription.create({
            name: p.name,
            unit: p.unit,
            description: p.description,
            number: {
              min: p.min,
              max: p.max,
              minInclusive: p.minInclusive,
              maxInclusive: p.maxInclusive,
              integer: p.integer === true,
              hasDefault: p.default !== undefined,
              defaultValue: p.default ?? 0,
              scaling: p.scaling ?? '',
            },
          })
        : v1.ParameterDescription.create({
            name: p.name,
            unit: '',
            description: p.description,
            choice: {
              values: [...p.values],
              hasDefault: p.default !== undefined,
              defaultValue: p.default ?? '',
            },
          }),
    ),
  });
}

function parameterFromWire(p: v1.IParameterDescription): ParameterSpec {
  const name = p.name ?? '';
  const description = p.description ?? '';
  if (p.number) {
    const n = p.number;
    return {
      kind: 'number',
      name,
      unit: p.unit ?? '',
      description,
      min: n.min ?? 0,
      max: n.max ?? 0,
      minInclusive: n.minInclusive ?? false,
      maxInclusive: n.maxInclusive ?? false,
      ...(n.integer ? { integer: true } : {}),
      ...(n.hasDefault ? { default: n.defaultValue ?? 0 } : {}),
      ...(n.scaling === 'sqrt' || n.scaling === 'log' ? { scaling: n.scaling } : {}),
    };
  }
  if (p.choice) {
    const c = p.choice;
    return {
      kind: 'choice',
      name,
      description,
      values: [...(c.values ?? [])],
      ...(c.hasDefault ? { default: c.defaultValue ?? '' } : {}),
    };
  }
  throw new Error(`parameter ${JSON.stringify(name)} is neither a number nor a choice`);
}

/**
 * A `Describe` answer as a PricerDescription, checked like a pricer registered locally (names,
 * non-empty ranges, defaults in range, outputs unique) and against the name asked for.
 * A malformed answer is REMOTE_BAD_RESPONSE, naming `where` (the pricer URL).
 */
export function describeFromWire(
  wire: v1.IPricerDescription,
  expectedName: string,
  where: string,
): PricerDescription {
  const bad = (reason: string, cause?: unknown): GrpcPricerError =>
    new GrpcPricerError('REMOTE_BAD_RESPONSE', `${where}: Describe returned ${reason}`, {
      cause,
      details: { pricer: where, reason },
    });
  if (wire.name !== expectedName) throw bad(`the pricer ${JSON.stringify(wire.name)}, not ${expectedName}`);
  let parameters: ParameterSpec[];
  try {
    parameters = (wire.parameters ?? []).map(parameterFromWire);
  } catch (err) {
    throw bad(`a malformed parameter: ${errorMessage(err)}`, err);
  }
  const description: PricerDescription = {
    name: wire.name,
    version: wire.version ?? '',
    description: wire.description ?? '',
    parameters,
    outputs: [...(wire.outputs ?? [])],
    maxBatchRows: wire.maxBatchRows ?? 0,
  };
  try {
    checkPricerShape({ ...description, evaluate: () => undefined });
  } catch (err) {
    throw bad(`an invalid description: ${errorMessage(err)}`, err);
  }
  return description;
}
