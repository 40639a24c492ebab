import type { ServiceDefinition } from '@grpc/grpc-js';
import { v1 } from '@surrogate/proto';

/** The fully qualified name of the service in proto/surrogate/v1/pricer.proto. */
export const PRICER_SERVICE_NAME = 'surrogate.v1.PricerService';

/** Trailer that carries a ParameterViolation with an INVALID_ARGUMENT status. */
export const VIOLATION_TRAILER = 'surrogate-violation-bin';

/** A view of protobufjs's output bytes as a Buffer, without copying. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface GeneratedType<I, T> {
  encode(message: I): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/**
 * A unary method: requests are written from I (the generated interface) and read as T (the
 * generated class), responses written from J and read as U. Structurally a grpc-js MethodDefinition.
 */
export interface PricerMethod<I, T, J, U> {
  path: string;
  originalName: string;
  requestStream: false;
  responseStream: false;
  requestSerialize: (m: I) => Buffer;
  requestDeserialize: (b: Buffer) => T;
  responseSerialize: (m: J) => Buffer;
  responseDeserialize: (b: Buffer) => U;
}

function unary<I, T, J, U>(
  method: string,
  request: GeneratedType<I, T>,
  response: GeneratedType<J, U>,
): PricerMethod<I, T, J, U> {
  return {
    path: `/${PRICER_SERVICE_NAME}/${method}`,
    originalName: method,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: I) => toBuffer(request.encode(m).finish()),
    requestDeserialize: (b: Buffer) => request.decode(b),
    responseSerialize: (m: J) => toBuffer(response.encode(m).finish()),
    responseDeserialize: (b: Buffer) => response.decode(b),
  };
}

/**
 * PricerService for @grpc/grpc-js, with every message serialized by the types protobufjs generates
 * from pricer.proto (libs/proto): nothing here writes a wire format by hand.
 */
export const PRICER_SERVICE = {
  describe: unary<v1.IDescribeRequest, v1.DescribeRequest, v1.IPricerDescription, v1.PricerDescription>(
    'Describe',
    v1.DescribeRequest,
    v1.PricerDescription,
  ),
  priceBatch: unary<
    v1.IPriceBatchRequest,
    v1.PriceBatchRequest,
    v1.IPriceBatchResponse,
    v1.PriceBatchResponse
  >('PriceBatch', v1.PriceBatchRequest, v1.PriceBatchResponse),
} satisfies ServiceDefinition;
