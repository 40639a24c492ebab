import * as grpc from '@grpc/grpc-js';
import { bearerTokenCheck, createLogger, errorMessage, type Logger } from '@surrogate/core';
import { HEALTH_SERVICE, ServingHealth, shutdownGracefully, v1 } from '@surrogate/proto';
import { GrpcPricerError } from './grpc-pricer-error';
import type { NumberParameter } from './parameter-spec';
import type { Pricer } from './pricer';
import { describeToWire } from './pricer-description';
import { checkPricerShape } from './pricer-registry';
import { PRICER_SERVICE, PRICER_SERVICE_NAME, VIOLATION_TRAILER } from './pricer-service-definition';
import { PricingError } from './pricing-error';
import { checkValue, formatValue, validateParams } from './validate-params';

/** TLS for a pricer server: its certificate chain and key (PEM), and optionally client verification. */
export interface PricerServerTls {
  cert: Buffer;
  key: Buffer;
  /** CA that client certificates must chain to; with it, clients must present one (mutual TLS). */
  clientCa?: Buffer;
}

export interface PricerServerOptions {
  /** The pricers served, each under its own name (grpc://host:port/<name>). */
  pricers: readonly Pricer[];
  /** `host:port` to listen on; port 0 picks a free one. Default `127.0.0.1:0`. */
  address?: string;
  /** Serve TLS (clients use grpcs://). Default: plaintext. */
  tls?: PricerServerTls;
  /** When set, every call must carry `authorization: Bearer <token>` (UNAUTHENTICATED otherwise). */
  token?: string;
  /** Advertised in Describe and enforced: the most rows one call may carry. Default 65536; 0 = no limit. */
  maxBatchRows?: number;
  logger?: Logger;
}

/** Why a request is refused: a gRPC status and, for INVALID_ARGUMENT, the violation. */
class Refusal extends Error {
  constructor(
    readonly status: grpc.status,
    message: string,
    readonly violation?: v1.IParameterViolation,
  ) {
    super(message);
  }
}

function invalidArgument(
  parameter: string,
  value: unknown,
  rule: string,
  message: string,
  row = -1,
): Refusal {
  return new Refusal(grpc.status.INVALID_ARGUMENT, row >= 0 ? `row ${row}: ${message}` : message, {
    parameter,
    value: formatValue(value),
    rule,
    row,
    message,
  });
}

/** A PricingError about a parameter as a refusal (row −1: not row-specific). */
function refusalOf(err: unknown, pricer: Pricer, row: number): Refusal {
  if (err instanceof PricingError) {
    const d = err.details as { parameter?: unknown; value?: unknown; rule?: unknown };
    return invalidArgument(
      typeof d.parameter === 'string' ? d.parameter : '',
      d.value,
      typeof d.rule === 'string' ? d.rule : err.code,
      err.message,
      row,
    );
  }
  return new Refusal(grpc.status.INTERNAL, `pricer ${pricer.name}: ${errorMessage(err)}`);
}

function fixedFromWire(fixed: Record<string, v1.IFixedValue> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fixed ?? {})) {
    const which = (v as v1.FixedValue).value;
    out[k] = which === 'text' ? v.text : which === 'number' ? v.number : undefined;
  }
  return out;
}

/**
 * Prices (or, with validate_only, only checks) a PriceBatch request with a local pricer:
 * the request's shape, every fixed value, every row's inputs (range, integer) and the pricer's own
 * rules (`validate`) are checked, each refusal naming the parameter, its value, the rule and the row.
 */
export function priceBatchLocally(
  pricer: Pricer,
  request: v1.IPriceBatchRequest,
  maxBatchRows = 0,
): v1.IPriceBatchResponse {
  const batch = preparedBatch(pricer, request, maxBatchRows);
  batch.priceRows(batch.rows);
  return batch.response();
}

/** How long the server prices before it lets other calls (health checks, cancellations) in. */
const SLICE_MS = 5;

/**
 * priceBatchLocally, a few milliseconds of rows at a time: between slices the event loop serves
 * other calls, and once `stopped()` says so (the call was cancelled, or its deadline passed) the
 * rest is not priced (CANCELLED). A slow pricer or a large request no longer holds the server.
 */
