import * as grpc from '@grpc/grpc-js';
import { bearerTokenCheck, createLogger, errorMessage, type Logger } from '@surrogate/core';
import { firstOutsideBox, InferenceModel, METADATA_KEYS, NnError } from '@surrogate/nn';
import type { MetricsRegistry } from '@surrogate/observability';
import { HEALTH_SERVICE, ServingHealth, shutdownGracefully, UnknownHealthService, v1, type health } from '@surrogate/proto';
import { INFERENCE_SERVICE } from './inference-service-definition';
import { ModelServerError } from './model-server-error';
import { ModelServerMetrics } from './model-server-metrics';
import { Refusal } from './refusal';


/** ONNX metadata keys the trainer writes and the server needs (besides libs/nn's own). */
export const MODEL_METADATA = {
  specName: 'surrogate.spec_name',
  experimentId: 'surrogate.experiment_id',
  modelVersion: 'surrogate.model_version',
  pricer: 'surrogate.pricer',
  pricerVersion: 'surrogate.pricer_version',
  validation: 'surrogate.validation',
} as const;

/** The largest Predict request, in rows (a bound on one request's memory). */
export const MAX_PREDICT_ROWS = 1 << 20;

/**
 * The largest Predict request message a model with `inputDim` inputs accepts: MAX_PREDICT_ROWS
 * rows of packed floats plus the framing (gRPC's default, 4 MiB, would stop at ~1M values).
 */
export function maxPredictRequestBytes(inputDim: number): number {
  return MAX_PREDICT_ROWS * inputDim * 4 + 64;
}

export interface ModelServerOptions {
  /** Path of a model.onnx written by the trainer. */
  model: string;
  /** `host:port`; port 0 picks a free one. Default `127.0.0.1:0`. */
  address?: string;
  /**
   * Serve TLS with this certificate chain and key (PEM). Default: plaintext. With `clientCa`, every
   * client must also present a certificate that this CA signed (mutual TLS).
   */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** When set, every InferenceService call must carry `authorization: Bearer <token>`. Health checks need none. */
  token?: string;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /**
   * Answer rows outside the box the model was trained on (default false: such a row is refused
   * with INVALID_ARGUMENT, since nothing validated the model there).
   */
  allowExtrapolation?: boolean;
  /** Count calls, rows and latency into this registry (see ModelServerMetrics). */
  metrics?: MetricsRegistry;
  logger?: Logger;
}

/** What the server-side decoder hands Predict for bytes that are not a PredictRequest. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

/**
 * Predict as the server reads it: bytes that do not decode as a PredictRequest reach the handler as
 * a MalformedRequest, refused with INVALID_ARGUMENT (grpc-js answers a throwing decoder with
 * INTERNAL, which says the server failed).
 */
const PREDICT_SERVED = {
  ...INFERENCE_SERVICE.predict,
  requestDeserialize: (bytes: Buffer): v1.PredictRequest | MalformedRequest => {
    try {
      return v1.PredictRequest.decode(bytes);
    } catch (err) {
      return new MalformedRequest(errorMessage(err));
    }
  },
};

/** The services a model server answers for, by their health-check names. */
const SERVED = ['surrogate.v1.InferenceService'];

/**
 * Serves one trained model over gRPC: `InferenceService` (Describe, Predict) and
 * `grpc.health.v1.Health/Check`. A bad request is refused with INVALID_ARGUMENT naming the
 * problem, and the server keeps serving.
 */
export class ModelServer {
  private constructor(
    private readonly server: grpc.Server,
    private readonly model: InferenceModel,
    private readonly health: ServingHealth,
    readonly port: number,
    readonly url: string,
    readonly description: v1.IModelDescription,
  ) {}

