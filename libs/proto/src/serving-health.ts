import { SurrogateError } from '@surrogate/core';
import { grpc } from './gen/wire';

import health = grpc.health.v1;

const ServingStatus = health.HealthCheckResponse.ServingStatus;

/** gRPC status NOT_FOUND, which grpc.health.v1 asks Check to answer for a service the server does not serve. */
export const GRPC_NOT_FOUND = 5;

/** Check of a service the server does not serve: answer it with `grpcStatus` (NOT_FOUND) and the message. */
export class UnknownHealthService extends SurrogateError {
  readonly grpcStatus = GRPC_NOT_FOUND;
}

/** What Watch needs of a @grpc/grpc-js server stream (structural: this package imports no gRPC runtime). */
export interface HealthWatchCall {
  readonly request: health.IHealthCheckRequest;
  write(response: health.IHealthCheckResponse): unknown;
  end(): unknown;
  once(event: 'cancelled' | 'close' | 'error', listener: () => void): unknown;
  /** Ends the stream with a gRPC status (as @grpc/grpc-js server streams do). */
  emit(event: 'error', status: { code: number; details: string }): unknown;
}

/** gRPC status RESOURCE_EXHAUSTED: a Watch beyond the most that may be open. */
export const GRPC_RESOURCE_EXHAUSTED = 8;

/** Default for the most Health/Watch streams open at once. */
export const DEFAULT_MAX_HEALTH_WATCHERS = 1000;

/**
 * The health of a gRPC server of `services`, as grpc.health.v1 defines it: "" (the whole server)
 * and each service are SERVING until `shutdown()`, then NOT_SERVING. Check of another service fails
 * with NOT_FOUND (UnknownHealthService); Watch of one answers SERVICE_UNKNOWN and stays open, as the
 * protocol asks. Watchers get every change; `shutdown()` tells them NOT_SERVING and ends their
 * streams, so that open watches do not hold up a graceful shutdown.
 */
export class ServingHealth {
  private status: health.HealthCheckResponse.ServingStatus = ServingStatus.SERVING;
  private readonly watchers = new Set<HealthWatchCall>();

  /**
   * `maxWatchers`: the most Watch streams open at once (default 1000). Health needs no token, so an
   * unbounded number of streams would let anyone who can connect take the server's memory; one
   * beyond it ends at once with RESOURCE_EXHAUSTED.
   */
  constructor(
    private readonly services: readonly string[],
    private readonly maxWatchers = DEFAULT_MAX_HEALTH_WATCHERS,
  ) {}

  private statusOf(service: string): health.HealthCheckResponse.ServingStatus {
    return service === '' || this.services.includes(service) ? this.status : ServingStatus.SERVICE_UNKNOWN;
  }

  /** Health/Check: the status of "" or a served service; UnknownHealthService (NOT_FOUND) for any other name. */
  check(request: health.IHealthCheckRequest): health.IHealthCheckResponse {
    const service = request.service ?? '';
    const status = this.statusOf(service);
    if (status === ServingStatus.SERVICE_UNKNOWN)
      throw new UnknownHealthService(
        'UNKNOWN_SERVICE',
        `unknown service ${JSON.stringify(service)}; this server serves "" and ${this.services.join(', ')}`,
        { details: { service } },
      );
    return { status };
  }

  /** Health/Watch: the current status now, then each change, until the client cancels or the server stops. */
  watch(call: HealthWatchCall): void {
    if (this.watchers.size >= this.maxWatchers) {
      call.emit('error', {
        code: GRPC_RESOURCE_EXHAUSTED,
        details: `${this.watchers.size} health watches are open, the most this server keeps; use Check, or watch again later`,
      });
      return;
    }
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

  /**
   * The Health service's handlers for a server with nothing to add around them (no metrics, no
   * token): `server.addService(HEALTH_SERVICE, health.handlers())`.
   */
  handlers(): {
    check(call: { request: health.IHealthCheckRequest }, callback: (err: { code: number; details: string } | null, res?: health.IHealthCheckResponse) => void): void;
    watch(call: HealthWatchCall): void;
  } {
    return {
      check: (call, callback) => {
        try {
          callback(null, this.check(call.request));
        } catch (err) {
          if (!(err instanceof UnknownHealthService)) throw err;
          callback({ code: err.grpcStatus, details: err.message });
        }
      },
      watch: (call) => this.watch(call),
    };
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
