import type { ServiceDefinition } from '@grpc/grpc-js';
import { unaryMethod, v1, type GeneratedType, type UnaryMethod } from '@surrogate/proto';

/** The fully qualified name of the service in proto/surrogate/v1/pricer.proto. */
export const PRICER_SERVICE_NAME = 'surrogate.v1.PricerService';

/** Trailer that carries a ParameterViolation with an INVALID_ARGUMENT status. */
export const VIOLATION_TRAILER = 'surrogate-violation-bin';

/** A PricerService method (see unaryMethod in libs/proto). */
export type PricerMethod<I, T, J, U> = UnaryMethod<I, T, J, U>;

const unary = <I, T, J, U>(method: string, request: GeneratedType<I, T>, response: GeneratedType<J, U>): PricerMethod<I, T, J, U> =>
  unaryMethod(PRICER_SERVICE_NAME, method, request, response);

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