  /** Loads the model (MODEL_INVALID if it is missing, not ONNX, or lacks the metadata) and listens. */
  static async start(o: ModelServerOptions): Promise<ModelServer> {
    const log = o.logger ?? createLogger({ name: 'model-server' });
    let model: InferenceModel;
    try {
      model = await InferenceModel.load(o.model, { threads: o.threads ?? 1 });
    } catch (err) {
      const reason = err instanceof NnError ? err.message : errorMessage(err);
      throw new ModelServerError('MODEL_INVALID', reason.includes(o.model) ? reason : `${o.model}: ${reason}`, { cause: err });
    }
    const problem = surrogateMetadataProblem(model.metadata);
    if (problem) {
      await model.close();
      throw new ModelServerError('MODEL_INVALID', `${o.model}: ${problem}`, { details: { model: o.model } });
    }
    const md = model.metadata;
    const description: v1.IModelDescription = {
      specName: md[MODEL_METADATA.specName],
      inputNames: [...model.inputNames],
      outputNames: [...model.outputNames],
      version: md[MODEL_METADATA.modelVersion] ?? md[MODEL_METADATA.experimentId] ?? '',
      pricer: [md[MODEL_METADATA.pricer], md[MODEL_METADATA.pricerVersion]].filter((s) => s).join('@'),
      validationJson: md[MODEL_METADATA.validation] ?? '',
      inputMin: [...(model.inputBox?.min ?? [])],
      inputMax: [...(model.inputBox?.max ?? [])],
      extrapolationAllowed: o.allowExtrapolation === true,
    };

    const authorized = bearerCheck(o.token);
    // responses are not capped on this side (grpc-js sends any size); a client asking for more
    // than ~1M output values raises its own receive limit
    const server = new grpc.Server({ 'grpc.max_receive_message_length': maxPredictRequestBytes(model.inputDim) });
    // A handler answers synchronously when it can (Describe, health, a missing token) and chains
    // onto Predict's promise otherwise, without a wrapping async function per call.
    const metrics = o.metrics ? new ModelServerMetrics(o.metrics) : undefined;
    if (o.metrics) ModelServerMetrics.describeModel(o.metrics, { spec: description.specName ?? '', version: description.version ?? '', pricer: description.pricer ?? '' });
    const handle =
      <Req, Res>(name: string, fn: (req: Req) => Promise<Res> | Res, requireToken: boolean) =>
      (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
        const started = metrics ? performance.now() : 0;
        const done = (code: grpc.status): void => {
          if (!metrics) return;
          metrics.calls.inc({ method: name, code: grpc.status[code] });
          metrics.seconds.observe((performance.now() - started) / 1000, { method: name });
        };
        const fail = (err: unknown): void => {
          const refusal = err instanceof Refusal ? err : new Refusal(grpc.status.INTERNAL, errorMessage(err));
          if (refusal.status === grpc.status.INTERNAL) log.error({ err, method: name }, 'request failed');
          done(refusal.status);
          callback({ code: refusal.status, details: refusal.message });
        };
        const succeed = (res: Res): void => {
          done(grpc.status.OK);
          if (metrics && name === 'Predict') metrics.rows.inc(undefined, (res as v1.IPredictResponse).rows ?? 0);
          callback(null, res);
        };
        try {
          if (requireToken && !authorized(call.metadata)) throw new Refusal(grpc.status.UNAUTHENTICATED, 'a valid bearer token is required');
          const result = fn(call.request);
          if (result instanceof Promise) result.then(succeed, fail);
          else succeed(result);
        } catch (err) {
          fail(err);
        }
      };
    server.addService(
      { ...INFERENCE_SERVICE, predict: PREDICT_SERVED },
      {
        describe: handle('Describe', () => description, true),
        predict: handle('Predict', (req: v1.PredictRequest | MalformedRequest) => predict(model, req, o.allowExtrapolation === true), true),
      },
    );
    const health = new ServingHealth(SERVED);
    server.addService(HEALTH_SERVICE, {
      check: handle('Check', (req: health.HealthCheckRequest) => checkHealth(health, req), false),
      watch: (call: grpc.ServerWritableStream<health.HealthCheckRequest, health.IHealthCheckResponse>) => health.watch(call),
    });
    const credentials = o.tls
      ? grpc.ServerCredentials.createSsl(o.tls.clientCa ?? null, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], o.tls.clientCa !== undefined)
      : grpc.ServerCredentials.createInsecure();
    const address = o.address ?? '127.0.0.1:0';
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (err, p) => (err ? reject(err) : resolve(p))));
    } catch (err) {
      await model.close();
      server.forceShutdown();
      throw new ModelServerError('SERVER_START_FAILED', `cannot listen on ${address}: ${errorMessage(err)}`, { cause: err });
    }
    const host = address.slice(0, address.lastIndexOf(':'));
    const url = `${o.tls ? 'grpcs' : 'grpc'}://${host}:${port}`;
    log.info(
      // (a field named "token" would be redacted, whatever its value)
      { url, model: o.model, spec: description.specName, tls: !!o.tls, mutualTls: o.tls?.clientCa !== undefined, bearerTokenRequired: !!o.token, extrapolation: description.extrapolationAllowed },
      'serving model',
    );
    if (o.token && !o.tls && !/^(127\.|localhost$|\[?::1\]?$)/.test(host)) {
      log.warn({ url }, 'a bearer token over plaintext can be read by anyone on the network path: serve TLS as well (--tls-cert, --tls-key)');
    }
    return new ModelServer(server, model, health, port, url, description);
  }

  /**
   * Says NOT_SERVING to health watchers and ends their watches, stops taking calls, lets running
   * ones finish (at most `graceMs`), releases the model.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.health.shutdown();
    await shutdownGracefully(this.server, graceMs);
    await this.model.close();
  }
}

/** Checks a request (INVALID_ARGUMENT naming the problem: count, non-finite or out-of-box values) and runs the model on its rows. */
async function predict(model: InferenceModel, req: v1.PredictRequest | MalformedRequest, allowExtrapolation: boolean): Promise<v1.IPredictResponse> {
  if (req instanceof MalformedRequest) throw new Refusal(grpc.status.INVALID_ARGUMENT, `the request is not a valid surrogate.v1.PredictRequest: ${req.reason}`);
  const rows = req.rows;
  const D = model.inputDim;
  const names = model.inputNames;
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_PREDICT_ROWS) {
    throw new Refusal(grpc.status.INVALID_ARGUMENT, `rows = ${rows}: must be a whole number from 1 to ${MAX_PREDICT_ROWS}`);
  }
  const values = req.inputs ?? [];
  if (values.length !== rows * D) {
    throw new Refusal(
      grpc.status.INVALID_ARGUMENT,
      `inputs has ${values.length} values; ${rows} row${rows === 1 ? '' : 's'} of ${D} inputs (${names.join(', ')}) need${rows === 1 ? 's' : ''} ${rows * D}`,
    );
  }
  const x = new Float32Array(values);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new Refusal(grpc.status.INVALID_ARGUMENT, `row ${Math.floor(i / D)}: ${names[i % D]} = ${x[i]} is not a finite number`);
    }
  }
  const outside = allowExtrapolation || !model.inputBox ? undefined : firstOutsideBox(model.inputBox, x, rows);
  if (outside) {
    throw new Refusal(
      grpc.status.INVALID_ARGUMENT,
      `row ${outside.row}: ${names[outside.input]} = ${outside.value} is outside the model's training box [${outside.min}, ${outside.max}]; ` +
        'the model answers only where it was trained and validated (serve it with --allow-extrapolation to answer anyway)',
    );
  }
  const y = await model.predict(x, rows);
  // the generated encoder reads outputs by index and length, so the Float32Array goes out as it is:
  // no copy into a number[] (rows × outputs boxed doubles; 8 MB more per million outputs)
  return { rows, outputs: y as unknown as number[] };
}

