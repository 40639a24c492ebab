import type { ServiceDefinition } from '@grpc/grpc-js';
import { serverStreamMethod, unaryMethod, v1 } from '@surrogate/proto';

const SERVICE = 'surrogate.v1.ExperimentService';

/** ExperimentService (proto/surrogate/v1/experiment_service.proto) for @grpc/grpc-js, on the generated types. */
export const EXPERIMENT_SERVICE = {
  submit: unaryMethod<
    v1.ISubmitExperimentRequest,
    v1.SubmitExperimentRequest,
    v1.ISubmitExperimentResponse,
    v1.SubmitExperimentResponse
  >(SERVICE, 'Submit', v1.SubmitExperimentRequest, v1.SubmitExperimentResponse),
  get: unaryMethod<v1.IGetExperimentRequest, v1.GetExperimentRequest, v1.IExperimentInfo, v1.ExperimentInfo>(
    SERVICE,
    'Get',
    v1.GetExperimentRequest,
    v1.ExperimentInfo,
  ),
  list: unaryMethod<
    v1.IListExperimentsRequest,
    v1.ListExperimentsRequest,
    v1.IListExperimentsResponse,
    v1.ListExperimentsResponse
  >(SERVICE, 'List', v1.ListExperimentsRequest, v1.ListExperimentsResponse),
  watch: serverStreamMethod<
    v1.IWatchExperimentRequest,
    v1.WatchExperimentRequest,
    v1.IExperimentEvent,
    v1.ExperimentEvent
  >(SERVICE, 'Watch', v1.WatchExperimentRequest, v1.ExperimentEvent),
  cancel: unaryMethod<
    v1.ICancelExperimentRequest,
    v1.CancelExperimentRequest,
    v1.ICancelExperimentResponse,
    v1.CancelExperimentResponse
  >(SERVICE, 'Cancel', v1.CancelExperimentRequest, v1.CancelExperimentResponse),
} satisfies ServiceDefinition;

/** The name health checks ask for. */
export const EXPERIMENT_SERVICE_NAME = SERVICE;
