import { grpc } from './gen/wire';
import { serverStreamMethod, unaryMethod } from './grpc-method';

import health = grpc.health.v1;

/** gRPC's standard health service (grpc.health.v1.Health), Check and Watch, on the generated types, for @grpc/grpc-js. */
export const HEALTH_SERVICE = {
  check: unaryMethod<health.IHealthCheckRequest, health.HealthCheckRequest, health.IHealthCheckResponse, health.HealthCheckResponse>(
    'grpc.health.v1.Health',
    'Check',
    health.HealthCheckRequest,
    health.HealthCheckResponse,
  ),
  watch: serverStreamMethod<health.IHealthCheckRequest, health.HealthCheckRequest, health.IHealthCheckResponse, health.HealthCheckResponse>(
    'grpc.health.v1.Health',
    'Watch',
    health.HealthCheckRequest,
    health.HealthCheckResponse,
  ),
};
