import { createLogger, parseListenAddress } from '@surrogate/core';
import { ModelServer, ModelServerError } from '@surrogate/model-server';
import { MetricsRegistry, ObservabilityServer, registerProcessMetrics } from '@surrogate/observability';
import { badInput } from '../cli-error';
import { serverTls, type ServerTlsFlags } from '../server-tls-flags';
import { serverToken } from '../server-token';
import { stopSignal } from '../stop-signal';

export interface ServeCommandOptions extends ServerTlsFlags {
  port?: string;
  listen?: string;
  threads?: string;
  /** Answer rows outside the model's training box (refused by default). */
  allowExtrapolation?: boolean;
  /** `host:port` of the HTTP endpoint with /metrics (Prometheus), /healthz and /readyz. */
  metrics?: string;
}

/** The variable that holds the bearer token clients must present (unset: no token required). */
export const SERVE_TOKEN_ENV = 'SURROGATE_SERVE_TOKEN';

/**
 * `surrogate serve <model.onnx> [--port P | --listen HOST:PORT]`: serves the model over gRPC
 * (InferenceService and the standard health check) until SIGTERM or SIGINT. Prints one JSON line
 * with the URL once it listens.
 */
export async function serveCommand(file: string | undefined, o: ServeCommandOptions): Promise<string> {
  if (!file) throw badInput('MISSING_ARGUMENT', 'usage: surrogate serve <model.onnx> [--port P] [--listen HOST:PORT]');
  if (o.port !== undefined && o.listen !== undefined) throw badInput('BAD_OPTION', 'give --port or --listen, not both');
  let address = o.listen ?? '127.0.0.1:50052';
  if (o.port !== undefined) {
    const p = Number(o.port);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw badInput('BAD_OPTION', `--port = ${o.port}: must be a whole number from 0 to 65535`);
    address = `127.0.0.1:${p}`;
  }
  if (!parseListenAddress(address))
    throw badInput('BAD_OPTION', `--listen = ${address}: must be host:port, e.g. 127.0.0.1:50052 or 0.0.0.0:50052`);
  let threads: number | undefined;
  if (o.threads !== undefined) {
    threads = Number(o.threads);
    if (!Number.isInteger(threads) || threads < 0) throw badInput('BAD_OPTION', `--threads = ${o.threads}: must be a whole number ≥ 0 (0 = all cores)`);
  }
  const tls = serverTls(o);
  const token = serverToken(SERVE_TOKEN_ENV);
  if (o.metrics !== undefined && !parseListenAddress(o.metrics))
    throw badInput('BAD_OPTION', `--metrics = ${o.metrics}: must be host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464`);
  const log = createLogger({ name: 'model-server' });
  const registry = o.metrics === undefined ? undefined : new MetricsRegistry({ service: 'model-server' });
  const stopProcessMetrics = registry ? registerProcessMetrics(registry) : undefined;
  let server: ModelServer;
  try {
    server = await ModelServer.start({
      model: file,
      address,
      tls,
      token,
      threads,
      allowExtrapolation: o.allowExtrapolation,
      metrics: registry,
      logger: log,
    });
  } catch (err) {
    stopProcessMetrics?.();
    if (err instanceof ModelServerError && err.code === 'MODEL_INVALID') throw badInput('MODEL_INVALID', err.message);
    throw err;
  }
  let stopping = false;
  let observability: ObservabilityServer | undefined;
  if (registry && o.metrics !== undefined) {
    try {
      observability = await ObservabilityServer.start({ address: o.metrics, registry, ready: () => (stopping ? 'stopping' : undefined), logger: log });
    } catch (err) {
      stopProcessMetrics?.();
      await server.stop();
      throw err;
    }
  }
  const stopped = stopSignal(); // before the service says it is ready
  process.stdout.write(`${JSON.stringify({ url: server.url, model: file, spec: server.description.specName, inputs: server.description.inputNames, outputs: server.description.outputNames, extrapolation: server.description.extrapolationAllowed, ...(observability ? { metrics: `${observability.url}/metrics` } : {}) })}\n`);
  await stopped.received;
  log.info('stopping');
  stopping = true;
  await server.stop();
  await observability?.stop();
  stopProcessMetrics?.();
  return '';
}
