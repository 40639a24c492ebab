import * as grpc from '@grpc/grpc-js';
import { bearerTokenCheck, createLogger, errorMessage } from '@surrogate/core';
import type { Counter, MetricsRegistry } from '@surrogate/observability';
import { HEALTH_SERVICE, ServingHealth, shutdownGracefully, UnknownHealthService, type health, type v1 } from '@surrogate/proto';
import {
  DEFAULT_ANSWER_TIMEOUT_MS,
  ExperimentApi,
  type ExperimentApiOptions,
  type ExperimentWatch,
} from './experiment-api';
import { ExperimentApiError, type ExperimentApiErrorCode } from './experiment-api-error';
import { EXPERIMENT_SERVICE, EXPERIMENT_SERVICE_NAME } from './experiment-service-definition';

export interface ExperimentApiServerOptions extends ExperimentApiOptions {
  /** `host:port`; port 0 picks a free one. Default `127.0.0.1:0`. */
  address?: string;
  /** Serve TLS with this certificate chain and key (PEM); with `clientCa`, clients must present a certificate it signed (mutual TLS). */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** When set, every ExperimentService call must carry `authorization: Bearer <token>`. Health checks need none. */
  token?: string;
  /** How long Submit and Cancel wait for the producer when the call sets no deadline. Default 30 s. */
  answerTimeoutMs?: number;
  /** Count calls into this registry (`surrogate_experiment_api_calls_total{method,code}`). */
  metrics?: MetricsRegistry;
  /**
   * Events a Watch may hold unsent for a client that reads too slowly (HTTP/2 flow control holds
   * back the rest) before the watch ends with RESOURCE_EXHAUSTED. Default 10,000.
   */
  watchMaxPending?: number;
  /**
   * Watches open at once (each is a subscription of its own on the events topic); one beyond it
   * ends at once with RESOURCE_EXHAUSTED. Default 1,000.
   */
  watchMaxOpen?: number;
}

/** Default for ExperimentApiServerOptions.watchMaxOpen. */
export const DEFAULT_WATCH_MAX_OPEN = 1000;

/** Default for ExperimentApiServerOptions.watchMaxPending. */
export const DEFAULT_WATCH_MAX_PENDING = 10_000;

/** The gRPC status of each refusal. */
const STATUS: Record<ExperimentApiErrorCode, grpc.status> = {
  BAD_REQUEST: grpc.status.INVALID_ARGUMENT,
  SPEC_INVALID: grpc.status.INVALID_ARGUMENT,
  UNKNOWN_EXPERIMENT: grpc.status.NOT_FOUND,
  EXPERIMENT_EXISTS: grpc.status.ALREADY_EXISTS,
  EXPERIMENT_ENDED: grpc.status.FAILED_PRECONDITION,
  NO_ANSWER: grpc.status.DEADLINE_EXCEEDED,
  API_STOPPING: grpc.status.UNAVAILABLE,
  SERVER_START_FAILED: grpc.status.INTERNAL,
};

interface Refusal {
  code: grpc.status;
  details: string;
}

/**
 * Serves the ExperimentService (proto/surrogate/v1/experiment_service.proto) and
 * `grpc.health.v1.Health/Check` from the producer's process (`surrogate producer --api HOST:PORT`).
 * Security as the model server's: TLS, mutual TLS, a bearer token. A refusal names the problem
 * (INVALID_ARGUMENT: field, value, rule) and the server keeps serving.
 */
export class ExperimentApiServer {
  private constructor(
    private readonly server: grpc.Server,
    /** The watches in progress (ended by stop). */
    private readonly watches: Set<ExperimentWatch>,
    /** grpc.health.v1: SERVING until stop, which tells the health watchers NOT_SERVING. */
    private readonly serving: ServingHealth,
    readonly port: number,
    readonly url: string,
  ) {}

