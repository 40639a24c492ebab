/**
 * Wire types, generated at build time from proto/ by protobufjs (see scripts/generate.js).
 * Nothing in the project writes a wire type by hand: it imports them from here.
 */
import { surrogate, onnx, pulsar } from './gen/wire';

export { surrogate, onnx, pulsar };
export { decodeMessage, MalformedMessageError, type Decodable } from './decode';

export import v1 = surrogate.v1;
