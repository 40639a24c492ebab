import { grpc } from './gen/wire';
import { unaryMethod } from './grpc-method';

import health = grpc.health.v1;

/** gRPC's standard health check (grpc.health.v1.Health/Check) on the generated types, for @grpc/grpc-js. */
export const HEALTH_SERVICE = {
  check: unaryMethod<health.IHealthCheckRequest, health.HealthCheckRequest, health.IHealthCheckResponse, health.HealthCheckResponse>(
    'grpc.health.v1.Health',
    'Check',
    health.HealthCheckRequest,
    health.HealthCheckResponse,
  ),
};

/** Check's answer for a server of the `served` services: SERVING for "" (the server) and each of them, else SERVICE_UNKNOWN. */
export function healthStatus(request: health.IHealthCheckRequest, served: readonly string[]): health.IHealthCheckResponse {
  const service = request.service ?? '';
  return {
    status:
      service === '' || served.includes(service)
        ? health.HealthCheckResponse.ServingStatus.SERVING
        : health.HealthCheckResponse.ServingStatus.SERVICE_UNKNOWN,
  };
}