  static async start(o: ExperimentApiServerOptions): Promise<ExperimentApiServer> {
    const log = o.logger ?? createLogger({ name: 'experiment-api' });
    const api = new ExperimentApi({ ...o, logger: log });
    const authorized = bearerCheck(o.token);
    const calls: Counter | undefined = o.metrics?.counter(
      'surrogate_experiment_api_calls_total',
      'ExperimentService calls answered, by method and gRPC status code.',
      ['method', 'code'],
    );
    const refusal = (err: unknown, method: string): Refusal => {
      if (err instanceof ExperimentApiError) return { code: STATUS[err.code], details: err.message };
      if (err instanceof UnknownHealthService) return { code: err.grpcStatus, details: err.message };
      log.error({ err: errorMessage(err), method }, 'experiment API call failed');
      return { code: grpc.status.INTERNAL, details: errorMessage(err) };
    };
    const count = (method: string, code: grpc.status): void =>
      calls?.inc({ method, code: grpc.status[code] });
    const unauthenticated: Refusal = {
      code: grpc.status.UNAUTHENTICATED,
      details: 'a valid bearer token is required',
    };
    /** How long a call may wait for the producer: until its deadline, else the default. */
    const waitFor = (call: { getDeadline(): grpc.Deadline }): number => {
      const deadline = call.getDeadline();
      const at = deadline instanceof Date ? deadline.getTime() : deadline;
      return Number.isFinite(at)
        ? Math.max(1, at - Date.now())
        : (o.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
    };
    const unary =
      <Req, Res>(
        method: string,
        fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
        requireToken = true,
      ) =>
      (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
        if (requireToken && !authorized(call.metadata)) {
          count(method, unauthenticated.code);
          callback(unauthenticated);
          return;
        }
        fn(call.request, call).then(
          (res) => {
            count(method, grpc.status.OK);
            callback(null, res);
          },
          (err: unknown) => {
            const r = refusal(err, method);
            count(method, r.code);
            callback(r);
          },
        );
      };

    const maxPending = o.watchMaxPending ?? DEFAULT_WATCH_MAX_PENDING;
    const grpcServer = new grpc.Server();
    const watches = new Set<ExperimentWatch>();
    const maxOpen = o.watchMaxOpen ?? DEFAULT_WATCH_MAX_OPEN;
    let open = 0; // Watch calls accepted and not ended (some may still be starting their subscription)
    grpcServer.addService(EXPERIMENT_SERVICE, {
      submit: unary('Submit', (req: v1.SubmitExperimentRequest, call) => api.submit(req, waitFor(call))),
      get: unary('Get', (req: v1.GetExperimentRequest) => api.get(req.experimentId)),
      list: unary('List', (req: v1.ListExperimentsRequest) => api.list(req)),
      cancel: unary('Cancel', (req: v1.CancelExperimentRequest, call) => api.cancel(req, waitFor(call))),
      watch: (call: grpc.ServerWritableStream<v1.WatchExperimentRequest, v1.IExperimentEvent>): void => {
        const fail = (r: Refusal): void => {
          count('Watch', r.code);
          call.emit('error', r);
        };
        if (!authorized(call.metadata)) return fail(unauthenticated);
        if (open >= maxOpen)
          return fail({
            code: grpc.status.RESOURCE_EXHAUSTED,
            details: `${open} watches are open, the most this server keeps; watch again later (Get tells the current state)`,
          });
        open += 1;
        let closed = false;
        const close = (): void => {
          if (closed) return;
          closed = true;
          open -= 1;
        };
        for (const event of ['cancelled', 'finish', 'error', 'close'] as const) call.once(event, close);
        let gone = false;
        call.on('cancelled', () => (gone = true));
        // A client that does not read must not make the server buffer its events without bound.
        let slow = false;
        let started: ExperimentWatch | undefined;
        const send = (event: v1.ExperimentEvent): void => {
          if (slow) return;
          call.write(event);
          if (call.writableLength <= maxPending) return;
          slow = true;
          void started?.close();
        };
        api
          .watch(call.request.experimentId, send)
          .then(
            (watch) => {
              started = watch;
              if (gone || slow) void watch.close();
              if (gone) return;
              watches.add(watch);
              call.on('cancelled', () => void watch.close()); // the client went away
              void watch.done.then((how) => {
                watches.delete(watch);
                if (how === 'ended' && !slow) {
                  count('Watch', grpc.status.OK);
                  call.end();
                } else if (slow) {
                  log.warn({ experimentId: call.request.experimentId, maxPending }, 'watch ended: the client reads too slowly');
                  fail({
                    code: grpc.status.RESOURCE_EXHAUSTED,
                    details: `the client read too slowly: more than ${maxPending} events waited to be sent; watch again (Get tells the current state)`,
                  });
                } else if (!gone)
                  fail({
                    code: grpc.status.UNAVAILABLE,
                    details: 'the experiment API is stopping; watch again',
                  });
              });
            },
            (err: unknown) => fail(refusal(err, 'Watch')),
          );
      },
    });
    const serving = new ServingHealth([EXPERIMENT_SERVICE_NAME]);
    grpcServer.addService(HEALTH_SERVICE, {
      check: unary('Check', async (req: health.HealthCheckRequest) => serving.check(req), false),
      watch: (call: grpc.ServerWritableStream<health.HealthCheckRequest, health.IHealthCheckResponse>) => serving.watch(call),
    });
    const credentials = o.tls
      ? grpc.ServerCredentials.createSsl(
          o.tls.clientCa ?? null,
          [{ cert_chain: o.tls.cert, private_key: o.tls.key }],
          o.tls.clientCa !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    const address = o.address ?? '127.0.0.1:0';
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) =>
        grpcServer.bindAsync(address, credentials, (err, p) => (err ? reject(err) : resolve(p))),
      );
    } catch (err) {
      grpcServer.forceShutdown();
      throw new ExperimentApiError(
        'SERVER_START_FAILED',
        `cannot listen on ${address}: ${errorMessage(err)}`,
        { cause: err, details: { address } },
      );
    }
    const host = address.slice(0, address.lastIndexOf(':'));
    const url = `${o.tls ? 'grpcs' : 'grpc'}://${host}:${port}`;
    // the token itself is never logged, only whether one is required
    log.info(
      { api: url, tls: !!o.tls, mutualTls: o.tls?.clientCa !== undefined, token: !!o.token },
      'experiment API serving',
    );
    return new ExperimentApiServer(grpcServer, watches, serving, port, url);
  }

  /** Ends the watches in progress (UNAVAILABLE), lets other calls finish (at most `graceMs`), and stops. */
  async stop(graceMs = 5000): Promise<void> {
    this.serving.shutdown();
    await Promise.all([...this.watches].map((w) => w.close()));
    await shutdownGracefully(this.server, graceMs);
  }
}

/** Whether a call's metadata carries `authorization: Bearer <token>`; always true when no token is set. */
function bearerCheck(token: string | undefined): (metadata: grpc.Metadata) => boolean {
  if (!token) return () => true;
  const check = bearerTokenCheck(token);
  return (metadata) => check(metadata.get('authorization')[0]);
}
