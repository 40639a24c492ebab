import type { ServiceDefinition } from '@grpc/grpc-js';
import { unaryMethod, v1 } from '@surrogate/proto';

/** InferenceService (proto/surrogate/v1/inference.proto) for @grpc/grpc-js, on the generated types. */
export const INFERENCE_SERVICE = {
  describe: unaryMethod<v1.IDescribeModelRequest, v1.DescribeModelRequest, v1.IModelDescription, v1.ModelDescription>(
    'surrogate.v1.InferenceService',
    'Describe',
    v1.DescribeModelRequest,
    v1.ModelDescription,
  ),
  predict: unaryMethod<v1.IPredictRequest, v1.PredictRequest, v1.IPredictResponse, v1.PredictResponse>(
    'surrogate.v1.InferenceService',
    'Predict',
    v1.PredictRequest,
    v1.PredictResponse,
  ),
} satisfies ServiceDefinition;
