import * as grpc from '@grpc/grpc-js';
import { health, serverStreamMethod, unaryMethod } from '@surrogate/proto';
import { Refusal } from './refusal';

const ServingStatus = health.HealthCheckResponse.ServingStatus;

/**
 * gRPC's standard health service (grpc.health.v1.Health), Check and Watch, on the generated types.
 * A superset of @surrogate/proto's HEALTH_SERVICE (which has Check only).
 */
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

type Watcher = grpc.ServerWritableStream<health.HealthCheckRequest, health.IHealthCheckResponse>;

/**
 * The health of a server of `services`, as grpc.health.v1 defines it: "" (the whole server) and each
 * service are SERVING until `shutdown()`, then NOT_SERVING. Check of another service fails with
 * NOT_FOUND; Watch of one answers SERVICE_UNKNOWN and stays open, as the protocol asks. Watchers get
 * every change; `shutdown()` tells them NOT_SERVING and ends their streams, so that open watches do
 * not hold up a graceful shutdown.
 */
export class ServingHealth {
  private status: health.HealthCheckResponse.ServingStatus = ServingStatus.SERVING;
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly services: readonly string[]) {}

  private statusOf(service: string): health.HealthCheckResponse.ServingStatus {
    return service === '' || this.services.includes(service) ? this.status : ServingStatus.SERVICE_UNKNOWN;
  }

  /** Health/Check: the status of "" or a served service; a Refusal with NOT_FOUND for any other name. */
  check(request: health.IHealthCheckRequest): health.IHealthCheckResponse {
    const service = request.service ?? '';
    const status = this.statusOf(service);
    if (status === ServingStatus.SERVICE_UNKNOWN) {
      throw new Refusal(grpc.status.NOT_FOUND, `unknown service ${JSON.stringify(service)}; this server serves "" and ${this.services.join(', ')}`);
    }
    return { status };
  }

  /** Health/Watch: the current status now, then each change, until the client cancels or the server stops. */
  watch(call: Watcher): void {
    call.write({ status: this.statusOf(call.request.service ?? '') });
    if (this.status === ServingStatus.NOT_SERVING) {
      call.end();
      return;
    }
    this.watchers.add(call);
    const forget = (): void => {
      this.watchers.delete(call);
    };
    call.once('cancelled', forget);
    call.once('close', forget);
    call.once('error', forget);
  }

  /** Every status becomes NOT_SERVING; watchers of "" and of the served services are told, and every watch ends. */
  shutdown(): void {
    this.status = ServingStatus.NOT_SERVING;
    for (const call of this.watchers) {
      const status = this.statusOf(call.request.service ?? '');
      if (status !== ServingStatus.SERVICE_UNKNOWN) call.write({ status });
      call.end();
    }
    this.watchers.clear();
  }
}
