/** A view of protobufjs's output bytes as a Buffer, without copying. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What a generated message class offers: encode from its interface, decode to the class. */
export interface GeneratedType<I, T> {
  encode(message: I): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/**
 * A unary gRPC method whose messages are serialized by the generated types: requests written from
 * I (the generated interface) and read as T (the class), responses written from J and read as U.
 * Structurally a @grpc/grpc-js MethodDefinition, so a record of them is a ServiceDefinition.
 */
export interface UnaryMethod<I, T, J, U> {
  path: string;
  originalName: string;
  requestStream: false;
  responseStream: false;
  requestSerialize: (m: I) => Buffer;
  requestDeserialize: (b: Buffer) => T;
  responseSerialize: (m: J) => Buffer;
  responseDeserialize: (b: Buffer) => U;
}

/** The method `method` of the fully qualified service `service` (e.g. "surrogate.v1.PricerService"). */
export function unaryMethod<I, T, J, U>(
  service: string,
  method: string,
  request: GeneratedType<I, T>,
  response: GeneratedType<J, U>,
): UnaryMethod<I, T, J, U> {
  return {
    path: `/${service}/${method}`,
    originalName: method,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: I) => toBuffer(request.encode(m).finish()),
    requestDeserialize: (b: Buffer) => request.decode(b),
    responseSerialize: (m: J) => toBuffer(response.encode(m).finish()),
    responseDeserialize: (b: Buffer) => response.decode(b),
  };
}

/** A server-streaming gRPC method (one request, a stream of responses) on the generated types; see UnaryMethod. */
export interface ServerStreamMethod<I, T, J, U> extends Omit<UnaryMethod<I, T, J, U>, 'responseStream'> {
  responseStream: true;
}

/** The server-streaming method `method` of the fully qualified service `service`. */
export function serverStreamMethod<I, T, J, U>(
  service: string,
  method: string,
  request: GeneratedType<I, T>,
  response: GeneratedType<J, U>,
): ServerStreamMethod<I, T, J, U> {
  return { ...unaryMethod(service, method, request, response), responseStream: true };
}