export async function priceBatchInSlices(
  pricer: Pricer,
  request: v1.IPriceBatchRequest,
  maxBatchRows: number,
  stopped: () => boolean,
): Promise<v1.IPriceBatchResponse> {
  const batch = preparedBatch(pricer, request, maxBatchRows);
  let step = 1;
  while (batch.done < batch.rows) {
    if (stopped())
      throw new Refusal(
        grpc.status.CANCELLED,
        `the call was cancelled or its deadline passed after ${batch.done} of ${batch.rows} rows`,
      );
    const t0 = performance.now();
    batch.priceRows(step);
    const took = performance.now() - t0;
    // as many rows as fit a slice, judged by the last one (at least 1, at most 4× more each time)
    step = Math.max(1, Math.min(step * 4, Math.floor((step * SLICE_MS) / Math.max(took, 1e-3))));
    if (batch.done < batch.rows) await new Promise((resolve) => setImmediate(resolve));
  }
  return batch.response();
}

interface PreparedBatch {
  readonly rows: number;
  /** Rows checked (and priced) so far. */
  readonly done: number;
  /** Checks (and prices) up to `count` more rows. */
  priceRows(count: number): void;
  response(): v1.IPriceBatchResponse;
}

/** Checks a request's shape and fixed values; its rows are then priced by priceRows, in order. */
function preparedBatch(pricer: Pricer, request: v1.IPriceBatchRequest, maxBatchRows: number): PreparedBatch {
  const rows = request.rows ?? 0;
  const inputNames = request.inputNames ?? [];
  const inputs = request.inputs ?? [];
  const outputs = request.outputs ?? [];
  const validateOnly = request.validateOnly === true;
  const d = inputNames.length;
  if (maxBatchRows > 0 && rows > maxBatchRows)
    throw invalidArgument(
      'rows',
      rows,
      `at most ${maxBatchRows}`,
      `rows = ${rows} exceeds this server's ${maxBatchRows} rows per call`,
    );
  if (inputs.length !== d * rows)
    throw invalidArgument(
      'inputs',
      `${inputs.length} values`,
      `input_names × rows = ${d * rows} values`,
      `inputs holds ${inputs.length} values; ${d} input columns × ${rows} rows need ${d * rows}`,
    );
  if (!validateOnly && outputs.length === 0)
    throw invalidArgument('outputs', '[]', 'at least one output', 'no outputs requested');
  const indices = outputs.map((name, k) => {
    const index = pricer.outputs.indexOf(name);
    const valid = `one of ${pricer.outputs.join(', ')}`;
    if (index < 0)
      throw invalidArgument('outputs', name, valid, `unknown output ${JSON.stringify(name)}; ${valid}`);
    if (outputs.indexOf(name) !== k)
      throw invalidArgument('outputs', name, 'each output once', `output ${name} is requested twice`);
    return index;
  });
  const fixed = fixedFromWire(request.fixed);
  const specs = inputNames.map((name, j) => {
    const spec = pricer.parameters.find((p) => p.name === name);
    const names = pricer.parameters.map((p) => p.name).join(', ');
    if (spec === undefined)
      throw invalidArgument(
        name,
        undefined,
        `one of the parameters ${names}`,
        `unknown parameter ${JSON.stringify(name)}; valid parameters: ${names}`,
      );
    if (spec.kind !== 'number')
      throw invalidArgument(
        name,
        undefined,
        'number parameter',
        `${name} is a choice parameter and cannot be an input column`,
      );
    if (inputNames.indexOf(name) !== j)
      throw invalidArgument(name, undefined, 'each input once', `input ${name} is listed twice`);
    if (Object.prototype.hasOwnProperty.call(fixed, name))
      throw invalidArgument(
        name,
        fixed[name],
        'fixed or input, not both',
        `${name} is both fixed and an input column`,
      );
    return spec as NumberParameter;
  });
  const values = new Float64Array(validateOnly ? 0 : outputs.length * rows);
  const response = (): v1.IPriceBatchResponse => ({
    rows,
    values: values as unknown as number[],
    pricerVersion: pricer.version,
  });
  if (rows === 0) return { rows, done: 0, priceRows: () => undefined, response };

  // Fixed values first, each on its own: a refusal about one of them is not about a row.
  for (const [name, value] of Object.entries(fixed)) {
    const spec = pricer.parameters.find((p) => p.name === name);
    if (spec === undefined) {
      const names = pricer.parameters.map((p) => p.name).join(', ');
      throw invalidArgument(
        name,
        value,
        `one of the parameters ${names}`,
        `unknown parameter ${JSON.stringify(name)}; valid parameters: ${names}`,
      );
    }
    try {
      checkValue(pricer, spec, value);
    } catch (err) {
      throw refusalOf(err, pricer, -1);
    }
  }
  const first: Record<string, unknown> = { ...fixed };
  for (let j = 0; j < d; j++) first[inputNames[j] as string] = inputs[j * rows];
  let params: Record<string, number | string>;
  try {
    params = validateParams(pricer, first);
  } catch (err) {
    const missing = err instanceof PricingError && err.code === 'MISSING_PARAMETER';
    throw refusalOf(err, pricer, missing ? -1 : 0);
  }
  const out = new Float64Array(pricer.outputs.length);
  const validate = pricer.validate;
  let done = 0;
  const priceRows = (count: number): void => {
    const end = Math.min(rows, done + count);
    for (let i = done; i < end; i++) {
      try {
        for (let j = 0; j < d; j++)
          params[inputNames[j] as string] = checkValue(
            pricer,
            specs[j] as NumberParameter,
            inputs[j * rows + i],
          );
        validate?.call(pricer, params);
      } catch (err) {
        throw refusalOf(err, pricer, i);
      }
      if (validateOnly) continue;
      out.fill(NaN);
      try {
        pricer.evaluate(params, out);
      } catch (err) {
        throw new Refusal(
          grpc.status.INTERNAL,
          `pricer ${pricer.name} failed at row ${i}: ${errorMessage(err)}`,
        );
      }
      for (let k = 0; k < indices.length; k++) values[k * rows + i] = out[indices[k] as number] as number;
    }
    done = end;
  };
  return {
    rows,
    get done() {
      return done;
    },
    priceRows,
    response,
  };
}