/**
 * Why a model's metadata does not make it a Surrogate model the server can describe, or undefined:
 * the input and output names and a spec name are required (libs/nn has checked the names against
 * the graph); validation figures, when present, must be a JSON object (Describe hands them on).
 */
function surrogateMetadataProblem(md: Readonly<Record<string, string>>): string | undefined {
  const missing = [METADATA_KEYS.inputNames, METADATA_KEYS.outputNames, MODEL_METADATA.specName].filter((k) => !(k in md));
  if (missing.length > 0) return `not a Surrogate model (metadata ${missing.join(', ')} missing)`;
  if (md[MODEL_METADATA.specName].trim() === '') return `metadata ${MODEL_METADATA.specName} is empty: a Surrogate model names its spec`;
  const validation = md[MODEL_METADATA.validation];
  if (validation !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(validation);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      const shown = validation.length > 120 ? `${validation.slice(0, 120)}…` : validation;
      return `metadata ${MODEL_METADATA.validation} = ${JSON.stringify(shown)}: must be a JSON object (the validation figures)`;
    }
  }
  return undefined;
}

/** Whether a call's metadata carries `authorization: Bearer <token>`; always true when no token is set. */
function bearerCheck(token: string | undefined): (metadata: grpc.Metadata) => boolean {
  if (!token) return () => true;
  const check = bearerTokenCheck(token);
  return (metadata) => check(metadata.get('authorization')[0]);
}

/** Health/Check, with a service this server does not serve refused as grpc.health.v1 asks (NOT_FOUND). */
function checkHealth(serving: ServingHealth, request: health.IHealthCheckRequest): health.IHealthCheckResponse {
  try {
    return serving.check(request);
  } catch (err) {
    if (err instanceof UnknownHealthService) throw new Refusal(err.grpcStatus, err.message);
    throw err;
  }
}
