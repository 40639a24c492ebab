import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage, parseListenAddress, type Logger } from '@surrogate/core';
import { EXPOSITION_CONTENT_TYPE, type MetricsRegistry } from './metrics-registry';
import { ObservabilityError } from './observability-error';

/** Why a service is not ready, or undefined when it is. */
export type ReadinessCheck = () => string | undefined | Promise<string | undefined>;

export interface ObservabilityServerOptions {
  /** `host:port` (port 0 picks a free one). */
  address: string;
  registry: MetricsRegistry;
  /** Backs `/readyz`; without it the service is ready once it listens. */
  ready?: ReadinessCheck;
  logger?: Logger;
}

/**
 * The HTTP endpoint of a service for its operators: `GET /metrics` (Prometheus text format),
 * `GET /healthz` (200 while the process serves: liveness), `GET /readyz` (200 when the readiness
 * check passes, else 503 with the reason). Anything else is 404, other methods 405.
 */
export class ObservabilityServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly port: number,
  ) {}

  static async start(o: ObservabilityServerOptions): Promise<ObservabilityServer> {
    const at = parseListenAddress(o.address);
    if (!at)
      throw new ObservabilityError('METRICS_LISTEN_FAILED', `metrics address ${JSON.stringify(o.address)}: must be host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464`, {
        details: { field: 'address', value: o.address },
      });
    const server = createServer((req, res) => {
      void handle(req, res, o).catch((err: unknown) => {
        o.logger?.error({ err: errorMessage(err), path: req.url }, 'metrics endpoint failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => resolve((server.address() as AddressInfo).port));
    }).catch((err: unknown) => {
      throw new ObservabilityError('METRICS_LISTEN_FAILED', `cannot listen on ${o.address} for metrics: ${errorMessage(err)}`, { cause: err });
    });
    const host = at.host.includes(':') ? `[${at.host}]` : at.host;
    return new ObservabilityServer(server, `http://${host}:${port}`, port);
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, o: ObservabilityServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics, /healthz or /readyz\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  let status = 200;
  let body: string;
  let type = 'text/plain; charset=utf-8';
  if (path === '/metrics') {
    body = o.registry.exposition();
    type = EXPOSITION_CONTENT_TYPE;
  } else if (path === '/healthz') {
    body = 'ok\n';
  } else {
    const reason = o.ready ? await o.ready() : undefined;
    if (reason !== undefined) status = 503;
    body = reason === undefined ? 'ready\n' : `not ready: ${reason}\n`;
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