/**
 * Handlers of PricerService for the given pricers, to add to any @grpc/grpc-js server with
 * `server.addService(PRICER_SERVICE, handlers)`. Pricing runs on the calling thread, a few
 * milliseconds of rows at a time (other calls are served in between, and a cancelled call or one
 * past its deadline stops being priced): run several processes behind a load balancer to use more cores.
 */
export function pricerServiceHandlers(
  options: Pick<PricerServerOptions, 'pricers' | 'token' | 'maxBatchRows' | 'logger'>,
): grpc.UntypedServiceImplementation {
  const byName = new Map<string, Pricer>();
  for (const p of options.pricers) {
    checkPricerShape(p);
    if (byName.has(p.name))
      throw new GrpcPricerError('GRPC_CONFIG_INVALID', `pricer ${p.name} is listed twice`);
    byName.set(p.name, p);
  }
  const maxBatchRows = options.maxBatchRows ?? 65536;
  const log = options.logger ?? createLogger({ name: 'pricer-server', level: 'warn' });
  const tokenOk = options.token === undefined ? undefined : bearerTokenCheck(options.token);

  const authorize = (metadata: grpc.Metadata): void => {
    if (tokenOk === undefined) return;
    if (!tokenOk(metadata.get('authorization')[0]))
      throw new Refusal(
        grpc.status.UNAUTHENTICATED,
        'a valid bearer token is required (authorization: Bearer <token>)',
      );
  };
  const find = (name: string | null | undefined): Pricer => {
    const p = byName.get(name ?? '');
    if (p === undefined)
      throw new Refusal(
        grpc.status.NOT_FOUND,
        `no pricer ${JSON.stringify(name ?? '')} on this server; it serves: ${[...byName.keys()].sort().join(', ')}`,
      );
    return p;
  };
  const fail = (callback: grpc.sendUnaryData<never>, method: string, err: unknown): void => {
    const refusal = err instanceof Refusal ? err : new Refusal(grpc.status.INTERNAL, errorMessage(err));
    const metadata = new grpc.Metadata();
    if (refusal.violation) {
      const bytes = v1.ParameterViolation.encode(refusal.violation).finish();
      metadata.set(VIOLATION_TRAILER, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    log.debug(
      { method, status: grpc.status[refusal.status], reason: refusal.message },
      'pricer request refused',
    );
    callback({ code: refusal.status, details: refusal.message, metadata });
  };

  const describe: grpc.handleUnaryCall<v1.DescribeRequest, v1.IPricerDescription> = (call, callback) => {
    try {
      authorize(call.metadata);
      callback(null, describeToWire(find(call.request.pricer), maxBatchRows));
    } catch (err) {
      fail(callback as grpc.sendUnaryData<never>, 'Describe', err);
    }
  };
  const priceBatch: grpc.handleUnaryCall<v1.PriceBatchRequest, v1.IPriceBatchResponse> = (call, callback) => {
    let cancelled = false;
    call.on('cancelled', () => (cancelled = true)); // the client went away, or the deadline passed
    const deadline = call.getDeadline();
    const deadlineMs =
      deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? Number(deadline) : Infinity;
    const stopped = (): boolean => cancelled || Date.now() > deadlineMs;
    Promise.resolve()
      .then(() => {
        authorize(call.metadata);
        return priceBatchInSlices(find(call.request.pricer), call.request, maxBatchRows, stopped);
      })
      .then(
        (response) => callback(null, response),
        (err: unknown) => fail(callback as grpc.sendUnaryData<never>, 'PriceBatch', err),
      );
  };
  return { describe, priceBatch } as grpc.UntypedServiceImplementation;
}

/** A running PricerService server. */
export class PricerServer {
  private constructor(
    private readonly server: grpc.Server,
    /** grpc.health.v1: SERVING until close, which tells the health watchers NOT_SERVING. */
    private readonly serving: ServingHealth,
    /** The port it listens on (useful with port 0). */
    readonly port: number,
    readonly host: string,
    readonly tls: boolean,
  ) {}

  /** The URL a spec uses for one of the served pricers. */
  urlOf(pricer: string): string {
    return `${this.tls ? 'grpcs' : 'grpc'}://${this.host}:${this.port}/${pricer}`;
  }

  /** Serves `options.pricers` over PricerService; resolves once listening. */
  static async start(options: PricerServerOptions): Promise<PricerServer> {
    const handlers = pricerServiceHandlers(options);
    const address = options.address ?? '127.0.0.1:0';
    const server = new grpc.Server({
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.max_send_message_length': 256 * 1024 * 1024,
    });
    server.addService(PRICER_SERVICE, handlers);
    const serving = new ServingHealth([PRICER_SERVICE_NAME]);
    server.addService(HEALTH_SERVICE, serving.handlers());
    const credentials = options.tls
      ? grpc.ServerCredentials.createSsl(
          options.tls.clientCa ?? null,
          [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
          options.tls.clientCa !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, credentials, (err, p) => (err ? reject(err) : resolve(p))),
    ).catch((err: unknown) => {
      server.forceShutdown();
      throw new GrpcPricerError('GRPC_CONFIG_INVALID', `cannot listen on ${address}: ${errorMessage(err)}`, {
        cause: err,
        details: { address },
      });
    });
    const host = address.slice(0, address.lastIndexOf(':'));
    return new PricerServer(
      server,
      serving,
      port,
      host === '0.0.0.0' || host === '' ? '127.0.0.1' : host,
      options.tls !== undefined,
    );
  }

  /** Stops taking calls, lets calls in progress finish (at most `graceMs`), then closes. */
  async close(graceMs = 5000): Promise<void> {
    this.serving.shutdown();
    await shutdownGracefully(this.server, graceMs);
  }

  /** Stops at once, cutting calls in progress (as a crash would). */
  kill(): void {
    this.server.forceShutdown();
  }
}
