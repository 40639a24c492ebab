import * as grpc from '@grpc/grpc-js';
import type { v1 } from '@surrogate/proto';
import { EXPERIMENT_SERVICE } from './experiment-service-definition';

/** A unary call of @grpc/grpc-js's generic client, typed on the generated messages. */
export type UnaryCall<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Res) => void,
) => void;

/** A client of the ExperimentService (`surrogate producer --api`), as @grpc/grpc-js makes it. */
export interface ExperimentServiceClient extends grpc.Client {
  submit: UnaryCall<v1.ISubmitExperimentRequest, v1.SubmitExperimentResponse>;
  get: UnaryCall<v1.IGetExperimentRequest, v1.ExperimentInfo>;
  list: UnaryCall<v1.IListExperimentsRequest, v1.ListExperimentsResponse>;
  cancel: UnaryCall<v1.ICancelExperimentRequest, v1.CancelExperimentResponse>;
  watch(request: v1.IWatchExperimentRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<v1.ExperimentEvent>;
}

const Client = grpc.makeGenericClientConstructor(EXPERIMENT_SERVICE, 'ExperimentService');

/** A client of the ExperimentService at `address` (host:port). */
export function experimentServiceClient(address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): ExperimentServiceClient {
  return new Client(address, credentials, options) as unknown as ExperimentServiceClient;
}
