import { SurrogateError } from '@surrogate/core';

/** A protobufjs message class: what `decode` needs of a generated type. */
export interface Decodable<T> {
  decode(reader: Uint8Array): T;
  verify?(message: { [k: string]: unknown }): string | null;
}

/** Thrown when bytes on the wire are not a valid message of the expected type. */
export class MalformedMessageError extends SurrogateError {
  constructor(typeName: string, reason: string, cause?: unknown) {
    super('MALFORMED_MESSAGE', `not a valid ${typeName}: ${reason}`, { cause, details: { type: typeName } });
  }
}

/**
 * Decodes `bytes` as `type`, turning every protobufjs failure (truncated input, wrong wire type,
 * invalid UTF-8 length…) into a MalformedMessageError that names the expected type.
 */
export function decodeMessage<T>(type: Decodable<T>, typeName: string, bytes: Uint8Array): T {
  try {
    return type.decode(bytes);
  } catch (err) {
    throw new MalformedMessageError(typeName, err instanceof Error ? err.message : String(err), err);
  }
}
